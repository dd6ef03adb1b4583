with medals as (

    select * from {{ source('reference', 'medals') }}

),

french_translations as (

    select * from {{ source('reference', 'medal_translations') }}
    where locale = 'fr-FR'

),

name_files as (

    select * from {{ source('reference', 'medal_name_files') }}

),

french_file_names as (

    select medal_id, name from name_files where language = 'fr'

),

english_file_names as (

    select medal_id, name from name_files where language = 'en'

),

film_codes as (

    select * from {{ ref('film_medal_codes') }}

),

-- every medal of the metadata, and every medal only the name files know (no difficulty or type then)
medal_ids as (

    select medal_id from medals
    union
    select medal_id from name_files

),

named as (

    select
        medal_ids.medal_id,
        coalesce(nullif(medals.name, ''), english_file_names.name) as name_en,
        coalesce(nullif(french_translations.name, ''), french_file_names.name) as name_fr,
        medals.description as description_en,
        nullif(french_translations.description, '') as description_fr,
        medals.difficulty,
        medals.difficulty_index,
        medals.type,
        medals.type_index,
        medals.sorting_weight,
        medals.personal_score,
        medals.sprite_index
    from medal_ids
    left join medals on medals.medal_id = medal_ids.medal_id
    left join french_translations on french_translations.medal_id = medal_ids.medal_id
    left join french_file_names on french_file_names.medal_id = medal_ids.medal_id
    left join english_file_names on english_file_names.medal_id = medal_ids.medal_id

),

coded as (

    select
        named.*,
        film_codes.code as film_medal_code
    from named
    left join film_codes on film_codes.name = named.name_en

)

select
    cast(medal_id as bigint) as medal_id,
    cast(name_en as varchar) as name_en,
    cast(name_fr as varchar) as name_fr,
    cast(description_en as varchar) as description_en,
    cast(description_fr as varchar) as description_fr,
    cast(difficulty as varchar) as difficulty,
    cast(difficulty_index as integer) as difficulty_index,
    cast(type as varchar) as type,
    cast(type_index as integer) as type_index,
    cast(sorting_weight as integer) as sorting_weight,
    cast(personal_score as integer) as personal_score,
    cast(sprite_index as integer) as sprite_index,
    cast(film_medal_code as integer) as film_medal_code
from coded
