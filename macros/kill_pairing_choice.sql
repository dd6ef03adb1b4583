{#- Kill pairing (models/intermediate/int_kill_events_paired.sql): a candidate's (team preference, gap, event index)
    as one sortable BIGINT, so that min() picks the best candidate on any engine: preference 0/1, gap 0 to the
    window (at most 999 ms), event index below 10^9. -#}
{% macro kill_pairing_choice(team_preference, gap_ms, event_index) -%}
    ((cast({{ team_preference }} as {{ dbt.type_bigint() }}) * 1000 + {{ gap_ms }}) * 1000000000 + {{ event_index }})
{%- endmacro %}
