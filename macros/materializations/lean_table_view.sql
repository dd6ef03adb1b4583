{#-
    Lean `table` and `view` materializations for DuckDB (this project's override of dbt-duckdb's).

    dbt-duckdb builds a table as `<name>__dbt_tmp`, looks up its indexes and foreign keys, renames the
    old table to `__dbt_backup`, renames the new one into place, commits and drops the backup: six to
    eight statements and their dbt bookkeeping per model. DuckDB's DDL is transactional, so the same
    guarantee (readers see the old table or the new one, a failing build keeps the old one) comes from
    replacing the relation inside one transaction: here one statement for a view, a drop + create
    (+ insert) for a table. An enforced contract is checked on the table just created (halo_create_table
    below), inside the transaction; hooks, docs persistence and the relation cache behave as usual.
    Used by `dbt run/build` from the shell and by `halo build` alike. No grants, indexes or foreign
    keys are configured in this project (the adapter's versions handle those).
-#}
{% materialization halo_table, adapter='duckdb', supported_languages=['sql'] %}
  {%- set existing_relation = load_cached_relation(this) -%}
  {%- set target_relation = this.incorporate(type='table') -%}

  {% do halo_materialization_begin() %}

  {% call statement('main') -%}
    {%- if existing_relation is not none %}
    drop {{ existing_relation.type }} if exists {{ existing_relation }};
    {%- endif %}
    {{ halo_create_table(target_relation, compiled_code) }}
  {%- endcall %}
  {% do halo_enforce_contract(target_relation) %}

  {% do halo_materialization_end(target_relation) %}

  {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}


{% materialization halo_view, adapter='duckdb' %}
  {%- set existing_relation = load_cached_relation(this) -%}
  {%- set target_relation = this.incorporate(type='view') -%}

  {% do halo_materialization_begin() %}

  {% call statement('main') -%}
    {%- if existing_relation is not none and not existing_relation.is_view %}
    drop {{ existing_relation.type }} if exists {{ existing_relation }};
    {%- endif %}
    {%- if config.get('contract').enforced %}
    {{ get_assert_columns_equivalent(sql) }}
    {%- endif %}
    create or replace view {{ target_relation }} as (
      {{ sql }}
    );
  {%- endcall %}

  {% do halo_materialization_end(target_relation) %}

  {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}


{#-
    Lean `incremental` for DuckDB, SQL models: the same steps as dbt-duckdb's (new rows into a temporary
    table, on_schema_change, the configured strategy's SQL, one transaction), without what this project
    does not use: no `__dbt_tmp`/`__dbt_backup` swap on a full refresh (drop + create in the transaction,
    as the table materialization above), no expand_target_column_types (DuckDB has no sized types to
    widen), no index/foreign-key lookups; the temporary table is dropped in the main statement. An
    enforced contract is checked on the temporary table of new rows (same columns and types as the
    model's query), so the model's query is planned once, not twice.
-#}
{% materialization halo_incremental, adapter='duckdb', supported_languages=['sql'] -%}
  {%- set existing_relation = load_cached_relation(this) -%}
  {%- set target_relation = this.incorporate(type='table') -%}
  {%- set unique_key = config.get('unique_key') -%}
  {%- set full_refresh_mode = should_full_refresh() or (existing_relation is not none and existing_relation.is_view) -%}
  {%- set on_schema_change = incremental_validate_on_schema_change(config.get('on_schema_change'), default='ignore') -%}

  {% do halo_materialization_begin() %}

  {% if existing_relation is none or full_refresh_mode %}
    {%- set build_sql -%}
      {%- if existing_relation is not none %}
      drop {{ existing_relation.type }} if exists {{ existing_relation }};
      {%- endif %}
      {{ halo_create_table(target_relation, compiled_code) }}
    {%- endset -%}
  {% else %}
    {%- set temp_relation = make_temp_relation(target_relation) -%}
    {%- set create_temp -%}
      create temporary table {{ temp_relation }} as (
        {{ compiled_code }}
      )
    {%- endset -%}
    {% do run_query(create_temp) %}
    {#- the contract, checked on the new rows' table: its columns are the model query's, and describing a table
        does not plan the model's query a second time as create_table_as' check would -#}
    {%- if config.get('contract').enforced -%}
      {%- do get_assert_columns_equivalent('select * from ' ~ temp_relation) -%}
    {%- endif -%}
    {%- if on_schema_change == 'append_new_columns' and config.get('contract').enforced -%}
      {#- the new rows' columns are the yml's (the contract, checked above): for append_new_columns the schema
          changed only when the table lacks one of them, and then dbt's process_schema_changes adds it; else the
          rows go into the yml's columns. One look at the table's columns instead of dbt's two (the table's and the
          new rows'). -#}
      {#- the table's columns from DESCRIBE (the adapter's column schema of a query): get_columns_in_relation
          builds a macro context and an agate table for the same list. A name with a dot is a struct's field
          (the schema flattens structs): then the relation's own columns. -#}
      {%- set existing_columns = adapter.get_column_schema_from_query('select * from ' ~ existing_relation) -%}
      {%- if '.' in existing_columns | map(attribute='name') | join('') -%}
        {%- set existing_columns = adapter.get_columns_in_relation(existing_relation) -%}
      {%- endif -%}
      {%- set existing_names = existing_columns | map(attribute='name') | map('lower') | list -%}
      {%- set model_names = model['columns'].keys() | map('lower') | list -%}
      {%- if model_names | reject('in', existing_names) | list -%}
        {%- set dest_columns = process_schema_changes(on_schema_change, temp_relation, existing_relation) -%}
      {%- else -%}
        {%- set dest_columns = [] -%}
        {%- for col in existing_columns if col.name | lower in model_names -%}
          {%- do dest_columns.append(col) -%}
        {%- endfor -%}
      {%- endif -%}
    {%- else -%}
      {%- set dest_columns = process_schema_changes(on_schema_change, temp_relation, existing_relation) -%}
    {%- endif -%}
    {%- if not dest_columns -%}
      {%- set dest_columns = adapter.get_columns_in_relation(existing_relation) -%}
    {%- endif -%}
    {%- set strategy = config.get('incremental_strategy') or 'default' -%}
    {%- set strategy_sql_macro_func = adapter.get_incremental_strategy_macro(context, strategy) -%}
    {%- set strategy_arg_dict = ({
        'target_relation': target_relation, 'temp_relation': temp_relation, 'unique_key': unique_key,
        'dest_columns': dest_columns,
        'incremental_predicates': config.get('predicates', none) or config.get('incremental_predicates', none)}) -%}
    {%- set build_sql -%}
      {{ strategy_sql_macro_func(strategy_arg_dict) }};
      drop table if exists {{ temp_relation }};
    {%- endset -%}
  {% endif %}

  {% call statement('main') -%}
    {{ build_sql }}
  {%- endcall %}
  {% if existing_relation is none or full_refresh_mode %}
    {% do halo_enforce_contract(target_relation) %}
  {% endif %}

  {% do halo_materialization_end(target_relation) %}

  {{ return({'relations': [target_relation]}) }}
{%- endmaterialization %}


{#- What every materialization here does around its statements, in dbt's order: pre-hooks outside, then inside the
    transaction; after them post-hooks inside, docs persisted, commit, post-hooks outside. -#}
{% macro halo_materialization_begin() -%}
  {% do run_hooks(pre_hooks, inside_transaction=False) %}
  {% do run_hooks(pre_hooks, inside_transaction=True) %}
{%- endmacro %}

{% macro halo_materialization_end(relation) -%}
  {% do run_hooks(post_hooks, inside_transaction=True) %}
  {% do persist_docs(relation, model) %}
  {% do adapter.commit() %}
  {% do run_hooks(post_hooks, inside_transaction=False) %}
{%- endmacro %}


{#-
    create table `relation` as the model's query. With an enforced contract dbt-duckdb plans the query twice
    (once `where false limit 0` to compare its columns with the yml, once to create the table with the yml's
    column DDL, then insert); the bigger marts are views of views, whose planning costs as much as running them.
    Here the query is planned once and halo_enforce_contract then checks the created table, in the same
    transaction: same names, types and count as the yml or a contract error and nothing is committed; then it adds
    the contract's constraints (not_null, primary_key) to the table, as dbt-duckdb's DDL would have declared them.
-#}
{% macro halo_create_table(relation, sql) -%}
  create table {{ relation }} as (
    {{ sql }}
  );
{%- endmacro %}

{#- The contract's constraints on a table just created: column `not_null` and `primary_key`, model-level
    `primary_key` (columns: [...]). DuckDB checks them on the rows already there (a null or a duplicated key fails
    the build with DuckDB's constraint error) and on every later insert. Other constraint types are not used here. -#}
{% macro halo_add_constraints(relation) -%}
  {%- set statements = [] -%}
  {%- for name, column in (model.get('columns') or {}).items() -%}
    {%- for constraint in column.get('constraints') or [] -%}
      {%- if constraint['type'] == 'not_null' -%}
        {%- do statements.append('alter table ' ~ relation ~ ' alter column ' ~ name ~ ' set not null') -%}
      {%- elif constraint['type'] == 'primary_key' -%}
        {%- do statements.append('alter table ' ~ relation ~ ' add primary key (' ~ name ~ ')') -%}
      {%- else -%}
        {{ exceptions.raise_compiler_error("halo materializations: unsupported constraint " ~ constraint['type']) }}
      {%- endif -%}
    {%- endfor -%}
  {%- endfor -%}
  {%- for constraint in model.get('constraints') or [] -%}
    {%- if constraint['type'] == 'primary_key' -%}
      {%- do statements.append('alter table ' ~ relation ~ ' add primary key (' ~ constraint['columns'] | join(', ') ~ ')') -%}
    {%- else -%}
      {{ exceptions.raise_compiler_error("halo materializations: unsupported constraint " ~ constraint['type']) }}
    {%- endif -%}
  {%- endfor -%}
  {%- if statements -%}
    {% call statement('halo_constraints') -%}
      {{ statements | join(';\n') }};
    {%- endcall %}
  {%- endif -%}
{%- endmacro %}

{#- After halo_create_table: dbt's contract check (assert_columns_equivalent: names, count, types; order-free) on
    the created table; if its column order is not the yml's, the table is rewritten in the yml's order (as
    dbt-duckdb's contract DDL would have created it); then the contract's constraints (halo_add_constraints). -#}
{% macro halo_enforce_contract(relation) -%}
  {%- if not config.get('contract').enforced -%}
    {{ return(none) }}
  {%- endif -%}
  {%- set user_defined_columns = model['columns'] -%}
  {%- if not user_defined_columns -%}
    {{ exceptions.raise_contract_error([], []) }}
  {%- endif -%}
  {%- set sql_columns = format_columns(get_column_schema_from_query('select * from ' ~ relation)) -%}
  {%- set yaml_columns = format_columns(get_column_schema_from_query(get_empty_schema_sql(user_defined_columns))) -%}
  {%- if sql_columns | length != yaml_columns | length -%}
    {%- do exceptions.raise_contract_error(yaml_columns, sql_columns) -%}
  {%- endif -%}
  {%- for sql_col in sql_columns -%}
    {%- set yaml_col = yaml_columns | selectattr('name', 'equalto', sql_col['name']) | list -%}
    {%- if not yaml_col or sql_col['formatted'] != yaml_col[0]['formatted'] -%}
      {%- do exceptions.raise_contract_error(yaml_columns, sql_columns) -%}
    {%- endif -%}
  {%- endfor -%}
  {%- if (sql_columns | map(attribute='name') | list) != (yaml_columns | map(attribute='name') | list) -%}
    {%- set unordered = relation.incorporate(path={'identifier': relation.identifier ~ '__halo_unordered'}) -%}
    {% call statement('halo_contract_column_order') -%}
      alter table {{ relation }} rename to {{ unordered.identifier }};
      create table {{ relation }} as select
      {%- for column in user_defined_columns.values() %}
        {{ adapter.quote(column['name']) if column.get('quote') else column['name'] }}{{ ',' if not loop.last }}
      {%- endfor %}
      from {{ unordered }};
      drop table {{ unordered }};
    {%- endcall %}
  {%- endif -%}
  {% do halo_add_constraints(relation) %}
{%- endmacro %}


{#- is_incremental() for models materialized `halo_incremental` (dbt's own is_incremental() only knows
    `incremental`): the same test, the relation exists as a table and this is no full refresh. -#}
{% macro halo_is_incremental() -%}
  {#- Spark: halo_incremental builds the whole model each run (macros/materializations/spark.sql) -#}
  {%- if target.type == 'spark' -%}
    {{ return(False) }}
  {%- endif -%}
  {%- if model.config.materialized != 'halo_incremental' -%}
    {{ return(is_incremental()) }}
  {%- endif -%}
  {%- if not execute -%}
    {{ return(False) }}
  {%- endif -%}
  {%- set relation = adapter.get_relation(this.database, this.schema, this.table) -%}
  {{ return(relation is not none and relation.type == 'table' and not should_full_refresh()) }}
{%- endmacro %}
