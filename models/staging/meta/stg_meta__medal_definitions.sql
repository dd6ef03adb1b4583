with

source as (
    select * from {{ source('meta', 'medal_definitions') }}
),

renamed as (
    select
        ----------  ids
        medal_id,
        ----------  strings
        name_en,
        name_fr,
        difficulty,
        type,
        ----------  numerics
        difficulty_index,
        type_index,
        sorting_weight,
        film_medal_code
    from source
)

select * from renamed
