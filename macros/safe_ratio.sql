{#- numerator / denominator as a double; null when the denominator is 0 or null (portable SQL). -#}
{% macro safe_ratio(numerator, denominator) -%}
    (cast({{ numerator }} as {{ type_double() }}) / nullif({{ denominator }}, 0))
{%- endmacro %}

{#- kills / deaths, and the kills themselves when there were no deaths (docs/definitions.md#kd_ratio). -#}
{% macro kd_ratio(kills, deaths) -%}
    (case
        when {{ deaths }} = 0 then cast({{ kills }} as {{ type_double() }})
        else cast({{ kills }} as {{ type_double() }}) / {{ deaths }}
    end)
{%- endmacro %}
