-- When each match last changed: the newest load time over its match-stats, skill and film documents.
with

documents as (
    select * from {{ ref('stg_halo__documents') }}
),

match_documents as (
    select
        match_id,
        loaded_at
    from documents
    where match_id is not null
      and kind in ('match_stats', 'match_skill', 'highlight_events')
),

final as (
    select
        match_id,
        max(loaded_at) as loaded_at
    from match_documents
    group by match_id
)

select * from final
