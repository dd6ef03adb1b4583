with

source as (
    select * from {{ source('halo', 'match_skill_team_mmrs') }}
),

renamed as (
    select
        ----------  ids
        match_id,
        player_id,
        team_id,
        ----------  numerics
        mmr
    from source
)

select * from renamed
