with

source as (
    select * from {{ source('halo', 'match_teams') }}
),

renamed as (
    select
        ----------  ids
        match_id,
        team_id,
        ----------  codes
        outcome,
        rank,
        ----------  numerics
        score,
        personal_score,
        kills,
        deaths,
        assists
    from source
)

select * from renamed
