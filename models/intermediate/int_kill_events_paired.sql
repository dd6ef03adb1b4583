{{ config(materialized='halo_incremental', incremental_strategy='delete+insert', unique_key='match_id') }}
{#-
    Kill pairing (docs/definitions.md): a `kill` event of player A and a `death` event of player B (A <> B) in
    the same match within 5 ms form one kill A -> B. Each event pairs at most once; opponents
    (different last_team_id in the match) are preferred, then the smallest time gap, then the
    earliest events. One statement, two steps:
    1. Kills and deaths in the same millisecond between two sides (the kills of team K at t, whose only opponent
       team dying at t is V, and the deaths of team V at t, whose only opponent team killing at t is K) are the best
       candidates of each other and of nothing else: the i-th kill pairs with the i-th death (event order), exactly,
       for any number of them (8 opponents killed in one millisecond: 8 pairs).
    2. The other events are matched greedily in rounds: in each round every pair that is the best remaining choice
       of BOTH its kill and its death is kept (the best remaining candidate overall always is, so each round makes
       progress); {{ var('kill_pairing_rounds', 6) }} rounds cover any realistic burst of kills a few milliseconds
       apart or among several teams in one millisecond.
    Events left over are kept as `unpaired_kill` / `unpaired_death` rows: counted, not guessed.
    Incremental by match: only matches whose film or stats were (re)loaded are paired again.
-#}
{% set rounds = var('kill_pairing_rounds', 6) %}
{% set window_ms = var('kill_pairing_window_ms', 5) %}
{%- if halo_is_incremental() %}{% set changed_ids = changed_match_ids() %}{% endif %}
with

events as (
    select * from {{ ref('stg_halo__highlight_events') }}
    where event_type in ('kill', 'death')
    {% if halo_is_incremental() %}
      and match_id in ({{ changed_ids }})
    {% endif %}
),

players as (
    select * from {{ ref('stg_halo__match_players') }}
    where xuid is not null
    {% if halo_is_incremental() %}
      and match_id in ({{ changed_ids }})
    {% endif %}
),

loads as (
    select * from {{ ref('int_match_loads') }}
    {% if halo_is_incremental() %}
    where match_id in ({{ changed_ids }})
    {% endif %}
),

events_with_team as (
    select
        events.event_id,
        events.match_id,
        events.event_type,
        events.xuid,
        events.time_ms,
        events.event_index,
        players.team_id
    from events
    left join players
        on players.match_id = events.match_id
        and players.xuid = events.xuid
),

kills as (
    select * from events_with_team where event_type = 'kill'
),

deaths as (
    select * from events_with_team where event_type = 'death'
),

-- step 1: same millisecond, two sides. Per event: the other side's teams in its millisecond (a kill's dying
-- opponent teams, a death's killing opponent teams); an event with exactly one is ranked within its side.
{% for side, other, own_team, other_team, other_teams in [
    ('kills', 'deaths', 'killer_team_id', 'victim_team_id', 'victim_teams'),
    ('deaths', 'kills', 'victim_team_id', 'killer_team_id', 'killer_teams')] %}
ranked_{{ side }} as (
    select
        *,
        row_number() over (
            partition by match_id, time_ms, killer_team_id, victim_team_id order by event_index
        ) as side_rank
    from (
        select
            {{ side }}.match_id,
            {{ side }}.event_id,
            {{ side }}.xuid,
            {{ side }}.time_ms,
            {{ side }}.event_index,
            {{ side }}.team_id as {{ own_team }},
            min({{ other }}.team_id) as {{ other_team }},
            count(distinct {{ other }}.team_id) as {{ other_teams }}
        from {{ side }}
        inner join {{ other }}
            on {{ other }}.match_id = {{ side }}.match_id
            and {{ other }}.time_ms = {{ side }}.time_ms
            and {{ other }}.team_id <> {{ side }}.team_id
        group by {{ side }}.match_id, {{ side }}.event_id, {{ side }}.xuid, {{ side }}.time_ms,
            {{ side }}.event_index, {{ side }}.team_id
    ) as simultaneous
    where {{ other_teams }} = 1
),

{% endfor %}
simultaneous_pairs as (
    select
        ranked_kills.match_id,
        ranked_kills.event_id as kill_event_id,
        ranked_deaths.event_id as death_event_id,
        ranked_kills.xuid as killer_xuid,
        ranked_deaths.xuid as victim_xuid,
        ranked_kills.time_ms,
        true as is_opponent
    from ranked_kills
    inner join ranked_deaths
        on ranked_deaths.match_id = ranked_kills.match_id
        and ranked_deaths.time_ms = ranked_kills.time_ms
        and ranked_deaths.killer_team_id = ranked_kills.killer_team_id
        and ranked_deaths.victim_team_id = ranked_kills.victim_team_id
        and ranked_deaths.side_rank = ranked_kills.side_rank
),

-- step 2: every other candidate, in rounds
candidates as (
    select
        kills.match_id,
        kills.event_id as kill_event_id,
        deaths.event_id as death_event_id,
        kills.xuid as killer_xuid,
        deaths.xuid as victim_xuid,
        kills.time_ms,
        coalesce(kills.team_id <> deaths.team_id, false) as is_opponent,
        case when kills.team_id <> deaths.team_id then 0 else 1 end as team_preference,
        abs(kills.time_ms - deaths.time_ms) as gap_ms,
        kills.event_index as kill_index,
        deaths.event_index as death_index
    from kills
    inner join deaths
        on deaths.match_id = kills.match_id
        and deaths.xuid <> kills.xuid
        and deaths.time_ms between kills.time_ms - {{ window_ms }} and kills.time_ms + {{ window_ms }}
    where kills.event_id not in (select kill_event_id from simultaneous_pairs)
      and deaths.event_id not in (select death_event_id from simultaneous_pairs)
),

{{ kill_pairing_rounds(rounds) }}
paired as (
    select * from simultaneous_pairs
    union all
    select * from pairs_{{ rounds }}
),

{{ kill_pairing_outcomes() }}
final as (
    select
        coalesce(outcomes.kill_event_id, '-') || '>' || coalesce(outcomes.death_event_id, '-') as kill_pair_id,
        outcomes.match_id,
        outcomes.kill_event_id,
        outcomes.death_event_id,
        outcomes.killer_xuid,
        outcomes.victim_xuid,
        outcomes.time_ms,
        outcomes.is_opponent,
        outcomes.pairing_status,
        loads.loaded_at
    from outcomes
    left join loads
        on loads.match_id = outcomes.match_id
)

select * from final
