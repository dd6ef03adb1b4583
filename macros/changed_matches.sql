{#-
    Incremental runs: the match ids whose documents (match stats, skill, film) were loaded after
    the newest `loaded_at` already in this model. A replaced match gets a new load time, so it is
    rebuilt; delete+insert on match_id then removes its stale rows.

    changed_match_ids() is what goes inside `match_id in (...)`. At run time the ids are looked up
    once (one small query) and inlined as literals: DuckDB pushes a constant IN list through the
    staging and intermediate views into the raw table scans and joins, so an update of 25 matches
    reads 25 matches, where `in (select ...)` joined every match of the player first. Above
    `inline_limit` ids (a large backfill; default: the var inline_match_ids_limit, 5000) it stays the
    subquery. Outside a run (parse, docs) it is the subquery too.
-#}
{% macro changed_match_ids_query() -%}
    select match_id
    from {{ ref('int_match_loads') }}
    where loaded_at > (
        select coalesce(max(loaded_at), cast('1900-01-01' as timestamp)) from {{ this }}
    )
{%- endmacro %}

{% macro changed_match_ids(inline_limit=none) -%}
    {{- inline_match_ids(changed_match_ids_query(), inline_limit) if halo_is_incremental() else changed_match_ids_query() -}}
{%- endmacro %}

{#- The matches an incremental match_stats run rewrites: the changed ones (above) and every match of the same owner
    that started at or after that owner's earliest changed match (a match's session and performance score depend on
    the owner's matches before it). All owners' rows of these matches are rewritten (delete+insert by match_id).
    {ids_sql, count}: ids_sql goes inside `match_id in (...)`, count is how many (0 outside a run). One list of
    ids, where `id in (...) or start_time >= ...` kept DuckDB from taking the filter down to the raw scans. A
    model calling it needs `-- depends_on:` refs of stg_halo__matches and int_owner_match_players (the refs are
    only rendered in incremental runs). -#}
{% macro halo_rewritten_matches(inline_limit=none) -%}
    {%- set changed = changed_match_ids_query() -%}
    {%- set query -%}
        with owner_matches as (
            select owner_players.owner_xuid, matches.match_id, matches.start_time
            from {{ ref('int_owner_match_players') }} as owner_players
            inner join {{ ref('stg_halo__matches') }} as matches
                on matches.match_id = owner_players.match_id
        ),
        earliest as (
            select owner_xuid, min(start_time) as start_time
            from owner_matches
            where match_id in ({{ changed }})
            group by owner_xuid
        )
        select distinct owner_matches.match_id
        from owner_matches
        inner join earliest
            on earliest.owner_xuid = owner_matches.owner_xuid
            and owner_matches.start_time >= earliest.start_time
        union
        select match_id from ({{ changed }}) as changed_ids
    {%- endset -%}
    {%- if not execute or not halo_is_incremental() -%}
        {{ return({'ids_sql': query, 'count': 0}) }}
    {%- endif -%}
    {{ return(match_ids_in(query, inline_limit)) }}
{%- endmacro %}

{#- The match ids a query returns, as SQL for `match_id in (...)`: inlined literals at run time (same reason as
    above), the query itself outside a run or above `inline_limit` ids. -#}
{% macro inline_match_ids(query, inline_limit=none) -%}
    {%- if not execute -%}
        {{ return(query) }}
    {%- endif -%}
    {{ return(match_ids_in(query, inline_limit).ids_sql) }}
{%- endmacro %}

{#- Runs the query: {ids_sql, count}, ids_sql its ids as literals ('null' when none), or the query itself above
    `inline_limit` ids (default: the var inline_match_ids_limit, 5000). -#}
{% macro match_ids_in(query, inline_limit=none) -%}
    {%- set inline_limit = var('inline_match_ids_limit', 5000) if inline_limit is none else inline_limit -%}
    {%- set rows = run_query(query) -%}
    {%- if rows | length > inline_limit -%}
        {{ return({'ids_sql': query, 'count': rows | length}) }}
    {%- endif -%}
    {%- set ids = [] -%}
    {%- for row in rows -%}
        {%- do ids.append("'" ~ (row[0] | replace("'", "''")) ~ "'") -%}
    {%- endfor -%}
    {{ return({'ids_sql': ids | join(', ') if ids else 'null', 'count': rows | length}) }}
{%- endmacro %}
