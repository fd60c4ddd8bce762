"""Publishing a trained version in a real browser (Chromium), at desktop size and on a 390x844
phone: the admin opens the version a training run left (hidden, named after the run, with its
outputs on the probe images), is refused in words while the description and input hint are
missing, fills them in, picks the probe outputs as the card picture and publishes; a user then
finds the model's card, picture, description and hint on the Convert page and converts with it."""
import pytest
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.urls import reverse
from PIL import Image

from tests.translator.conftest import tiny_checkpoint  # noqa: F401  (the fixture: a real, small network)
from tests.translator.polish.test_publishing import sample_grid
from translator import services
from translator.models import ArtModel, Conversion, Family

from .conftest import wait_for
from .test_browser import login

pytestmark = pytest.mark.e2e


@pytest.fixture
def trained(transactional_db, tiny_checkpoint):  # noqa: F811
    """What a finished training run leaves: a hidden entry named after the run and an unpublished
    version whose preview is the grid of its outputs on the probe images."""
    art_model = ArtModel.objects.create(slug="run-7", name="Run 7", family=Family.FAST_STYLE, is_active=False)
    version = services.add_model_version(art_model=art_model, checkpoint_path=tiny_checkpoint,
                                         source="training run #7", publish=False)
    version.preview.save("preview.jpg", ContentFile(sample_grid()), save=True)
    return version


def test_an_admin_publishes_a_trained_version_with_what_users_need_and_a_user_converts_with_it(
    trained, sized_page, celery_worker, data_dir
):
    from playwright.sync_api import expect

    page = sized_page
    get_user_model().objects.create_superuser("ada", password="ada-password-1")
    page.goto(f"/admin/login/?next={reverse('admin:translator_modelversion_change', args=[trained.pk])}")
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill("ada-password-1")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Publish this version…").click()
    page.wait_for_url("**/publish/")

    # Nothing but the run's name: refused, in words, and the model stays hidden.
    page.get_by_label("Name").fill("Ink wash")
    page.get_by_role("button", name=f"Publish {trained}").click()
    expect(page.get_by_role("alert").first).to_contain_text("is not published")
    expect(page.get_by_text("Give the model a description: users read it on the Convert page.")).to_be_visible()
    expect(page.get_by_text("Say what input works best: it is shown on the model's card.")).to_be_visible()
    art_model = ArtModel.objects.get(pk=trained.art_model_id)
    assert not art_model.is_active and art_model.current_version is None and art_model.name == "Run 7"

    # The card picture offered is the run's outputs on the probe images, shown beside the choice.
    probes = page.get_by_label("Use this version's outputs on the probe images")
    picture = page.locator(".card-choice img")
    expect(picture).to_have_count(1)
    assert page.evaluate("(img) => img.complete && img.naturalWidth > 0", picture.element_handle())
    page.get_by_label("Description").fill("Soft grey washes, like a brush painting.")
    page.get_by_label("Input hint").fill("a landscape in daylight")
    probes.check()
    page.get_by_role("button", name=f"Publish {trained}").click()
    expect(page.get_by_text("is published: users get it for")).to_be_visible()
    art_model.refresh_from_db()
    assert art_model.is_active and art_model.current_version == trained
    assert (art_model.name, art_model.description, art_model.input_hint) == (
        "Ink wash", "Soft grey washes, like a brush painting.", "a landscape in daylight")
    with art_model.preview.open("rb") as fh:
        assert Image.open(fh).size == (640, 480)

    # A user (a new browser session) meets the card on the Convert page and converts with it.
    page.context.clear_cookies()
    get_user_model().objects.create_user("uma", password="uma-password-1")
    login(page, "uma", "uma-password-1")
    page.goto("/")
    card = page.locator(".model-card").filter(has_text="Ink wash")
    expect(card).to_contain_text("Soft grey washes, like a brush painting.")
    expect(card).to_contain_text("a landscape in daylight")
    image = card.get_by_role("img", name="Ink wash preview")
    image.scroll_into_view_if_needed()
    expect(image).to_be_visible()
    page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    card.click()
    page.set_input_files("input[name=image]", str(data_dir / "images" / "content" / "amber.jpg"))
    page.get_by_role("button", name="Convert", exact=True).click()
    page.wait_for_url("**/gallery/**")
    made = Conversion.objects.get(owner__username="uma")
    assert made.art_model == art_model and made.model_version == trained
    done = wait_for(lambda: Conversion.objects.filter(pk=made.pk, status__in=["succeeded", "failed"]).first(), 120,
                    "the worker to convert with the published model")
    assert done.status == "succeeded", done.error
