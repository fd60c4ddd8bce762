"""Publishing asks for what users need: a version trained here goes public only with a name, a
description, an input hint and a card picture, and then shows on the Convert page with them."""
import io
from html import unescape

import pytest
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.urls import reverse
from PIL import Image

from translator import selectors, services
from translator.models import ArtModel, Family

pytestmark = pytest.mark.django_db

# The sample grid's tiles (a training run's outputs on the probe images), left to right.
TILE_COLOURS = [(220, 30, 30), (30, 200, 30), (30, 30, 220), (230, 200, 20)]


def sample_grid():
    """A wide grid like mlcore's: four 64 px tiles in a row, 2 px white padding."""
    grid = Image.new("RGB", (4 * 66 + 2, 68), (255, 255, 255))
    for i, colour in enumerate(TILE_COLOURS):
        grid.paste(colour, (2 + i * 66, 2, 2 + i * 66 + 64, 66))
    buffer = io.BytesIO()
    grid.save(buffer, "JPEG", quality=95)
    return buffer.getvalue()


@pytest.fixture
def trained(tiny_checkpoint):
    """What a finished training run leaves: a hidden entry named after the run, with nothing
    else, and an unpublished version whose preview is the sample grid."""
    art_model = ArtModel.objects.create(slug="run-7", name="Run 7", family=Family.FAST_STYLE, is_active=False)
    version = services.add_model_version(art_model=art_model, checkpoint_path=tiny_checkpoint,
                                         source="training run #7", publish=False)
    version.preview.save("preview.jpg", ContentFile(sample_grid()), save=True)
    return version


def publish_url(version):
    return reverse("admin:translator_modelversion_publish", args=[version.pk])


DETAILS = {"name": "Ink wash", "description": "Soft grey washes, like a brush painting.",
           "input_hint": "a landscape in daylight", "card": "probes"}


# --- the service ------------------------------------------------------------------------------


def test_publishing_without_a_description_hint_or_card_is_refused_and_stores_nothing(trained):
    with pytest.raises(services.PublishRefused) as refused:
        services.publish_version(version=trained)
    assert set(refused.value.problems) == {"description", "input_hint", "card"}
    assert "cannot be published yet" in str(refused.value) and "description" in str(refused.value)
    art_model = ArtModel.objects.get(pk=trained.art_model_id)
    assert art_model.current_version is None and not art_model.is_active and not art_model.preview
    assert art_model not in selectors.available_models()


def test_a_refusal_for_one_missing_field_keeps_the_others_unstored(trained):
    with pytest.raises(services.PublishRefused) as refused:
        services.publish_version(version=trained, **{**DETAILS, "input_hint": "   "})
    assert set(refused.value.problems) == {"input_hint"}
    art_model = ArtModel.objects.get(pk=trained.art_model_id)
    assert (art_model.name, art_model.description, art_model.preview.name) == ("Run 7", "", "")


