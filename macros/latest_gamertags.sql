{#-
    Per xuid of `events` (columns xuid, gamertag, start_time, event_index): the gamertag of the newest event (latest
    match start, then highest event index) and when it was seen (that match's start). Columns xuid, gamertag,
    seen_at.
-#}
{% macro latest_gamertags(events) -%}
    {{ return(adapter.dispatch('latest_gamertags')(events)) }}
{%- endmacro %}

{#- DuckDB: one hash aggregate (arg_max over a struct key), no sort of the events. -#}
{% macro duckdb__latest_gamertags(events) -%}
    select
        xuid,
        arg_max(gamertag, struct_pack(start_time := start_time, event_index := event_index)) as gamertag,
        max(start_time) as seen_at
    from {{ events }}
    group by xuid
{%- endmacro %}

{#- ANSI: the first row per xuid in (start_time, event_index) descending order. -#}
{% macro default__latest_gamertags(events) -%}
    select xuid, gamertag, start_time as seen_at
    from (
        select
            xuid,
            gamertag,
            start_time,
            row_number() over (partition by xuid order by start_time desc, event_index desc) as newest
        from {{ events }}
    ) as ordered
    where newest = 1
{%- endmacro %}
