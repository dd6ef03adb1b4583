{#-
    unique_key: no two rows share the values of `columns` (a composite key, e.g. owner_xuid + match_id).
    Like dbt's `unique` for one column: one failing row per duplicated key, with the key's columns and how many
    rows hold it (n_records), so `dbt test --store-failures` keeps the offending keys. Rows with a null in the key
    are left to the columns' not_null tests.
-#}
{% test unique_key(model, columns) %}
select
    {%- for column in columns %}
    {{ column }},
    {%- endfor %}
    count(*) as n_records
from {{ model }}
where
    {%- for column in columns %}
    {{ column }} is not null{{ ' and' if not loop.last }}
    {%- endfor %}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
