with

source as (
    select * from {{ source('meta', 'seasons') }}
),

renamed as (
    select
        ----------  ids
        season_key,
        ----------  strings
        name as season_name,
        kind as season_kind,
        ----------  timestamps
        start_time,
        end_time
    from source
)

select * from renamed
