"""Base class for models that mirror the Halo Infinite API's PascalCase JSON."""

from pydantic import BaseModel, ConfigDict


def to_pascal(name: str) -> str:
    """`personal_score` -> `PersonalScore` (the API's key spelling)."""
    return "".join(word.capitalize() for word in name.split("_"))


class ApiModel(BaseModel):
    """Frozen, PascalCase-aliased model; unknown keys are ignored here and kept in raw bytes.

    API code fields (outcome, player type, game variant category, ...) are plain
    integers: a code the game adds tomorrow is data, not an error. Their names
    live in the seeds of the dbt project.
    """

    model_config = ConfigDict(
        alias_generator=to_pascal,
        populate_by_name=True,
        frozen=True,
        extra="ignore",
    )
