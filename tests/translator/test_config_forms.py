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
    tiny = config_class("pix2pix").preset("tiny")
    form = submit("pix2pix", initial={**config_initial(tiny), "preset": "tiny"},
                  **{"cfg:steps": "7", "cfg:arch.in_channels": "1"})
    assert form.cleaned_data["config"] == tiny.override({"steps": 7, "arch.in_channels": 1})


def test_what_is_submitted_is_taken_as_given_and_the_preset_fills_in_only_what_is_not():
    """A field set back to the class default stays the default; one the request leaves out
    (a client that sends a few fields) starts from the preset."""
    cls = config_class("pix2pix")
    tiny, default = cls.preset("tiny"), cls()
    assert tiny.steps != default.steps and tiny.arch.ngf != default.arch.ngf  # (so the test can fail)
    form = submit("pix2pix", initial={**config_initial(tiny), "preset": "tiny"}, **{"cfg:steps": str(default.steps)})
    assert form.cleaned_data["config"] == tiny.override({"steps": default.steps})
    # A box is a value either way (unticked, the browser sends nothing): such a client sends its boxes.
    few = {"name": "run", "device_class": "cpu", "precision": "fp32", "seed": "0", "preset": "tiny",
           "cfg:steps": str(default.steps), "cfg:flip": "on", "cfg:arch.dropout": "on"}
    form = TrainingRunForm("pix2pix", few)
    form.is_valid()
    assert form.cleaned_data["config"] == tiny.override({"steps": default.steps})


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


# --- the admin's pages, through the test client ------------------------------------------------


def page_form_values(html):
    """{name: value} of the add page's POST form as a browser would send it unchanged (text and
    hidden inputs, selected options, ticked boxes)."""
    from html.parser import HTMLParser

    class Reader(HTMLParser):
        def __init__(self):
            super().__init__()
            self.values, self.in_post, self.select = {}, False, None

        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            if tag == "form":
                self.in_post = a.get("method") == "post"
            if not self.in_post:
                return
            if tag == "input" and a.get("type") not in ("submit",) and "name" in a:
                if a.get("type") == "checkbox":
                    if "checked" in a:
                        self.values.setdefault(a["name"], []).append(a.get("value", "on"))
                else:
                    self.values[a["name"]] = a.get("value", "")
            elif tag == "select":
                self.select = a.get("name")
            elif tag == "option" and self.select and "selected" in a:
                self.values[self.select] = a.get("value", "")

        def handle_endtag(self, tag):
            if tag == "select":
                self.select = None
            if tag == "form":
                self.in_post = False

    reader = Reader()
    reader.feed(html)
    return reader.values


@pytest.fixture
def ready_dataset(tmp_path, settings, make_image_bytes):
    from translator import services

    folder = tmp_path / "datasets" / "pairs"
    for side in ("A", "B"):
        (folder / side).mkdir(parents=True)
        (folder / side / "1.jpg").write_bytes(make_image_bytes("JPEG", size=(64, 64)))
    settings.RESTYLE_DATASET_ROOTS = [tmp_path / "datasets"]
    dataset = services.create_dataset(name="pairs", family="pix2pix", server_path=str(folder))
    return services.check_dataset(dataset_id=dataset.pk)


def test_choosing_a_preset_shows_its_values_and_a_field_set_back_to_the_default_stays_so(admin_client, ready_dataset):
    from translator.models import TrainingRun

    cls = config_class("pix2pix")
    tiny, default = cls.preset("tiny"), cls()
    assert tiny.steps != default.steps and tiny.arch.ngf != default.arch.ngf  # (so the test can fail)
    add = reverse("admin:translator_trainingrun_add")
    page = admin_client.get(add, {"family": "pix2pix", "preset": "tiny"})
    assert page.status_code == 200
    shown = page_form_values(page.content.decode())
    assert shown["preset"] == "tiny"
    assert shown["cfg:steps"] == str(tiny.steps) and shown["cfg:arch.ngf"] == str(tiny.arch.ngf)  # the preset's
    # The admin keeps the preset's other values and sets the steps back to the class default.
    data = {**shown, "family": "pix2pix", "name": "back to default", "dataset": str(ready_dataset.pk),
            "device_class": "cpu", "precision": "fp32", "seed": "0", "cfg:steps": str(default.steps)}
    data.pop("start_now", None)
    done = admin_client.post(add, data)
    assert done.status_code == 302, page_errors(done)
    run = TrainingRun.objects.get(name="back to default")
    assert run.config == tiny.override({"steps": default.steps}).to_dict()
    assert run.config["steps"] == default.steps and run.config["arch"]["ngf"] == tiny.arch.ngf


def page_errors(response):
    import re

    return re.findall(r'<ul class="errorlist[^"]*">(.*?)</ul>', response.content.decode(), re.S)


def test_an_unknown_preset_is_refused_in_words(admin_client):
    response = admin_client.get(reverse("admin:translator_trainingrun_add"), {"family": "pix2pix", "preset": "huge"})
    assert response.status_code == 400
    assert "pix2pix has no preset 'huge'; its presets: " in response.content.decode()
