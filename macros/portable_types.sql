{#-
    Type names the marts cast to, for every engine the models are written for (DuckDB today, Spark SQL next).
    dbt's own cross-database macros cover strings (dbt.type_string), integers (dbt.type_int, dbt.type_bigint) and
    timestamps; dbt.type_float() is a 4-byte FLOAT on DuckDB and Spark alike, so 8-byte floats have this one.
    default__: DOUBLE (Spark SQL, DuckDB, Trino, Snowflake, Databricks); ANSI's DOUBLE PRECISION is not Spark SQL.
-#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    double
{%- endmacro %}
