-- Latest known gamertag per XUID. The match data has no gamertags: they come from film highlight
-- events (seen at their match's start) and profile lookups (seen when looked up, the file's time): the newest
-- sighting wins; for the owner, raw.owner.
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

profiles as (
    select * from {{ ref('stg_halo__profile_users') }}
),

sightings as (
    -- film events: seen at the match start (then event index); profile lookups: seen at the lookup (index -1)
    select
        events.xuid,
        events.gamertag,
        matches.start_time,
        events.event_index
    from events
    inner join matches
        on matches.match_id = events.match_id
    where events.xuid is not null
      and events.gamertag is not null
      and events.gamertag <> ''

    union all

    select
        profiles.xuid,
        profiles.gamertag,
        profiles.observed_at as start_time,
        -1 as event_index
    from profiles
    where profiles.xuid is not null
      and profiles.gamertag is not null
      and profiles.gamertag <> ''
),

latest as (
    -- the gamertag of the newest sighting per xuid (time, then event index): macros/latest_gamertags.sql
    {{ latest_gamertags('sightings') }}
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