def test_publishing_with_the_details_stores_them_and_a_card_made_from_the_probe_outputs(trained):
    services.publish_version(version=trained, **DETAILS)
    art_model = ArtModel.objects.get(pk=trained.art_model_id)
    assert (art_model.name, art_model.description, art_model.input_hint) == (
        "Ink wash", "Soft grey washes, like a brush painting.", "a landscape in daylight")
    assert art_model.current_version == trained and art_model in selectors.available_models()
    with art_model.preview.open("rb") as fh:
        card = Image.open(fh)
        card.load()
    assert card.size == (640, 480)  # the Convert page's 4:3 card
    # The whole grid is in the card, fitted, not cropped: every probe output is there, in order.
    y = card.height // 2
    for i, colour in enumerate(TILE_COLOURS):
        x = int((i + 0.5) * card.width / 4)
        assert all(abs(a - b) < 40 for a, b in zip(card.getpixel((x, y)), colour)), (i, card.getpixel((x, y)))
    assert card.getpixel((card.width // 2, 5)) == pytest.approx((250, 249, 246), abs=6)  # the ground above it


def test_rolling_back_to_an_older_version_needs_nothing_new(trained, tiny_checkpoint):
    services.publish_version(version=trained, **DETAILS)
    newer = services.add_model_version(art_model=trained.art_model, checkpoint_path=tiny_checkpoint, publish=False)
    services.publish_version(version=newer)  # the entry has all four already: kept as they are
    card = ArtModel.objects.get(pk=trained.art_model_id).preview.name
    services.publish_version(version=trained)
    art_model = ArtModel.objects.get(pk=trained.art_model_id)
    assert art_model.current_version == trained and art_model.preview.name == card and art_model.name == "Ink wash"


def test_a_card_from_probe_outputs_is_refused_for_a_version_without_them(art_model, tiny_checkpoint):
    bare = services.add_model_version(art_model=art_model, checkpoint_path=tiny_checkpoint, publish=False)
    with pytest.raises(services.PublishRefused) as refused:
        services.publish_version(version=bare, **{**DETAILS, "card": "probes"})
    assert refused.value.problems == {"card": f"{bare} has no outputs on the probe images."}


# --- the admin's publish page -------------------------------------------------------------------


def test_the_version_page_links_to_the_publish_page_which_shows_the_form_prefilled(admin_client, trained):
    change = admin_client.get(reverse("admin:translator_modelversion_change", args=[trained.pk])).content.decode()
    assert f'href="{publish_url(trained)}"' in change and "Publish this version…" in change
    page = admin_client.get(publish_url(trained))
    assert page.status_code == 200
    html = unescape(page.content.decode())
    assert 'name="name"' in html and 'value="Run 7"' in html
    assert 'name="description"' in html and 'name="input_hint"' in html
    assert "Use this version's outputs on the probe images" in html
    assert reverse("admin:translator_modelversion_preview", args=[trained.pk]) in html
    assert "Keep the model's card picture" not in html  # it has none


def test_the_publish_page_refuses_in_words_what_is_missing_and_publishes_nothing(admin_client, trained):
    response = admin_client.post(publish_url(trained), {"name": "Ink wash", "description": "", "input_hint": ""})
    assert response.status_code == 400
    html = unescape(response.content.decode())
    assert "is not published" in html
    assert "Give the model a description: users read it on the Convert page." in html
    assert "Say what input works best" in html
    assert "Choose the card picture users see on the Convert page." in html
    assert 'value="Ink wash"' in html  # what was typed stays in the form
    art_model = ArtModel.objects.get(pk=trained.art_model_id)
    assert art_model.current_version is None and art_model.name == "Run 7" and not art_model.is_active


def test_published_from_the_admin_the_model_shows_on_the_convert_page_with_its_details(admin_client, client, user, trained):
    response = admin_client.post(publish_url(trained), DETAILS, follow=True)
    assert response.redirect_chain[-1][0] == reverse("admin:translator_modelversion_change", args=[trained.pk])
    assert "is published" in response.content.decode()

    client.force_login(user)
    page = client.get(reverse("translator:upload")).content.decode()
    assert "Ink wash" in page and "Soft grey washes, like a brush painting." in page
    assert "a landscape in daylight" in page
    preview = reverse("translator:model_preview", args=["run-7"])
    assert f'src="{preview}"' in page
    card = client.get(preview)
    assert card.status_code == 200 and Image.open(io.BytesIO(b"".join(card.streaming_content))).size == (640, 480)


def test_the_list_action_takes_the_admin_to_the_publish_page(admin_client, trained):
    response = admin_client.post(reverse("admin:translator_modelversion_changelist"),
                                 {"action": "publish_selected", "_selected_action": [trained.pk]})
    assert response.status_code == 302 and response["Location"] == publish_url(trained)
    assert ArtModel.objects.get(pk=trained.art_model_id).current_version is None


def test_only_staff_with_the_change_permission_publish(client, user, trained):
    for who in (None, user):
        if who:
            client.force_login(who)
        for response in (client.get(publish_url(trained)), client.post(publish_url(trained), DETAILS)):
            assert response.status_code == 302 and "/admin/login/" in response["Location"]
    clerk = get_user_model().objects.create_user("clerk", password="clerk-password-1", is_staff=True)
    client.force_login(clerk)
    assert client.post(publish_url(trained), DETAILS).status_code == 403
    assert ArtModel.objects.get(pk=trained.art_model_id).current_version is None


def test_a_published_model_reaches_api_clients_with_its_details_and_card(alice_api, trained):
    assert alice_api.get("/api/v1/models/").json() == []  # hidden until published
    services.publish_version(version=trained, **DETAILS)
    (model,) = alice_api.get("/api/v1/models/").json()
    assert (model["name"], model["description"], model["expects"]) == (
        "Ink wash", "Soft grey washes, like a brush painting.", "a landscape in daylight")
    assert model["preview_url"] == "http://testserver/models/run-7/preview"
    card = alice_api.get("/models/run-7/preview")
    assert card.status_code == 200
