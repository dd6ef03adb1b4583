{#-
    Incremental runs: the match ids whose documents (match stats, skill, film) were loaded after
    the newest `loaded_at` already in this model. A replaced match gets a new load time, so it is
    rebuilt; delete+insert on match_id then removes its stale rows.
-#}
{% macro changed_match_ids() -%}
    select match_id
    from {{ ref('int_match_loads') }}
    where loaded_at > (
        select coalesce(max(loaded_at), cast('1900-01-01' as timestamp)) from {{ this }}
    )
{%- endmacro %}
