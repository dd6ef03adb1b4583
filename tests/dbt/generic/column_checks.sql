{#-
    column_checks: several column assertions of one model in ONE test node and one scan of the model
    (a dbt build runs one node per test; one per model instead of one per column and assertion
    saves ~0.1 s of dbt overhead per assertion). The assertions are dbt's built-in ones, same semantics:

      not_null: [col, ...]                  no row where col is null
      unique: [col or expression, ...]      no non-null value twice (nulls ignored, as dbt's `unique`)
      accepted_values: {col: [v, ...]}      no non-null value outside the list (strings quoted, numbers not)
      relationships:                        every non-null col is a `field` of `to`
        - {column: col, to: "ref('x')", field: y}

    Returns one row per failing assertion (test_name, column_name, failing_rows); the test passes on none.
-#}
{% test column_checks(model, not_null=[], unique=[], accepted_values={}, relationships=[]) %}
{%- set counts = [] -%}
{%- for column in not_null -%}
    {%- do counts.append(('not_null', column, 'sum(case when ' ~ column ~ ' is null then 1 else 0 end)')) -%}
{%- endfor -%}
{%- for column in unique -%}
    {%- do counts.append(('unique', column, 'count(' ~ column ~ ') - count(distinct ' ~ column ~ ')')) -%}
{%- endfor -%}
{%- for column, values in accepted_values.items() -%}
    {%- set literals = [] -%}
    {%- for value in values -%}
        {%- do literals.append("'" ~ (value | replace("'", "''")) ~ "'" if value is string else value | string) -%}
    {%- endfor -%}
    {%- do counts.append(('accepted_values', column,
        'sum(case when ' ~ column ~ ' not in (' ~ literals | join(', ') ~ ') then 1 else 0 end)')) -%}
{%- endfor -%}
with
{% if counts %}
counts as (
    select
    {%- for check in counts %}
        {{ check[2] }} as check_{{ loop.index }}{{ ',' if not loop.last }}
    {%- endfor %}
    from {{ model }}
),
{% endif %}
failures as (
    {%- for check in counts %}
    select '{{ check[0] }}' as test_name, '{{ check[1] | replace("'", "''") }}' as column_name,
        check_{{ loop.index }} as failing_rows
    from counts
    {{ 'union all' if not loop.last or relationships }}
    {%- endfor %}
    {%- for rel in relationships %}
    select 'relationships' as test_name, '{{ rel.column }} -> {{ rel.field }}' as column_name,
        count(*) as failing_rows
    from (select {{ rel.column }} as from_field from {{ model }} where {{ rel.column }} is not null) as child
    left join (select {{ rel.field }} as to_field from {{ rel.to }}) as parent
        on child.from_field = parent.to_field
    where parent.to_field is null
    {{ 'union all' if not loop.last }}
    {%- endfor %}
)
select * from failures where failing_rows > 0
{% endtest %}
