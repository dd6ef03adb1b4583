with

source as (
    select * from {{ source('meta', 'game_variant_categories') }}
),

renamed as (
    select
        ----------  ids
        code as game_variant_category,
        ----------  strings
        name as mode_name
    from source
)

select * from renamed
