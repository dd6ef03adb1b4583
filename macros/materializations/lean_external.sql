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
    With `halo_write_changed_partitions: true` (a partitioned Parquet model), a run that is no full refresh, of a
    model built before, still computes every row, but writes only the partitions whose rows changed (their count or
    the sum of their rows' hashes differs from the files'), each replacing its folder's file of the same name; it
    rewrites the whole location as above when it cannot tell (halo_changed_partitions, below). An update of 25
    new matches then writes the one season they are in, not all of them.
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

  {#- halo_write_changed_partitions: a build that is no full refresh, of a model already built, rewrites only the
      partitions whose rows changed (halo_changed_partitions) -#}
  {%- set partition_by = rendered_options.get('partition_by') -%}
  {%- set changed_only = config.get('halo_write_changed_partitions', false) and partition_by and format == 'parquet'
        and existing_relation is not none and existing_relation.is_view and not should_full_refresh() -%}

  {% call statement('write_to_file') -%}
    {%- if config.get('contract').enforced %}
    {{ get_assert_columns_equivalent(compiled_code) }}
    {%- endif %}
    create temporary table {{ temp_relation }} as (
      {{ compiled_code }}
    );
    {%- if not changed_only %}
    copy {{ temp_relation }} to '{{ location }}' ({{ write_options }});
    drop table {{ temp_relation }};
    {%- endif %}
  {%- endcall %}
  {%- if changed_only %}
    {%- set changed = halo_changed_partitions(temp_relation, read_location, partition_by) -%}
    {%- set partial_options = {} -%}
    {%- for key, value in rendered_options.items() if key not in ['overwrite', 'overwrite_or_ignore'] -%}
      {%- do partial_options.update({key: value}) -%}
    {%- endfor -%}
    {%- do partial_options.update({'overwrite_or_ignore': 'true'}) -%}
    {% call statement('write_changed_partitions') -%}
      {%- if changed is none %}
      copy {{ temp_relation }} to '{{ location }}' ({{ write_options }});
      {%- elif changed %}
      copy (
        select * from {{ temp_relation }}
        where cast({{ partition_by }} as varchar) in (
          {%- for value in changed %}'{{ value | replace("'", "''") }}'{{ ', ' if not loop.last }}{% endfor -%})
      ) to '{{ location }}' ({{ adapter.external_write_options(location, partial_options) }});
      {%- endif %}
      drop table {{ temp_relation }};
    {%- endcall %}
  {%- endif %}

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


{#- The partitions (values of the one column `partition_by`) whose rows in `temp_relation` differ from those in the
    Parquet files at `read_location` (hive-style folders): a different row count or sum of row hashes. none when the
    whole location must be rewritten: several partition columns, no files, files whose columns are not the model's,
    a partition holding other than one file, or a partition in the files that the new rows no longer have (COPY ... OVERWRITE_OR_IGNORE replaces a
    partition's file of the same name, and deletes nothing). -#}
{% macro halo_changed_partitions(temp_relation, read_location, partition_by) -%}
  {%- if ',' in partition_by -%}
    {{ return(none) }}
  {%- endif -%}
  {%- set column = partition_by | trim -%}
  {%- set files = run_query("select count(*) from glob('" ~ read_location ~ "')")[0][0] -%}
  {%- if files == 0 -%}
    {{ return(none) }}
  {%- endif -%}
  {#- both column lists from DESCRIBE (the adapter's column schema of a query: no macro context, no agate table) -#}
  {%- set new_columns = adapter.get_column_schema_from_query('select * from ' ~ temp_relation)
        | map(attribute='name') | list -%}
  {%- set stored_columns = adapter.get_column_schema_from_query("select * from read_parquet('" ~ read_location
        ~ "', hive_partitioning = true, hive_types_autocast = false)") | map(attribute='name') | list -%}
  {%- if new_columns | map('lower') | sort | list != stored_columns | map('lower') | sort | list -%}
    {{ return(none) }}  {#- the model's columns changed since the files were written: nothing to compare -#}
  {%- endif -%}
  {%- set data_columns = [] -%}
  {%- for name in new_columns if name | lower != column | lower -%}
    {%- do data_columns.append(adapter.quote(name)) -%}
  {%- endfor -%}
  {%- set rows = run_query(
      "with stored as (select cast(" ~ column ~ " as varchar) as part, count(*) as n, sum(hash(row("
      ~ data_columns | join(', ') ~ "))) as h from read_parquet('" ~ read_location
      ~ "', hive_partitioning = true, hive_types_autocast = false) group by 1), "
      ~ "fresh as (select cast(" ~ column ~ " as varchar) as part, count(*) as n, sum(hash(row("
      ~ data_columns | join(', ') ~ "))) as h from " ~ temp_relation ~ " group by 1) "
      ~ "select coalesce(fresh.part, stored.part) as part, fresh.part is null as gone, "
      ~ "(select count(*) from stored) as stored_parts "
      ~ "from fresh full outer join stored on stored.part = fresh.part "
      ~ "where fresh.n is distinct from stored.n or fresh.h is distinct from stored.h "
      ~ "union all select null, false, (select count(*) from stored)") -%}
  {%- set changed = [] -%}
  {%- for row in rows -%}
    {%- if row[2] != files or row[1] -%}
      {{ return(none) }}
    {%- endif -%}
    {%- if row[0] is not none -%}
      {%- do changed.append(row[0]) -%}
    {%- endif -%}
  {%- endfor -%}
  {{ return(changed) }}
{%- endmacro %}
