"""The admin's training settings are generated from each family's config schema, give the config
back through the class (as mlcore and the CLI build it), and show each refusal on its field."""
import pytest
from django.core.exceptions import NON_FIELD_ERRORS
from django.urls import reverse
from django.utils.html import escape

from mlcore.registry import get_family, trainable_families
from translator.admin.training import TrainingRunForm
from translator.config_forms import config_initial

pytestmark = pytest.mark.django_db

FAMILIES = [family.name for family in trainable_families()]
PRESETS = [(family.name, preset) for family in trainable_families()
           for preset in family.training.config_class.preset_names()]


def config_class(family):
    return get_family(family).training.config_class


def as_submitted(form):
    """What a browser sends back for the settings as the form shows them."""
    data = {"name": "run", "device_class": "cpu", "precision": "fp32", "seed": "0", "preset": form["preset"].value() or ""}
    for name in form.fields:
        if not name.startswith("cfg:"):
            continue
        value = form[name].value()
        if isinstance(value, bool):
            if value:
                data[name] = "on"  # an unticked box sends nothing
        elif isinstance(value, list):
            data[name] = [str(v) for v in value]
        else:
            data[name] = "" if value is None else str(value)
    return data


def submit(family, initial=None, **changes):
    data = {**as_submitted(TrainingRunForm(family, initial=initial)), **changes}
    form = TrainingRunForm(family, data)
    form.is_valid()
    return form


def settings_errors(form):
    return {name: errors for name, errors in form.errors.items() if name.startswith("cfg:") or name == NON_FIELD_ERRORS}


@pytest.mark.parametrize("family", FAMILIES)
def test_the_add_page_shows_every_config_field_with_its_help(admin_client, family):
    page = admin_client.get(reverse("admin:translator_trainingrun_add") + f"?family={family}").content.decode()
    for field in config_class(family).describe_fields():
        assert f'name="cfg:{field.name}"' in page
        assert escape(field.help) in page


@pytest.mark.parametrize("family", FAMILIES)
def test_the_form_as_shown_gives_back_the_defaults(family):
    form = submit(family)
    assert settings_errors(form) == {}
    assert form.cleaned_data["config"] == config_class(family)()


@pytest.mark.parametrize(("family", "preset"), PRESETS)
def test_a_clone_of_each_preset_submitted_unchanged_gives_the_same_config(family, preset):
    config = config_class(family).preset(preset)
    form = submit(family, initial=config_initial(config))
    assert settings_errors(form) == {}
    assert form.cleaned_data["config"] == config


def test_a_preset_with_a_changed_field_keeps_the_preset_elsewhere():
    form = submit("pix2pix", **{"preset": "tiny", "cfg:steps": "7", "cfg:arch.in_channels": "1"})
    assert form.cleaned_data["config"] == config_class("pix2pix").preset("tiny", steps=7).override(
        {"arch.in_channels": 1})


@pytest.mark.parametrize(
    ("family", "changes", "field", "message"),
    [
        ("fast_style", {"cfg:arch.channels": "8, 16"}, "cfg:arch.channels", "item 3: Field required; got [8, 16]"),
        ("fast_style", {"cfg:arch.channels": "8, x, 16"}, "cfg:arch.channels",
         "item 2: Input should be a valid integer; got 'x'"),
        ("fast_style", {"cfg:style_layers": []}, "cfg:style_layers",
         "Tuple should have at least 1 item after validation, not 0; got []"),
        ("ugatit", {"cfg:betas": "0.5, 2"}, "cfg:betas", "item 2: Input should be less than or equal to 1; got 2"),
        ("ugatit", {"cfg:arch.img_size": "30"}, "cfg:arch.img_size", "Input should be a multiple of 4; got 30"),
        # Bounds from the schema are checked by the form field itself too, in Django's words.
        ("pix2pix", {"cfg:lr": "-1"}, "cfg:lr", "Ensure this value is greater than or equal to 0.0."),
        ("pix2pix", {"cfg:arch.in_channels": "2"}, "cfg:arch.in_channels",
         "Select a valid choice. 2 is not one of the available choices."),
    ],
)
def test_a_refused_value_is_shown_on_its_own_field(family, changes, field, message):
    form = submit(family, **changes)
    assert settings_errors(form) == {field: [message]}


def test_a_check_across_fields_is_shown_on_the_form_in_mlcore_s_words():
    form = submit("pix2pix", **{"cfg:crop_size": "200"})
    assert settings_errors(form) == {NON_FIELD_ERRORS: [
        "crop_size must be a multiple of 256 for unet_256 (its 8 halvings must end on whole pixels); got 200"]}
    form = submit("ugatit", **{"preset": "tiny", "cfg:arch.in_channels": "1"})
    assert "training needs arch.in_channels == arch.out_channels" in form.errors[NON_FIELD_ERRORS][0]
