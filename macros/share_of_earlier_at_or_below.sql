{#-
    Share (0-1) of the EARLIER rows of the same `partition_by` group (ordered by `order_by`, strictly before the
    current row)
    whose `value` is <= the current row's value (`at_or_above=true`: >=). Rows with a null value
    neither get a share nor count as earlier rows for others; null when there is no earlier value.

    Cost: the naive form is a self-join on "earlier" (O(n^2): 50 million pairs for 10,000 matches).
    DuckDB computes framed ranking functions with merge-sort trees, so
        cume_dist(order by value) over (order by time rows between unbounded preceding and current row)
    = (rows of the frame with value <= current, ties included) / frame size, in O(n log n).
    With the frame = earlier rows + the current row: count_at_or_below_earlier = cume_dist * n - 1.
-#}
{#- DuckDB only (framed cume_dist): see the header. -#}
{% macro share_of_earlier_at_or_below(value, partition_by, order_by, at_or_above=false) -%}
    {%- set window -%}
        partition by {{ partition_by }}, ({{ value }} is null) order by {{ order_by }} rows between unbounded preceding and current row
    {%- endset -%}
    (case
        when {{ value }} is null then null
        when row_number() over ({{ window }}) = 1 then null
        else
            (round(cume_dist(order by {{ value }}{{ ' desc' if at_or_above else '' }}) over ({{ window }})
                   * row_number() over ({{ window }})) - 1)
            / (row_number() over ({{ window }}) - 1)
    end)
{%- endmacro %}
