{#-
    Incremental runs: the match ids whose documents (match stats, skill, film) were loaded after
    the newest `loaded_at` already in this model. A replaced match gets a new load time, so it is
    rebuilt; delete+insert on match_id then removes its stale rows.

    changed_match_ids() is what goes inside `match_id in (...)`. At run time the ids are looked up
    once (one small query) and inlined as literals: DuckDB pushes a constant IN list through the
    staging and intermediate views into the raw table scans and joins, so an update of 25 matches
    reads 25 matches, where `in (select ...)` joined every match of the player first. Above
    `inline_limit` ids (a large backfill) it stays the subquery. Outside a run (parse, docs) it is
    the subquery too.
-#}
{% macro changed_match_ids_query() -%}
    select match_id
    from {{ ref('int_match_loads') }}
    where loaded_at > (
        select coalesce(max(loaded_at), cast('1900-01-01' as timestamp)) from {{ this }}
    )
{%- endmacro %}

{% macro changed_match_ids(inline_limit=5000) -%}
    {{- inline_match_ids(changed_match_ids_query(), inline_limit) if is_incremental() else changed_match_ids_query() -}}
{%- endmacro %}

{#- {ids_sql, earliest_start_sql}: the changed ids (literals or a subquery) and the earliest start time of
    those matches (a literal, null when none changed, or a subquery). A model calling it needs
    `-- depends_on: {{ ref('stg_halo__matches') }}` (the ref is only rendered in incremental runs). -#}
{% macro halo_changed_matches(inline_limit=5000) -%}
    {%- set subquery = changed_match_ids_query() -%}
    {%- set earliest = '(select min(start_time) from ' ~ ref('stg_halo__matches')
                       ~ ' where match_id in (' ~ subquery ~ '))' -%}
    {%- if not execute or not is_incremental() -%}
        {{ return({'ids_sql': subquery, 'earliest_start_sql': earliest}) }}
    {%- endif -%}
    {%- set rows = run_query(
        'select changed.match_id, epoch_us(matches.start_time) as start_us from (' ~ subquery ~ ') as changed '
        ~ 'left join ' ~ ref('stg_halo__matches') ~ ' as matches on matches.match_id = changed.match_id') -%}
    {%- if rows | length > inline_limit -%}
        {{ return({'ids_sql': subquery, 'earliest_start_sql': earliest}) }}
    {%- endif -%}
    {%- set ids = [] -%}
    {%- set starts = [] -%}
    {%- for row in rows -%}
        {%- do ids.append("'" ~ (row[0] | replace("'", "''")) ~ "'") -%}
        {%- if row[1] is not none -%}{%- do starts.append(row[1] | int) -%}{%- endif -%}
    {%- endfor -%}
    {{ return({
        'ids_sql': ids | join(', ') if ids else 'null',
        'earliest_start_sql': "make_timestamp(" ~ (starts | min) ~ ")" if starts else 'cast(null as timestamp)',
    }) }}
{%- endmacro %}

{#- The match ids a query returns, as SQL for `match_id in (...)`: inlined literals at run time (same reason as
    above), the query itself outside a run or above `inline_limit` ids. -#}
{% macro inline_match_ids(query, inline_limit=5000) -%}
    {%- if not execute -%}
        {{ return(query) }}
    {%- endif -%}
    {%- set rows = run_query(query) -%}
    {%- if rows | length > inline_limit -%}
        {{ return(query) }}
    {%- endif -%}
    {%- set ids = [] -%}
    {%- for row in rows -%}
        {%- do ids.append("'" ~ (row[0] | replace("'", "''")) ~ "'") -%}
    {%- endfor -%}
    {{ return(ids | join(', ') if ids else 'null') }}
{%- endmacro %}

{#- How many of the owner's matches an incremental match_stats run rewrites (halo_changed_matches' ids, or a start
    at or after the earliest of them); 0 outside a run. -#}
{% macro halo_count_matches(changed) -%}
    {%- if not execute -%}
        {{ return(0) }}
    {%- endif -%}
    {%- set rows = run_query('select count(*) from ' ~ ref('stg_halo__matches') ~ ' where match_id in ('
                             ~ changed.ids_sql ~ ') or start_time >= ' ~ changed.earliest_start_sql) -%}
    {{ return(rows[0][0] | int) }}
{%- endmacro %}
