{#-
    The owner of a per-owner raw row (documents, match history, snapshots), as `owner_xuid`, one definition for
    every target:
    - `warehouse` and `spark`: the raw layer is the Parquet lake, whose per-owner tables carry the owner's XUID
      in each row (column `owner_xuid`, written by `halo lake`; README, The lake);
    - a player's own file (`player`): the file's one owner, raw.owner's XUID (null when a file holds several
      owners, as a test's shared database does: a mart then falls back to the row's own player id where it has one).
    Which targets read the lake: the var `raw_has_owner_xuid` (default: the target is `warehouse` or `spark`).
-#}
{% macro raw_has_owner_xuid() -%}
    {{ return(var('raw_has_owner_xuid', target.name in ('warehouse', 'spark'))) }}
{%- endmacro %}

{% macro owner_xuid_column() -%}
    {%- if raw_has_owner_xuid() -%}
        cast(owner_xuid as {{ dbt.type_bigint() }})
    {%- else -%}
        (select case when count(*) = 1 then max(xuid) end from {{ source('halo', 'owner') }})
    {%- endif -%}
{%- endmacro %}
