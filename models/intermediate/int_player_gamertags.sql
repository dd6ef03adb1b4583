-- Latest known gamertag per XUID. The match data has no gamertags: they come from film highlight
-- events (the newest match wins) and, for the owner, from raw.owner.
with

owner as (
    select * from {{ ref('stg_halo__owner') }}
),

events as (
    select * from {{ ref('stg_halo__highlight_events') }}
),

matches as (
    select * from {{ ref('stg_halo__matches') }}
),

named_events as (
    select
        events.xuid,
        events.gamertag,
        events.event_index,
        matches.start_time
    from events
    inner join matches
        on matches.match_id = events.match_id
    where events.xuid is not null
      and events.gamertag is not null
      and events.gamertag <> ''
),

latest as (
    -- the gamertag of the newest event per xuid (match start, then event index): macros/latest_gamertags.sql
    {{ latest_gamertags('named_events') }}
),

final as (
    select
        coalesce(owner.xuid, latest.xuid) as xuid,
        coalesce(owner.gamertag, latest.gamertag) as gamertag,
        owner.xuid is not null as is_owner,
        latest.seen_at
    from latest
    full outer join owner
        on owner.xuid = latest.xuid
)

select * from final
