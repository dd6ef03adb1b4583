{#-
    performance_score (0-100), docs/definitions.md: for each metric the share of the owner's EARLIER matches (each owner's own history)
    whose value is <= this match's (deaths per minute: >=), weighted; metrics missing in this match
    (or without any earlier value) drop out and the remaining weights are re-normalised; null with
    fewer than 10 earlier matches. Metrics, weights and the weighting: macros/performance_score.sql
    (shared with match_stats' incremental runs; its CTEs, performance_score_ctes, are match_stats' full build's
    too).

    Per-minute rates use the owner's time played. "rank vs expected" = expected rank - rank
    (positive: finished higher than expected). Expected rank, only where skill data has both MMRs:
    p_win = 1 / (1 + 10^((enemy_mmr - team_mmr) / 400)) (Elo curve on the MMR gap), then
    expected_rank = 1 + (player_count - 1) * (1 - p_win).

    Speed: on DuckDB each share is a framed cume_dist window (macro share_of_earlier_at_or_below),
    O(n log n), not a self-join; 10,000 matches take well under a second. Elsewhere (default__ of
    performance_shares) the same shares come from the self-join on earlier matches.
-#}
with

matches as (
    select * from {{ ref('int_owner_matches_enriched') }}
),

{{ performance_score_ctes('matches', 'scores') }}

select * from scores
