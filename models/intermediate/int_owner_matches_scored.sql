{#-
    performance_score (0-100), DESIGN.md: for each metric the share of the owner's EARLIER matches
    whose value is <= this match's (deaths per minute: >=), weighted; metrics missing in this match
    (or without any earlier value) drop out and the remaining weights are re-normalised; null with
    fewer than 10 earlier matches.

    Per-minute rates use the owner's time played. "rank vs expected" = expected rank - rank
    (positive: finished higher than expected). Expected rank, only where skill data has both MMRs:
    p_win = 1 / (1 + 10^((enemy_mmr - team_mmr) / 400)) (Elo curve on the MMR gap), then
    expected_rank = 1 + (player_count - 1) * (1 - p_win).

    Speed: each share is a framed cume_dist window (macro share_of_earlier_at_or_below),
    O(n log n), not a self-join; 10,000 matches take well under a second.
-#}
{% set weights = {
    'kills_per_min': 0.22,
    'deaths_per_min': 0.18,
    'assists_per_min': 0.10,
    'kda': 0.15,
    'accuracy': 0.08,
    'personal_score_per_min': 0.12,
    'damage_dealt_per_min': 0.10,
    'rank_vs_expected': 0.05,
} %}
{% set higher_is_worse = ['deaths_per_min'] %}
{% set match_order = 'start_time, match_id' %}
with

matches as (
    select * from {{ ref('int_owner_matches_enriched') }}
),

metrics as (
    select
        match_id,
        start_time,
        {{ safe_ratio('kills * 60', 'time_played_s') }} as kills_per_min,
        {{ safe_ratio('deaths * 60', 'time_played_s') }} as deaths_per_min,
        {{ safe_ratio('assists * 60', 'time_played_s') }} as assists_per_min,
        kda,
        accuracy,
        {{ safe_ratio('personal_score * 60', 'time_played_s') }} as personal_score_per_min,
        {{ safe_ratio('damage_dealt * 60', 'time_played_s') }} as damage_dealt_per_min,
        case
            when team_mmr is not null and enemy_mmr is not null and rank is not null then
                1 + (player_count - 1)
                    * (1 - 1 / (1 + power(10, (enemy_mmr - team_mmr) / 400.0)))
                - rank
        end as rank_vs_expected
    from matches
),

shares as (
    select
        match_id,
        count(*) over (order by {{ match_order }} rows between unbounded preceding and 1 preceding)
            as earlier_matches,
        {%- for metric in weights %}
        {{ share_of_earlier_at_or_below(metric, match_order, metric in higher_is_worse) }} as {{ metric }}_share
        {{- ',' if not loop.last }}
        {%- endfor %}
    from metrics
),

weighted as (
    select
        match_id,
        earlier_matches,
        {%- for metric, weight in weights.items() %}
        coalesce({{ metric }}_share * {{ weight }}, 0){{ ' +' if not loop.last }}
        {%- endfor %}
            as weighted_sum,
        {%- for metric, weight in weights.items() %}
        case when {{ metric }}_share is null then 0 else {{ weight }} end{{ ' +' if not loop.last }}
        {%- endfor %}
            as weight_total
    from shares
),

final as (
    select
        match_id,
        earlier_matches,
        case
            when earlier_matches >= 10 and weight_total > 0 then round(100 * weighted_sum / weight_total, 2)
        end as performance_score
    from weighted
)

select * from final
