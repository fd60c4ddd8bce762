"""The one base for every configuration in mlcore: frozen pydantic models that check
themselves, round-trip through JSON and give forms their JSON schema.

    Width = Annotated[int, Field(ge=1)]

    class FastStyleConfig(Config):
        variant: Literal["johnson", "engstrom"] = setting("johnson", "which network")
        channels: tuple[Width, Width, Width] = setting((32, 64, 128), "widths")
        steps: int = setting(100, "iterations", ge=1)

        PRESETS: ClassVar[dict[str, dict[str, Any]]] = {"small": {"channels": (16, 32, 64)}}

        @model_validator(mode="after")
        def _check(self) -> Self: ...  # cross-field checks raise ValueError

Every field is declared with ``setting(default, help, **constraints)``: its default and its
one-line help (the comment a reader needs, kept machine-readable for the admin and --help),
with pydantic's ``Field`` constraints (``ge``/``le``, ``min_length``, ``multiple_of``).
Choices are ``Literal[...]`` annotations; a tuple's items take theirs through ``Annotated``.
Values are checked strictly: no bool or 2.0 for an int, no string for a number or a bool, no
NaN or infinity; an int is taken for a float.

``from_dict``, ``from_json``, ``override`` and ``preset`` take JSON data (lists for tuples,
objects for nested configs), refuse unknown fields and raise ``ConfigError`` (a ``ValueError``)
naming each refused field, dotted for nested configs and tuple items (``arch.ngf: Input should
be greater than or equal to 1; got 0``). Constructing a class directly is Python's side of the
same checks (tuples as tuples), refused with pydantic's ``ValidationError`` (a ``ValueError``
too). ``describe_fields()`` lists every leaf field with its JSON schema, for forms and --help.
"""

from __future__ import annotations

import functools
import json
from typing import Any, ClassVar, NamedTuple, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

__all__ = ["Config", "ConfigError", "SchemaField", "setting", "parse_assignments"]

C = TypeVar("C", bound="Config")


def setting(default: Any, help: str, **constraints: Any) -> Any:  # noqa: A002 - the word forms use
    """A field with its default, its one-line help and pydantic constraints (``ge``, ``le``...)."""
    return Field(default, description=help, **constraints)


