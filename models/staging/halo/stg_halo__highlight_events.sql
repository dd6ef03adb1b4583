with

source as (
    select * from {{ source('halo', 'highlight_events') }}
),

renamed as (
    select
        ----------  ids
        event_id,
        match_id,
        xuid,
        -- the medal NameId on medal events; other event types carry a small mode code here
        case when is_medal then medal_value end as medal_id,
        ----------  strings
        event_type,
        gamertag,
        medal_name as film_medal_name,
        ----------  numerics
        event_index,
        film_major_version,
        type_hint,
        medal_value,
        time_ms,
        ----------  booleans
        is_medal
    from source
)

select * from renamed
