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
        -- the film's medal code (SPNKr's, 0-146) on medal events, not a NameId: medal_definitions maps it to one;
        -- other event types carry a small mode code in medal_value
        case when is_medal then medal_value end as film_medal_code,
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
