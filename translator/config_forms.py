"""Django form fields generated from an mlcore config class, and the config built back from them.

The config class is the one source of truth: its JSON schema (`describe_fields()`, from
pydantic's `model_json_schema()`) gives each field's type, enum, bounds, default and help; the
submitted values go through the class itself (`preset(...).override(...)`), so the admin
validates exactly as mlcore and the CLI do, and each refusal lands on the field it names. A
preset fills the form in (`config_initial`); what is submitted is taken as given.
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


def preset_choices(config_class):
    return [("", "(none: the defaults)")] + [(p, p) for p in config_class.preset_names()]


def config_fields(config_class):
    """{form field name: django field}: the preset the fields start from (hidden: the page
    chooses a preset by showing the form again with its values), then every (nested) config field."""
    fields = {
        PRESET_FIELD: forms.ChoiceField(choices=preset_choices(config_class), required=False,
                                        widget=forms.HiddenInput)
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


def submitted_names(form):
    """The config fields the submission holds a value for, as each widget judges it: a box left
    unticked is a value (false, or no items), a field missing from the request is not."""
    return {name for name, field in form.fields.items()
            if name.startswith(PREFIX) and not field.widget.value_omitted_from_data(form.data, form.files,
                                                                                     form.add_prefix(name))}


def config_from_form(config_class, cleaned, submitted):
    """The config for submitted values: every field in `submitted` (form field names) as given,
    over the preset the form started from (or the defaults) for the rest. A preset only chooses
    the values the form shows first (config_initial), so a value the admin sets back to the
    class default stays the default. Raises forms.ValidationError with mlcore's own words on the
    fields they name."""
    base = config_class.preset(cleaned[PRESET_FIELD]) if cleaned.get(PRESET_FIELD) else config_class()
    overrides = {}
    fields = config_class.describe_fields()
    for field in fields:
        key = PREFIX + field.name
        if key not in cleaned or key not in submitted:
            continue  # refused by the form field already, or not sent: the starting value
        value = _parse(field, cleaned[key])
        if value is None and not _optional(field.schema)[1]:
            continue  # left empty: a value it must have stays the starting one
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
            # A field a config leaves out of its data at the default (FastStyleConfig.edges).
            value = value.get(part, field.default) if isinstance(value, dict) else value
        if _listed_as_text(_optional(field.schema)[0]):
            value = ", ".join(str(v) for v in value)
        initial[PREFIX + field.name] = value
    return initial
