with

source as (
    select * from {{ source('halo', 'match_player_medals') }}
),

renamed as (
    select
        ----------  ids
        match_id,
        player_id,
        medal_id,
        ----------  numerics
        count as medal_count,
        total_personal_score_awarded as personal_score_awarded
    from source
)

select * from renamed
