with

source as (
    select * from {{ source('halo', 'owner') }}
),

renamed as (
    select
        ----------  ids
        xuid,
        'xuid(' || cast(xuid as {{ dbt.type_string() }}) || ')' as player_id,
        player_dir,
        ----------  strings
        gamertag,
        ----------  timestamps
        created_at
    from source
)

select * from renamed
