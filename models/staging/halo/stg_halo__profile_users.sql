with

source as (
    select * from {{ source('halo', 'profile_users') }}
),

renamed as (
    select
        ----------  ids
        doc_id,
        xuid,
        ----------  strings
        gamertag,
        ----------  timestamps
        observed_at
    from source
)

select * from renamed