class ConfigError(ValueError):
    """Values a config refuses. ``problems`` holds (field path, what is wrong) pairs; the path
    is a tuple of names and tuple indexes, empty for a check of the whole config."""

    def __init__(self, problems: list[tuple[tuple[str | int, ...], str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(
            f"{'.'.join(map(str, path))}: {what}" if path else what for path, what in problems
        ))

    @classmethod
    def from_validation(cls, exc: ValidationError) -> ConfigError:
        problems = []
        errors = exc.errors()
        paths = [tuple(error["loc"]) for error in errors]
        for error, path in zip(errors, paths):
            if any(len(other) > len(path) and other[:len(path)] == path for other in paths):
                continue  # "too short" because an item was refused: the item's problem says it
            if error["type"] == "value_error":  # a model validator's own words
                what = str(error["ctx"]["error"])
            elif error["type"] == "extra_forbidden":
                what = "unknown field"
            else:
                what = f"{error['msg']}; got {error['input']!r}"
            problems.append((path, what))
        return cls(problems)


class SchemaField(NamedTuple):
    """One leaf field of a config class, as a form or ``--help`` needs it."""

    name: str  # dotted for fields of nested configs: "arch.ngf"
    schema: dict[str, Any]  # its JSON schema: type, enum, minimum, maximum, items, anyOf...
    default: Any  # JSON-ready: tuples as lists
    help: str


def _plain(value: Any) -> Any:
    if isinstance(value, Config):
        return value.to_dict()
    raise TypeError(f"not JSON data: {value!r}")


def _deep_merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


class Config(BaseModel):
    """Base of every mlcore config."""

    # Strict, as the dataclass configs were (see the module docstring); from_dict goes through
    # JSON text, where strict mode still takes lists for tuples and objects for nested configs.
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False,
                              validate_default=True)

    # Named sets of overrides, e.g. {"tiny": {"steps": 20, "arch": {"channels": [4, 8, 16]}}}.
    PRESETS: ClassVar[dict[str, dict[str, Any]]] = {}

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        for name, field in cls.model_fields.items():
            if not field.description or "\n" in field.description:
                raise TypeError(f"{cls.__name__}.{name} needs a one-line help: setting(default, help)")

    # --- dict and JSON --------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data: tuples as lists, nested configs as dicts."""
        return self.model_dump(mode="json")

    def to_json(self) -> str:
        # The exact text is compared on resume (training checkpoints store it): keep it stable.
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls: type[C], data: dict[str, Any]) -> C:
        """Build from JSON-like data; unknown fields and bad values raise ``ConfigError``."""
        if not isinstance(data, dict):
            raise ConfigError([((), f"a {cls.__name__} must be a JSON object; got {type(data).__name__}")])
        try:
            # Through JSON text, so strict checking takes lists for tuples and objects for configs.
            return cls.model_validate_json(json.dumps(data, default=_plain))
        except ValidationError as exc:
            raise ConfigError.from_validation(exc) from None

    @classmethod
    def from_json(cls: type[C], text: str) -> C:
        try:
            data = json.loads(text)
        except (TypeError, json.JSONDecodeError) as exc:
            raise ConfigError([((), f"{cls.__name__} is not valid JSON: {exc}")]) from exc
        return cls.from_dict(data)

    def replace(self: C, **changes: Any) -> C:
        """A copy with ``changes`` (checked like any construction)."""
        return self.override(changes)

    def override(self: C, overrides: dict[str, Any]) -> C:
        """A copy with overrides; keys may be dotted paths into nested configs ("arch.channels")."""
        nested: dict[str, Any] = {}
        for key, value in overrides.items():
            target = nested
            *parents, leaf = key.split(".")
            for part in parents:
                target = target.setdefault(part, {})
                if not isinstance(target, dict):
                    raise ConfigError([((), f"cannot set {key!r}: {part!r} is given a value as well")])
            target[leaf] = value
        return type(self).from_dict(_deep_merge(self.to_dict(), nested))

    # --- presets ---------------------------------------------------------------------------

    @classmethod
    def preset_names(cls) -> list[str]:
        return sorted(cls.PRESETS)

    @classmethod
    def preset(cls: type[C], name: str, **overrides: Any) -> C:
        """The preset ``name`` (a set of overrides of the defaults) with ``overrides`` on top."""
        try:
            values = cls.PRESETS[name]
        except KeyError:
            known = ", ".join(cls.preset_names()) or "none"
            raise ConfigError([((), f"unknown {cls.__name__} preset {name!r} (known: {known})")]) from None
        return cls().override(values).override(overrides)

    # --- forms -----------------------------------------------------------------------------

    @classmethod
    def describe_fields(cls) -> tuple[SchemaField, ...]:
        """Every leaf field in declaration order, nested configs' fields under dotted names."""
        return _leaf_fields(cls)


@functools.cache
def _leaf_fields(config_class: type[Config]) -> tuple[SchemaField, ...]:
    schema = config_class.model_json_schema()
    definitions = schema.get("$defs", {})

    def leaves(properties: dict[str, Any], defaults: dict[str, Any], prefix: str):
        for name, prop in properties.items():
            default = defaults.get(name, prop.get("default"))
            if "$ref" in prop:  # a nested config: its fields, with this field's default values
                nested = definitions[prop["$ref"].rsplit("/", 1)[-1]]
                yield from leaves(nested["properties"], default, f"{prefix}{name}.")
            else:
                yield SchemaField(f"{prefix}{name}", prop, default, prop["description"])

    return tuple(leaves(schema["properties"], {}, ""))


def parse_assignments(assignments: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """``["lr=0.01", "arch.channels=[8,16,32]", "content_layer=relu2_2"]`` -> overrides.

    Values are read as JSON when they parse (numbers, true/false, null, lists) and kept as
    strings otherwise, so ``name=relu2_2`` needs no quotes.
    """
    overrides: dict[str, Any] = {}
    for item in assignments:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ValueError(f"expected KEY=VALUE, got {item!r}")
        try:
            overrides[key] = json.loads(raw)
        except json.JSONDecodeError:
            overrides[key] = raw
    return overrides
