{#- Kill pairing (models/intermediate/int_kill_events_paired.sql): a candidate's (team preference, gap, event index)
    as one sortable BIGINT, so that min() picks the best candidate on any engine: preference 0/1, gap 0 to the
    window (at most 999 ms), event index below 10^9. -#}
{% macro kill_pairing_choice(team_preference, gap_ms, event_index) -%}
    ((cast({{ team_preference }} as {{ dbt.type_bigint() }}) * 1000 + {{ gap_ms }}) * 1000000000 + {{ event_index }})
{%- endmacro %}


{#- Step 2 of the kill pairing (models/intermediate/int_kill_events_paired.sql): CTEs open_1 .. pairs_<rounds> over
    the CTE `candidates`, ending with a comma; pairs_<rounds> holds every pair of every round (match_id,
    kill_event_id, death_event_id, killer_xuid, victim_xuid, time_ms, is_opponent). -#}
{% macro kill_pairing_rounds(rounds) -%}
    {{ return(adapter.dispatch('kill_pairing_rounds')(rounds)) }}
{%- endmacro %}

{#- DuckDB: each round's open candidates are the candidates minus the pairs so far (anti-joins), the best of each
    event a grouped min. -#}
{% macro duckdb__kill_pairing_rounds(rounds) %}
{% for round in range(1, rounds + 1) %}
open_{{ round }} as (
    select *
    from candidates
    {% if round > 1 %}
    where kill_event_id not in (select kill_event_id from pairs_{{ round - 1 }})
      and death_event_id not in (select death_event_id from pairs_{{ round - 1 }})
    {% endif %}
),

-- the best remaining death of each kill and the best remaining kill of each death: (opponent first, smallest
-- gap, earliest event) is unique per event (event indexes are), so a min over that key (one number:
-- kill_pairing_choice) picks exactly what a row_number() = 1 over the same order would, with a hash aggregate
-- instead of a sort
best_death_{{ round }} as (
    select
        kill_event_id,
        min({{ kill_pairing_choice('team_preference', 'gap_ms', 'death_index') }}) as choice
    from open_{{ round }}
    group by kill_event_id
),

best_kill_{{ round }} as (
    select
        death_event_id,
        min({{ kill_pairing_choice('team_preference', 'gap_ms', 'kill_index') }}) as choice
    from open_{{ round }}
    group by death_event_id
),

pairs_{{ round }} as (
    {% if round > 1 %}
    select * from pairs_{{ round - 1 }}
    union all
    {% endif %}
    select
        open_{{ round }}.match_id,
        open_{{ round }}.kill_event_id,
        open_{{ round }}.death_event_id,
        open_{{ round }}.killer_xuid,
        open_{{ round }}.victim_xuid,
        open_{{ round }}.time_ms,
        open_{{ round }}.is_opponent
    from open_{{ round }}
    inner join best_death_{{ round }}
        on best_death_{{ round }}.kill_event_id = open_{{ round }}.kill_event_id
        and best_death_{{ round }}.choice = {{ kill_pairing_choice(
            'open_' ~ round ~ '.team_preference', 'open_' ~ round ~ '.gap_ms', 'open_' ~ round ~ '.death_index') }}
    inner join best_kill_{{ round }}
        on best_kill_{{ round }}.death_event_id = open_{{ round }}.death_event_id
        and best_kill_{{ round }}.choice = {{ kill_pairing_choice(
            'open_' ~ round ~ '.team_preference', 'open_' ~ round ~ '.gap_ms', 'open_' ~ round ~ '.kill_index') }}
),

{% endfor %}
{% endmacro %}

{#- Other engines (Spark): the same rounds as one chain in which each round reads the previous one once: the best
    remaining candidate of each kill and of each death are window minimums over the candidates still open, and a
    round marks its pairs and the candidates whose kill or death they took. In the DuckDB form each round reads the
    previous pairs twice (anti-joins) and the pairs again (union): Spark's planner copies a CTE at each reference, so
    that plan doubles with every round (out of memory at 6 rounds); this one grows by one step per round. -#}
{% macro default__kill_pairing_rounds(rounds) %}
{%- set columns = 'match_id, kill_event_id, death_event_id, killer_xuid, victim_xuid, time_ms, is_opponent, '
                  ~ 'team_preference, gap_ms, kill_index, death_index' %}
round_0 as (
    select
        {{ columns }},
        {{ kill_pairing_choice('team_preference', 'gap_ms', 'death_index') }} as death_choice,
        {{ kill_pairing_choice('team_preference', 'gap_ms', 'kill_index') }} as kill_choice,
        cast(null as {{ dbt.type_int() }}) as pair_round,
        false as is_taken
    from candidates
),

{% for round in range(1, rounds + 1) %}
-- a pair of this round: open, and the best open candidate of both its kill and its death
best_{{ round }} as (
    select
        *,
        not is_taken
            and death_choice = min(case when not is_taken then death_choice end) over (partition by kill_event_id)
            and kill_choice = min(case when not is_taken then kill_choice end) over (partition by death_event_id)
            as is_pair
    from round_{{ round - 1 }}
),

-- taken: paired in this round or before, or its kill or death was
round_{{ round }} as (
    select
        {{ columns }},
        death_choice,
        kill_choice,
        case when is_pair then {{ round }} else pair_round end as pair_round,
        is_taken
            or max(case when is_pair then 1 else 0 end) over (partition by kill_event_id) = 1
            or max(case when is_pair then 1 else 0 end) over (partition by death_event_id) = 1 as is_taken
    from best_{{ round }}
),

{% endfor %}
pairs_{{ rounds }} as (
    select match_id, kill_event_id, death_event_id, killer_xuid, victim_xuid, time_ms, is_opponent
    from round_{{ rounds }}
    where pair_round is not null
),
{% endmacro %}


{#- The end of the kill pairing (models/intermediate/int_kill_events_paired.sql): CTE `outcomes` (ending with a
    comma) over `paired`, `kills` and `deaths`: every pair, and every kill or death no pair took as an
    `unpaired_kill` / `unpaired_death` row. -#}
{% macro kill_pairing_outcomes() -%}
    {{ return(adapter.dispatch('kill_pairing_outcomes')()) }}
{%- endmacro %}

{#- DuckDB: the events no pair took by anti-joins with the pairs. -#}
{% macro duckdb__kill_pairing_outcomes() %}
outcomes as (
{{ kill_pairing_outcome_rows(anti_joins=true) }}
),
{% endmacro %}

{#- Other engines (Spark): the same rows, `paired` read once. Spark's planner copies a CTE at each reference, and
    `paired` holds the whole chain of rounds: the two anti-joins of the DuckDB form plan and run it three times.
    Here the pairs and every kill and death are one union, and a kill or death row is kept when no pair of the
    union has its event (a window maximum per kill event and per death event). -#}
{% macro default__kill_pairing_outcomes() %}
outcome_rows as (
{{ kill_pairing_outcome_rows(anti_joins=false) }}
),

outcomes_flagged as (
    select
        *,
        max(case when pairing_status = 'paired' then 1 else 0 end) over (partition by kill_event_id) as kill_taken,
        max(case when pairing_status = 'paired' then 1 else 0 end) over (partition by death_event_id) as death_taken
    from outcome_rows
),

outcomes as (
    select match_id, kill_event_id, death_event_id, killer_xuid, victim_xuid, time_ms, is_opponent, pairing_status
    from outcomes_flagged
    where pairing_status = 'paired'
        or (pairing_status = 'unpaired_kill' and kill_taken = 0)
        or (pairing_status = 'unpaired_death' and death_taken = 0)
),
{% endmacro %}

{#- The pairs, then every kill and every death as an unpaired row; with `anti_joins`, only those no pair took. -#}
{% macro kill_pairing_outcome_rows(anti_joins) %}
    select
        match_id,
        kill_event_id,
        death_event_id,
        killer_xuid,
        victim_xuid,
        time_ms,
        is_opponent,
        'paired' as pairing_status
    from paired

    union all

    select
        match_id,
        event_id as kill_event_id,
        cast(null as {{ dbt.type_string() }}) as death_event_id,
        xuid as killer_xuid,
        cast(null as {{ dbt.type_bigint() }}) as victim_xuid,
        time_ms,
        cast(null as {{ dbt.type_boolean() }}) as is_opponent,
        'unpaired_kill' as pairing_status
    from kills
    {% if anti_joins %}where event_id not in (select kill_event_id from paired){% endif %}

    union all

    select
        match_id,
        cast(null as {{ dbt.type_string() }}) as kill_event_id,
        event_id as death_event_id,
        cast(null as {{ dbt.type_bigint() }}) as killer_xuid,
        xuid as victim_xuid,
        time_ms,
        cast(null as {{ dbt.type_boolean() }}) as is_opponent,
        'unpaired_death' as pairing_status
    from deaths
    {% if anti_joins %}where event_id not in (select death_event_id from paired){% endif %}
{% endmacro %}
