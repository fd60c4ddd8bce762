"""The one base for every configuration in mlcore: frozen dataclasses that check themselves,
round-trip through JSON and describe their fields for forms.

    @dataclass(frozen=True)
    class FastStyleConfig(Config):
        variant: str = setting("johnson", "which network", choices=VARIANTS)
        channels: tuple[int, int, int] = setting((32, 64, 128), "widths", min=1)

        PRESETS: ClassVar[dict[str, dict[str, Any]]] = {"small": {"channels": (16, 32, 64)}}

Every field is declared with ``setting(default, help, ...)``: its default, its one-line help
(the comment a reader needs, kept machine-readable for the Django admin) and optional
``choices`` and inclusive ``min``/``max``. ``choices``/``min``/``max`` apply to each item of a
tuple field. Field types may be ``bool``, ``int``, ``float``, ``str``, ``X | None``,
``tuple[X, ...]``, ``tuple[X, Y, Z]`` or another ``Config`` class (nested); anything else is
refused when the class is first used.

Construction checks every field (a ``ValueError`` that names the field and says what it must
be); ``from_dict``/``from_json`` also turn JSON lists into tuples and JSON objects into nested
configs, and refuse unknown fields. A class can add cross-field checks in ``validate()``.
``describe_fields()`` lists ``FieldInfo`` records (name, type, default, help, choices, min,
max, nested fields) from which a form can be generated; the same class validates the input.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

__all__ = ["Config", "FieldInfo", "setting", "parse_assignments"]

C = TypeVar("C", bound="Config")

_NUMBER_WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}


def setting(
    default: Any,
    help: str,  # noqa: A002 - the name forms and argparse use
    *,
    choices: tuple[Any, ...] | None = None,
    min: float | None = None,  # noqa: A002
    max: float | None = None,  # noqa: A002
) -> Any:
    """A dataclass field with a default and the metadata ``describe_fields`` reports."""
    if not help or "\n" in help:
        raise ValueError("a setting's help must be one non-empty line")
    metadata = {"help": help, "choices": tuple(choices) if choices is not None else None,
                "min": min, "max": max}
    return dataclasses.field(default=default, metadata=metadata)


@dataclass(frozen=True)
class FieldInfo:
    """One field of a config class, as a form generator needs it."""

    name: str
    type: str  # "int", "float", "bool", "str", "int | None", "tuple[str, ...]", or a class name
    default: Any  # JSON-ready (tuples as lists, nested configs as dicts)
    help: str
    choices: tuple[Any, ...] | None = None  # allowed values (of each item, for tuples)
    min: float | None = None  # inclusive bounds (of each item, for tuples)
    max: float | None = None
    fields: tuple[FieldInfo, ...] | None = None  # a nested config's own fields

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["choices"] = list(self.choices) if self.choices is not None else None
        if self.fields is not None:
            data["fields"] = [f.to_dict() for f in self.fields]
        return data


# --- the type language ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Type:
    """A parsed field annotation."""

    kind: str  # "scalar", "optional", "tuple", "config"
    python: type | None = None  # scalar type or config class
    items: tuple[_Type, ...] = ()  # optional: (inner,); tuple: item types
    variadic: bool = False  # tuple[X, ...]

    def name(self) -> str:
        if self.kind in ("scalar", "config"):
            return self.python.__name__
        if self.kind == "optional":
            return f"{self.items[0].name()} | None"
        if self.variadic:
            return f"tuple[{self.items[0].name()}, ...]"
        return f"tuple[{', '.join(t.name() for t in self.items)}]"


def _parse_type(annotation: Any, where: str) -> _Type:
    if annotation in (bool, int, float, str):
        return _Type("scalar", annotation)
    if isinstance(annotation, type) and issubclass(annotation, Config):
        return _Type("config", annotation)
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType) and len(args) == 2 and type(None) in args:
        inner = args[0] if args[1] is type(None) else args[1]
        return _Type("optional", items=(_parse_type(inner, where),))
    if origin is tuple and args:
        if len(args) == 2 and args[1] is Ellipsis:
            return _Type("tuple", items=(_parse_type(args[0], where),), variadic=True)
        return _Type("tuple", items=tuple(_parse_type(a, where) for a in args))
    raise TypeError(f"{where}: unsupported config field type {annotation!r}")


def _field_types(cls: type) -> dict[str, _Type]:
    cached = cls.__dict__.get("_config_field_types")
    if cached is None:
        hints = typing.get_type_hints(cls)
        cached = {
            f.name: _parse_type(hints[f.name], f"{cls.__name__}.{f.name}")
            for f in dataclasses.fields(cls)
        }
        type.__setattr__(cls, "_config_field_types", cached)
    return cached


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _describe(t: _Type, meta: dict[str, Any]) -> str:
    """What a value of type ``t`` must be, in words: "a positive integer", "three ..."."""
    if t.kind == "optional":
        return f"{_describe(t.items[0], meta)} or null"
    if t.kind == "tuple":
        if not t.variadic and len(set(t.items)) > 1:
            return f"a list of {len(t.items)} values ({t.name()})"
        _, plural = _words(t.items[0], meta)
        if t.variadic:
            return f"a list of {plural}"
        return f"{_NUMBER_WORDS.get(len(t.items), str(len(t.items)))} {plural}"
    return _words(t, meta)[0]


def _words(t: _Type, meta: dict[str, Any]) -> tuple[str, str]:
    """(singular, plural) description of one scalar or config value."""
    if t.kind == "config":
        name = t.python.__name__
        return f"{'an' if name[0] in 'AEIOU' else 'a'} {name} object", f"{name} objects"
    if t.kind != "scalar":
        return f"a {t.name()}", f"values of type {t.name()}"
    choices, low, high = meta.get("choices"), meta.get("min"), meta.get("max")
    if choices is not None:
        listed = ", ".join(str(c) for c in choices)
        return f"one of {listed}", f"values from {listed}"
    if t.python is bool:
        return "true or false", "booleans"
    if t.python is str:
        return "a string", "strings"
    noun = "integer" if t.python is int else "number"
    article = "an" if noun == "integer" else "a"
    if low is not None and high is not None:
        bound = f" from {low} to {high}"
    elif low == 0:
        return f"a non-negative {noun}", f"non-negative {noun}s"
    elif low == 1 and noun == "integer":
        return "a positive integer", "positive integers"
    elif low is not None:
        bound = f" >= {low}"
    elif high is not None:
        bound = f" <= {high}"
    else:
        bound = ""
    return f"{article} {noun}{bound}", f"{noun}s{bound}"


class _Invalid(Exception):
    """A value does not fit its type (internal; becomes a ValueError naming the field)."""


def _coerce(value: Any, t: _Type, meta: dict[str, Any]) -> Any:
    """``value`` checked against ``t`` and normalised (lists -> tuples, int -> float, dicts ->
    nested configs); raises ``_Invalid``."""
    if t.kind == "optional":
        return None if value is None else _coerce(value, t.items[0], meta)
    if t.kind == "config":
        if isinstance(value, t.python):
            return value
        if isinstance(value, dict):
            return t.python.from_dict(value)  # its own errors name its own fields
        raise _Invalid
    if t.kind == "tuple":
        if not isinstance(value, (tuple, list)):
            raise _Invalid
        item_types = t.items * len(value) if t.variadic else t.items
        if len(value) != len(item_types):
            raise _Invalid
        return tuple(_coerce(v, it, meta) for v, it in zip(value, item_types))
    # scalars
    python = t.python
    if python is bool:
        ok = isinstance(value, bool)
    elif python is int:
        ok = _is_int(value)
    elif python is float:
        ok = _is_int(value) or isinstance(value, float)
        if ok:
            value = float(value)
    else:
        ok = isinstance(value, str)
    if not ok:
        raise _Invalid
    choices, low, high = meta.get("choices"), meta.get("min"), meta.get("max")
    if choices is not None and value not in choices:
        raise _Invalid
    if python in (int, float):
        if value != value or value in (float("inf"), float("-inf")):  # NaN / infinity
            raise _Invalid
        if (low is not None and value < low) or (high is not None and value > high):
            raise _Invalid
    return value


def _to_json_ready(value: Any) -> Any:
    if isinstance(value, Config):
        return value.to_dict()
    if isinstance(value, tuple):
        return [_to_json_ready(v) for v in value]
    return value


def _deep_merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


# --- the base class ------------------------------------------------------------------------


class Config:
    """Base of every mlcore config: subclass it with ``@dataclass(frozen=True)``."""

    # Named sets of overrides, e.g. {"tiny": {"steps": 20, "arch": {"channels": [4, 8, 16]}}}.
    PRESETS: ClassVar[dict[str, dict[str, Any]]] = {}

    def __post_init__(self) -> None:
        if not dataclasses.is_dataclass(self):
            raise TypeError(f"{type(self).__name__} must be declared with @dataclass(frozen=True)")
        for f in dataclasses.fields(self):
            t = _field_types(type(self))[f.name]
            value = getattr(self, f.name)
            try:
                coerced = _coerce(value, t, f.metadata)
            except _Invalid:
                raise ValueError(
                    f"{f.name} must be {_describe(t, f.metadata)}; got {value!r}"
                ) from None
            except ValueError as exc:  # from a nested config
                raise ValueError(f"{f.name}: {exc}") from None
            if coerced is not value:
                object.__setattr__(self, f.name, coerced)
        self.validate()

    def validate(self) -> None:
        """Checks that involve several fields; raise ``ValueError``. Runs after the field checks."""

    # --- dict and JSON --------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data: tuples as lists, nested configs as dicts."""
        return {f.name: _to_json_ready(getattr(self, f.name)) for f in dataclasses.fields(self)}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls: type[C], data: dict[str, Any]) -> C:
        """Build from JSON-like data; unknown fields and bad values raise ``ValueError``."""
        if not isinstance(data, dict):
            raise ValueError(f"a {cls.__name__} must be a JSON object; got {type(data).__name__}")
        known = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise ValueError(
                f"unknown {cls.__name__} field(s): {', '.join(unknown)} "
                f"(known: {', '.join(sorted(known))})"
            )
        return cls(**data)

    @classmethod
    def from_json(cls: type[C], text: str) -> C:
        try:
            data = json.loads(text)
        except (TypeError, json.JSONDecodeError) as exc:
            raise ValueError(f"{cls.__name__} is not valid JSON: {exc}") from exc
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
                    raise ValueError(f"cannot set {key!r}: {part!r} is given a value as well")
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
            raise ValueError(f"unknown {cls.__name__} preset {name!r} (known: {known})") from None
        return cls().override(values).override(overrides)

    # --- forms -----------------------------------------------------------------------------

    @classmethod
    def describe_fields(cls) -> list[FieldInfo]:
        """One ``FieldInfo`` per field, in declaration order."""
        infos = []
        for f in dataclasses.fields(cls):
            t = _field_types(cls)[f.name]
            config_type = t if t.kind == "config" else None
            if t.kind == "optional" and t.items[0].kind == "config":
                config_type = t.items[0]
            default = f.default if f.default is not dataclasses.MISSING else None
            infos.append(
                FieldInfo(
                    name=f.name,
                    type=t.name(),
                    default=_to_json_ready(default),
                    help=f.metadata.get("help", ""),
                    choices=f.metadata.get("choices"),
                    min=f.metadata.get("min"),
                    max=f.metadata.get("max"),
                    fields=tuple(config_type.python.describe_fields()) if config_type else None,
                )
            )
        return infos


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
