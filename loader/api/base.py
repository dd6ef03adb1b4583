"""Base class for models that mirror the Halo Infinite API's PascalCase JSON."""

import functools
import operator
import types
import typing
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from typing_extensions import TypedDict


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


# Model config that `typed_dict_of` reproduces (aliases come with each field; frozen means nothing for dicts).
_CARRIED_CONFIG = frozenset({"alias_generator", "populate_by_name", "frozen", "extra"})


def typed_dict_of(model: type[BaseModel], substitutes: Mapping[Any, Any] | None = None,
                  _made: dict[type, type] | None = None) -> type:
    """A pydantic TypedDict with the same fields, aliases, defaults and constraints as `model` (nested models
    become nested TypedDicts, named like their models so that titles match).

    Validating JSON into plain dicts costs about half of building the frozen model instances: the loader's hot
    path uses these (`TypeAdapter(typed_dict_of(Model)).validate_json`) and the models stay the one definition.
    `substitutes` replaces leaf types (e.g. `int` -> a range-checked int) wherever they occur.
    """
    made = {} if _made is None else _made
    if model in made:
        return made[model]
    subs = substitutes or {}

    def convert(annotation: Any) -> Any:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            return typed_dict_of(annotation, subs, made)
        origin = typing.get_origin(annotation)
        if origin is None:
            return subs.get(annotation, annotation)
        if origin is typing.Literal:
            return annotation
        args = tuple(arg if arg is Ellipsis else convert(arg) for arg in typing.get_args(annotation))
        if origin is types.UnionType or origin is typing.Union:
            return functools.reduce(operator.or_, args)
        return origin[args]

    decorators = model.__pydantic_decorators__
    if decorators.validators or decorators.field_validators or decorators.model_validators or \
            set(model.model_config) - _CARRIED_CONFIG:
        raise TypeError(f"{model.__name__}: validators and config beyond {sorted(_CARRIED_CONFIG)} are not carried "
                        "over to its TypedDict: extend typed_dict_of first")
    fields = {}
    for name, field in model.model_fields.items():
        if field.default_factory is not None or field.validation_alias not in (None, field.alias) or \
                field.discriminator is not None:
            raise TypeError(f"{model.__name__}.{name}: field option not carried over to its TypedDict")
        options: dict[str, Any] = {"alias": field.alias}
        if not field.is_required():
            options["default"] = field.default
        fields[name] = Annotated[convert(field.annotation), Field(**options), *field.metadata]
    typed = TypedDict(model.__name__, fields)  # type: ignore[misc]
    typed.__pydantic_config__ = ConfigDict(populate_by_name=model.model_config.get("populate_by_name", False),
                                           extra=model.model_config.get("extra", "ignore"))
    made[model] = typed
    return typed
