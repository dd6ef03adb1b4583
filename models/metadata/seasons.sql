with csr_seasons as (

    select * from {{ source('reference', 'csr_seasons') }}

),

calendar_seasons as (

    select * from {{ source('reference', 'calendar_seasons') }}

),

unioned as (

    select
        season_key,
        name,
        start_time,
        end_time,
        'csr' as kind,
        season_key as csr_season_key
    from csr_seasons

    union all

    select
        season_key,
        name,
        start_time,
        end_time,
        'season' as kind,
        csr_season_key
    from calendar_seasons

)

select
    cast(season_key as varchar) as season_key,
    cast(name as varchar) as name,
    cast(start_time as timestamp) as start_time,
    cast(end_time as timestamp) as end_time,
    cast(kind as varchar) as kind,
    cast(csr_season_key as varchar) as csr_season_key
from unioned
