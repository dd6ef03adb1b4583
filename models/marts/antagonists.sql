-- One row per owner, human who played against that owner and experience (pvp_matchmade, pvp_custom, pve): kills
-- either way (from paired film events of opponents), matches against, first/last encounter, latest gamertag.
with

participants as (
    select * from {{ ref('int_match_participants_related') }}
),

kill_pairs as (
    select * from {{ ref('int_kill_events_paired') }}
),

gamertags as (
    select * from {{ ref('int_player_gamertags') }}
),

owner_matches as (
    select owner_xuid, match_id, experience
    from participants
    where is_owner
),

opponents as (
    -- one row per opponent per match ((owner_xuid, match_id, xuid) is unique, tested on
    -- int_match_participants_related): a count of rows is a count of matches
    select
        owner_xuid,
        xuid,
        experience,
        count(match_id) as matches_against,
        min(start_time) as first_encounter_at,
        max(start_time) as last_encounter_at
    from participants
    where relation_to_owner = 'opponent'
      and not is_bot
      and xuid is not null
    group by owner_xuid, xuid, experience
),

opponent_kills as (
    select kill_pairs.*
    from kill_pairs
    where pairing_status = 'paired'
      and is_opponent
),

killed_by_owner as (
    select
        owner_matches.owner_xuid,
        opponent_kills.victim_xuid as xuid,
        owner_matches.experience,
        count(*) as times_killed
    from opponent_kills
    inner join owner_matches
        on owner_matches.match_id = opponent_kills.match_id
        and owner_matches.owner_xuid = opponent_kills.killer_xuid
    group by owner_matches.owner_xuid, opponent_kills.victim_xuid, owner_matches.experience
),

killed_owner as (
    select
        owner_matches.owner_xuid,
        opponent_kills.killer_xuid as xuid,
        owner_matches.experience,
        count(*) as times_killed_by
    from opponent_kills
    inner join owner_matches
        on owner_matches.match_id = opponent_kills.match_id
        and owner_matches.owner_xuid = opponent_kills.victim_xuid
    group by owner_matches.owner_xuid, opponent_kills.killer_xuid, owner_matches.experience
),

final as (
    select
        opponents.owner_xuid,
        opponents.xuid as opponent_xuid,
        opponents.experience,
        gamertags.gamertag,
        coalesce(killed_by_owner.times_killed, 0) as times_killed,
        coalesce(killed_owner.times_killed_by, 0) as times_killed_by,
        coalesce(killed_by_owner.times_killed, 0) - coalesce(killed_owner.times_killed_by, 0) as net_kills,
        opponents.matches_against,
        opponents.first_encounter_at,
        opponents.last_encounter_at
    from opponents
    left join killed_by_owner
        on killed_by_owner.owner_xuid = opponents.owner_xuid
        and killed_by_owner.xuid = opponents.xuid
        and killed_by_owner.experience = opponents.experience
    left join killed_owner
        on killed_owner.owner_xuid = opponents.owner_xuid
        and killed_owner.xuid = opponents.xuid
        and killed_owner.experience = opponents.experience
    left join gamertags
        on gamertags.xuid = opponents.xuid
)

select * from final
