{#-
    Lean `external` materialization for DuckDB, SQL models (this project's override of dbt-duckdb's; used by
    match_stats_season_archive).

    dbt-duckdb writes an external model in about ten statements, each with dbt's bookkeeping: the query into a
    `__dbt_tmp` table, a row count, the COPY, a view `__dbt_int` over the files, renames to and from
    `__dbt_backup`, drops. Here: the query into a TEMPORARY table (so a failing query stops the build before any
    file is touched), its COPY to the location with the configured options, then the view over the files,
    replaced in the same transaction. Location, write and read options are dbt-duckdb's own macros and adapter
    methods, so the files and the view are the same. When the query returns no rows there are no files to read:
    the view is then the model's query with no rows (same columns and types), where dbt-duckdb writes a row of
    NULLs and filters it out. Hooks, docs persistence and the relation cache behave as usual; no plugins or Glue
    registration (this project uses neither).
-#}
{% materialization halo_external, adapter="duckdb", supported_languages=['sql'] %}
  {%- set location = render(config.get('location', default=external_location(this, config))) -%}
  {%- set rendered_options = render_write_options(config) -%}
  {%- set write_options = adapter.external_write_options(location, rendered_options) -%}
  {%- set format = config.get('format') or (rendered_options['format'] | lower) -%}
  {%- if format not in ['csv', 'parquet', 'json'] -%}
    {{ exceptions.raise_compiler_error("Invalid format: " ~ format ~ ". Allowed formats are: csv, parquet, json") }}
  {%- endif -%}
  {%- set read_location = adapter.external_read_location(location, rendered_options) -%}
  {%- set read_options = {
      'parquet': config.get('parquet_read_options', {'union_by_name': False}),
      'json': config.get('json_read_options', {'auto_detect': True}),
      'csv': config.get('csv_read_options', {'auto_detect': True})}[format] -%}
  {%- if format != 'parquet' and rendered_options.get('compression') and 'compression' not in read_options -%}
    {%- set read_options = dict(read_options, compression=rendered_options['compression']) -%}
  {%- endif -%}

  {%- set existing_relation = load_cached_relation(this) -%}
  {%- set target_relation = this.incorporate(type='view') -%}
  {%- set temp_relation = make_temp_relation(this.incorporate(type='table')) -%}

  {% do halo_materialization_begin() %}

  {% call statement('write_to_file') -%}
    {%- if config.get('contract').enforced %}
    {{ get_assert_columns_equivalent(compiled_code) }}
    {%- endif %}
    create temporary table {{ temp_relation }} as (
      {{ compiled_code }}
    );
    copy {{ temp_relation }} to '{{ location }}' ({{ write_options }});
    drop table {{ temp_relation }};
  {%- endcall %}

  {%- set files = run_query("select count(*) from glob('" ~ read_location ~ "')")[0][0] -%}
  {% call statement('main') -%}
    {%- if existing_relation is not none and not existing_relation.is_view %}
    drop {{ existing_relation.type }} if exists {{ existing_relation }};
    {%- endif %}
    create or replace view {{ target_relation }} as (
    {%- if files > 0 %}
      select * from read_{{ format }}('{{ read_location }}'
      {%- for key, value in read_options.items() -%}
        , {{ key }}={{ "'" ~ value ~ "'" if value is string else value }}
      {%- endfor -%}
      )
    {%- else %}
      select * from (
        {{ compiled_code }}
      ) where false
    {%- endif %}
    );
  {%- endcall %}

  {% do halo_materialization_end(target_relation) %}

  {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}
