"""Django form fields generated from an mlcore config class, and the config built back from them.

The config class is the one source of truth: its JSON schema (`describe_fields()`, from
pydantic's `model_json_schema()`) gives each field's type, enum, bounds, default and help; the
submitted values go through the class itself (`preset(...).override(...)`), so the admin
validates exactly as mlcore and the CLI do, and each refusal lands on the field it names.
Nested configs become dotted names (`arch.ngf`).
"""
import json

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS

PRESET_FIELD = "preset"
PREFIX = "cfg:"


def _optional(schema):
    """(the schema of X, True) for `X | None` (the only union configs have), else (schema, False)."""
    if "anyOf" not in schema:
        return schema, False
    (inner,) = [option for option in schema["anyOf"] if option != {"type": "null"}]
    return inner, True


def _listed_as_text(schema):
    """An array whose items are not choices is typed as comma-separated text."""
    return schema.get("type") == "array" and "enum" not in schema.get("items", {})


def _from_choice(enum):
    by_text = {str(value): value for value in enum}
    return lambda text: by_text[text]


def _form_field(field):
    schema, optional = _optional(field.schema)
    common = {"label": field.name.replace("_", " "), "help_text": field.help, "required": False,
              "initial": field.default}
    kind = schema.get("type")
    if "enum" in schema:
        return forms.TypedChoiceField(choices=[(v, v) for v in schema["enum"]], coerce=_from_choice(schema["enum"]),
                                      empty_value=None, **common)
    if kind == "boolean":
        return forms.BooleanField(**common)
    if kind in ("integer", "number"):
        number = forms.IntegerField if kind == "integer" else forms.FloatField
        return number(min_value=schema.get("minimum"), max_value=schema.get("maximum"), **common)
    if kind == "array" and not _listed_as_text(schema):
        enum = schema["items"]["enum"]
        return forms.TypedMultipleChoiceField(choices=[(v, v) for v in enum], coerce=_from_choice(enum),
                                              widget=forms.CheckboxSelectMultiple, **common)
    if kind == "array":
        return forms.CharField(**{**common, "initial": ", ".join(str(v) for v in field.default),
                                  "help_text": f"{field.help} (comma-separated)"})
    if kind == "string":
        return forms.CharField(**common)
    raise TypeError(f"no form field for {field.name}: {field.schema}")


def config_fields(config_class):
    """{form field name: django field}: a preset chooser, then every (nested) config field."""
    presets = [("", "(none: the defaults below)")] + [(p, p) for p in config_class.preset_names()]
    fields = {
        PRESET_FIELD: forms.ChoiceField(
            choices=presets, required=False,
            help_text="Start from a preset; the fields you change below override it.",
        )
    }
    for field in config_class.describe_fields():
        fields[PREFIX + field.name] = _form_field(field)
    return fields


def _json_or_text(text):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _parse(field, value):
    if value in (None, ""):
        return None
    if _listed_as_text(_optional(field.schema)[0]):
        return [_json_or_text(v.strip()) for v in value.split(",") if v.strip()]
    return value


def _errors_by_field(error, names):
    """The config's refusals, each on the form field it names (a tuple item's on its tuple),
    or on the form as a whole for a check of several fields."""
    errors = {}
    for path, what in error.problems:
        for end in range(len(path), 0, -1):
            name = ".".join(map(str, path[:end]))
            if name in names:
                rest = ", ".join(f"item {p + 1}" if isinstance(p, int) else p for p in path[end:])
                errors.setdefault(PREFIX + name, []).append(f"{rest}: {what}" if rest else what)
                break
        else:
            where = ".".join(map(str, path))
            errors.setdefault(NON_FIELD_ERRORS, []).append(f"{where}: {what}" if where else what)
    return errors


def config_from_form(config_class, cleaned):
    """The config for submitted values: the preset (or the defaults), with every field that
    differs from the class default applied. Raises forms.ValidationError with mlcore's own
    words on the fields they name."""
    base = config_class.preset(cleaned[PRESET_FIELD]) if cleaned.get(PRESET_FIELD) else config_class()
    overrides = {}
    fields = config_class.describe_fields()
    for field in fields:
        key = PREFIX + field.name
        if key not in cleaned:
            continue  # refused by the form field already
        value = _parse(field, cleaned[key])
        if value is None and not _optional(field.schema)[1]:
            continue  # left empty: keep the preset's value or the default
        if value != field.default:
            overrides[field.name] = value
    try:
        return base.override(overrides)
    except ValueError as exc:  # mlcore.config.ConfigError, whose .problems name the fields
        if not hasattr(exc, "problems"):
            raise
        raise forms.ValidationError(_errors_by_field(exc, {f.name for f in fields})) from exc


def config_initial(config):
    """Form initial values showing an existing config (for a clone or a read-only view)."""
    data = config.to_dict()
    initial = {}
    for field in type(config).describe_fields():
        value = data
        for part in field.name.split("."):
            value = value[part]
        if _listed_as_text(_optional(field.schema)[0]):
            value = ", ".join(str(v) for v in value)
        initial[PREFIX + field.name] = value
    return initial
