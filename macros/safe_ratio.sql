{#- numerator / denominator as a double; null when the denominator is 0 or null (portable SQL). -#}
{% macro safe_ratio(numerator, denominator) -%}
    (cast({{ numerator }} as double precision) / nullif({{ denominator }}, 0))
{%- endmacro %}

{#- kills / deaths, and the kills themselves when there were no deaths (docs/definitions.md#kd_ratio). -#}
{% macro kd_ratio(kills, deaths) -%}
    (case
        when {{ deaths }} = 0 then cast({{ kills }} as double precision)
        else cast({{ kills }} as double precision) / {{ deaths }}
    end)
{%- endmacro %}
