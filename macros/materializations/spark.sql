{#-
    The project's materializations on Spark (the `spark` target, dbt-spark): the DuckDB ones
    (lean_table_view.sql, lean_external.sql) are DuckDB-only, so the same names here hand over to dbt-spark's own.
    - halo_table -> dbt-spark's `table` (Parquet, dbt-spark's default file_format);
    - halo_view -> dbt-spark's `table` too: Spark analyses a view's whole definition again wherever it is read,
      and the project's chain of views (staging -> intermediate -> marts, with self-joins of the same views) made
      Spark's analyzer spend minutes per model de-duplicating relations (DeduplicateRelations) on a small
      machine; a table is one relation to read. The data is small next to the marts (a few seconds per model);
    - halo_incremental -> dbt-spark's `table`: the models' incremental strategy is delete+insert by match_id, a
      row-level delete that plain Parquet does not have (Delta or Iceberg would, and their jars cannot be fetched
      here); insert_overwrite would need a partition column per match in every mart. So on Spark every run builds
      these models whole (halo_is_incremental() is false on Spark: the models' SQL selects every row) and the
      marts hold the same rows as an incremental DuckDB build.
    - halo_external (the Parquet season archive): not built on Spark (models/archive is disabled there: the marts
      are already Parquet tables under the Spark warehouse folder).
-#}
{% materialization halo_view, adapter='spark' %}
  {{ return(materialization_table_spark()) }}
{% endmaterialization %}

{% materialization halo_table, adapter='spark', supported_languages=['sql'] %}
  {{ return(materialization_table_spark()) }}
{% endmaterialization %}

{% materialization halo_incremental, adapter='spark', supported_languages=['sql'] %}
  {{ return(materialization_table_spark()) }}
{% endmaterialization %}
