with

source as (
    select * from {{ source('halo', 'match_skill') }}
),

renamed as (
    select
        ----------  ids
        match_id,
        player_id,
        xuid,
        team_id,
        ----------  codes
        result_code,
        ----------  strings
        pre_match_csr_tier,
        post_match_csr_tier,
        ----------  numerics
        team_mmr,
        pre_match_csr,
        pre_match_csr_sub_tier,
        post_match_csr,
        post_match_csr_sub_tier,
        pre_match_measurement_matches_remaining,
        post_match_measurement_matches_remaining,
        kills_count,
        expected_kills,
        kills_std_dev,
        deaths_count,
        expected_deaths,
        deaths_std_dev
    from source
)

select * from renamed
