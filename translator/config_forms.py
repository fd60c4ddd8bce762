"""Django form fields generated from an mlcore config class, and the config built back from them.

The config class is the one source of truth: its `describe_fields()` gives each field's type,
default, help, choices and bounds; the submitted values go through the class itself
(`preset(...).override(...)`), so the admin validates exactly as mlcore and the CLI do.
Nested configs become dotted names (`arch.ngf`).
"""
import json

from django import forms

PRESET_FIELD = "preset"


def _flatten(infos, prefix=""):
    for info in infos:
        if info.fields:
            yield from _flatten(info.fields, f"{prefix}{info.name}.")
        else:
            yield f"{prefix}{info.name}", info


def _form_field(info):
    label = info.name.replace("_", " ")
    common = {"label": label, "help_text": info.help, "required": False}
    bounds = {k: v for k, v in (("min_value", info.min), ("max_value", info.max)) if v is not None}
    kind = info.type
    if kind == "bool":
        return forms.BooleanField(initial=info.default, **common)
    if kind in ("int", "int | None"):
        return forms.IntegerField(initial=info.default, **bounds, **common)
    if kind in ("float", "float | None"):
        return forms.FloatField(initial=info.default, **bounds, **common)
    if kind.startswith("tuple[") and info.choices:
        return forms.MultipleChoiceField(
            choices=[(c, c) for c in info.choices], initial=list(info.default),
            widget=forms.CheckboxSelectMultiple, **common,
        )
    if kind.startswith("tuple["):
        return forms.CharField(
            initial=", ".join(str(v) for v in info.default),
            **{**common, "help_text": f"{info.help} (comma-separated)"},
        )
    if info.choices:
        return forms.ChoiceField(choices=[(c, c) for c in info.choices], initial=info.default, **common)
    return forms.CharField(initial=info.default if info.default is not None else "", **common)


def config_fields(config_class):
    """{form field name: django field}: a preset chooser, then every (nested) config field."""
    presets = [("", "(none: the defaults below)")] + [(p, p) for p in config_class.preset_names()]
    fields = {
        PRESET_FIELD: forms.ChoiceField(
            choices=presets, required=False,
            help_text="Start from a preset; the fields you change below override it.",
        )
    }
    for name, info in _flatten(config_class.describe_fields()):
        fields[f"cfg:{name}"] = _form_field(info)
    return fields


def _parse(info, value):
    if value in (None, "") and "None" in info.type:
        return None
    if info.type.startswith("tuple[") and not info.choices:
        items = [v.strip() for v in str(value).split(",") if v.strip()]
        try:
            return [json.loads(v) for v in items]
        except json.JSONDecodeError:
            return items
    if info.type.startswith("tuple["):
        return list(value)
    return value


def config_from_form(config_class, cleaned):
    """The config for submitted values: the preset (or the defaults), with every field that
    differs from the class default applied. Raises ValueError with mlcore's own message."""
    base = config_class.preset(cleaned[PRESET_FIELD]) if cleaned.get(PRESET_FIELD) else config_class()
    overrides = {}
    for name, info in _flatten(config_class.describe_fields()):
        key = f"cfg:{name}"
        if key not in cleaned:
            continue
        if cleaned[key] in (None, "") and "None" not in info.type:
            continue  # left empty: keep the preset's value or the default
        value = _parse(info, cleaned[key])
        default = list(info.default) if isinstance(info.default, (list, tuple)) else info.default
        if value != default:
            overrides[name] = value
    return base.override(overrides)


def config_initial(config):
    """Form initial values showing an existing config (for a clone or a read-only view)."""
    data = config.to_dict()
    initial = {}
    for name, info in _flatten(type(config).describe_fields()):
        value = data
        for part in name.split("."):
            value = value[part]
        if info.type.startswith("tuple[") and not info.choices:
            value = ", ".join(str(v) for v in value)
        initial[f"cfg:{name}"] = value
    return initial
