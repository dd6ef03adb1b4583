-- One row per owner, other human that owner has played with or against, and experience (pvp_matchmade,
-- pvp_custom, pve).
with

participants as (
    select * from {{ ref('int_match_participants_related') }}
),

gamertags as (
    select * from {{ ref('int_player_gamertags') }}
),

others as (
    select *
    from participants
    where not is_owner
      and not is_bot
      and xuid is not null
),

aggregated as (
    -- a row of `others` is one player in one match of the owner: (owner_xuid, match_id, xuid) is unique (tested on
    -- int_match_participants_related), so counting rows counts matches (count(distinct) did the same, ~2x slower)
    select
        owner_xuid,
        xuid,
        experience,
        count(case when relation_to_owner = 'teammate' then match_id end) as matches_together,
        count(case when relation_to_owner = 'opponent' then match_id end) as matches_against,
        count(case when relation_to_owner = 'teammate' and owner_outcome = 2 then match_id end)
            as wins_together,
        count(case when relation_to_owner = 'teammate' and owner_outcome = 3 then match_id end)
            as losses_together,
        min(start_time) as first_played_at,
        max(start_time) as last_played_at
    from others
    group by owner_xuid, xuid, experience
),

final as (
    select
        aggregated.owner_xuid,
        aggregated.xuid as teammate_xuid,
        aggregated.experience,
        gamertags.gamertag,
        aggregated.matches_together,
        aggregated.matches_against,
        aggregated.wins_together,
        aggregated.losses_together,
        {{ safe_ratio('aggregated.wins_together', 'aggregated.matches_together') }} as win_rate_together,
        aggregated.first_played_at,
        aggregated.last_played_at
    from aggregated
    left join gamertags
        on gamertags.xuid = aggregated.xuid
)

select * from final
