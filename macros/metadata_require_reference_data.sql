{#- on-run-start check: stop with a clear message when reference data was never loaded or built.
    metadata target: the loader's raw tables must exist (else a missing `raw.*` source fails later).
    player and warehouse targets: the attached `meta` database must hold the metadata models; the warehouse's raw
    schema (views over the lake) must exist. -#}
{% macro metadata_require_reference_data() %}
    {%- if execute and target.name == 'metadata' -%}
        {%- set found = run_query(
            "select count(*) from information_schema.tables "
            ~ "where table_catalog = current_database() and table_schema = 'raw' and table_name = 'documents'"
        ) -%}
        {%- if found.columns[0].values()[0] == 0 -%}
            {{ exceptions.raise_compiler_error(
                "no reference data in " ~ target.path ~ ": load reference data first "
                ~ "(halo load reference PATH...), then run `dbt build --target metadata` again"
            ) }}
        {%- endif -%}
    {%- elif execute and target.name in ('player', 'warehouse') -%}
        {%- if target.name == 'player' and env_var('HALO_PLAYER_DB', '') == '' -%}
            {{ exceptions.raise_compiler_error(
                "HALO_PLAYER_DB is not set: point it at a player's database, e.g. "
                ~ "export HALO_PLAYER_DB=data/players/<player-dir>/stats.duckdb (README, Running dbt directly)"
            ) }}
        {%- endif -%}
        {%- set found = run_query(
            "select count(*) from information_schema.tables "
            ~ "where table_catalog = 'meta' and table_schema = 'main' and table_name = 'medal_definitions'"
        ) -%}
        {%- if target.name == 'warehouse' -%}
            {%- set lake = run_query(
                "select count(*) from information_schema.tables "
                ~ "where table_catalog = current_database() and table_schema = 'raw' and table_name = 'matches'"
            ) -%}
            {%- if lake.columns[0].values()[0] == 0 -%}
                {{ exceptions.raise_compiler_error(
                    "the warehouse " ~ target.path ~ " has no raw views over the lake: run halo build --warehouse "
                    ~ "(it exports the lake and creates them), then dbt build --target warehouse"
                ) }}
            {%- endif -%}
        {%- endif -%}
        {%- if found.columns[0].values()[0] == 0 -%}
            {{ exceptions.raise_compiler_error(
                "the metadata database (attached as meta) has no metadata models: load reference data first "
                ~ "(halo load reference PATH...), then run `dbt build --target metadata`"
            ) }}
        {%- endif -%}
    {%- endif -%}
{% endmacro %}
