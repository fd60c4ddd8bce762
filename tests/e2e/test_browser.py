"""The whole product in a real browser (Debian's Chromium driven by Playwright): log in,
upload a photo, watch the job finish without reloading, find it in the gallery, delete it."""
import pytest
from django.contrib.auth import get_user_model

from translator.models import Conversion

pytestmark = pytest.mark.e2e


def test_a_person_converts_a_photo_and_finds_it_in_the_gallery(
    celery_worker, wave_model, page, data_dir
):
    from playwright.sync_api import expect

    get_user_model().objects.create_user("demo", password="demo-password-1")
    page.goto("/")
    expect(page).to_have_url("/accounts/login/?next=/")
    page.get_by_label("Username").fill("demo")
    page.get_by_label("Password").fill("demo-password-1")
    page.get_by_role("button", name="Log in").click()

    page.goto("/")
    expect(page.get_by_text("The Great Wave")).to_be_visible()
    expect(page.locator(".model-card img")).to_have_attribute("src", "/models/wave/preview")
    page.set_input_files("input[type=file]", str(data_dir / "images" / "content" / "amber.jpg"))
    page.get_by_text("The Great Wave").click()
    page.get_by_role("button", name="Convert").click()

    # The detail page updates itself: mark the document to prove it is never reloaded.
    expect(page.get_by_role("heading", name="amber.jpg")).to_be_visible()
    page.evaluate("window.__sameDocument = true")
    expect(page.locator("[data-status]")).to_have_text("Done", timeout=120_000)
    result = page.locator("img[data-result]")
    expect(result).to_be_visible()
    assert page.evaluate("window.__sameDocument") is True
    natural = result.evaluate("img => [img.naturalWidth, img.naturalHeight]")
    conversion = Conversion.objects.get()
    # amber.jpg is 1080x1080; the default output size makes its long side 1024.
    assert natural == [conversion.result_width, conversion.result_height] == [1024, 1024]
    expect(page.locator("[data-result-size]")).to_have_text("· 1024×1024")
    expect(page.get_by_role("link", name="Download").last).to_be_visible()

    page.get_by_role("link", name="Gallery").first.click()
    thumbnail = page.locator(".tile img[data-thumbnail]").first
    expect(thumbnail).to_be_visible()
    assert thumbnail.evaluate("img => img.naturalWidth") > 0

    page.locator(".tile a").first.click()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete").click()
    expect(page.get_by_text("Nothing here yet.")).to_be_visible()
    assert not Conversion.objects.exists()


def test_a_person_paints_with_their_own_style_image_watches_it_and_cancels(
    celery_worker, own_style_model, page, data_dir
):
    from playwright.sync_api import expect

    get_user_model().objects.create_user("frida", password="frida-password-1")
    login(page, "frida", "frida-password-1")
    page.goto("/")
    style_field = page.get_by_label("3. Choose a style image")
    expect(style_field).to_be_hidden()  # only models that paint with one ask for it
    page.get_by_text("Your own style").click()
    expect(style_field).to_be_visible()
    page.set_input_files("input[name=image]", str(data_dir / "images" / "content" / "chelsea.png"))
    style_field.set_input_files(str(data_dir / "images" / "styles" / "starry_night.jpg"))
    page.get_by_role("button", name="Convert").click()

    expect(page.locator("[data-status]")).to_have_text("Running", timeout=60_000)
    expect(page.locator("img[data-intermediate]")).to_be_visible(timeout=60_000)
    expect(page.locator("[data-progress-detail]")).to_contain_text(" of 5000")
    expect(page.locator("progress[data-progress]")).to_be_visible()
    expect(page.get_by_alt_text("Style image")).to_be_visible()

    page.get_by_role("button", name="Cancel").click()
    expect(page.locator("[data-status]")).to_have_text("Cancelled", timeout=60_000)
    expect(page.get_by_role("button", name="Cancel")).to_be_hidden()
    conversion = Conversion.objects.get()
    assert conversion.status == Conversion.Status.CANCELLED and not conversion.result
    assert 0 < conversion.progress < 1


def login(page, username, password):
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_a_bad_file_shows_the_reason_on_the_form(celery_worker, wave_model, page, tmp_path):
    from playwright.sync_api import expect

    user = get_user_model().objects.create_user("grace", password="grace-password-1")
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("grace")
    page.get_by_label("Password").fill("grace-password-1")
    page.get_by_role("button", name="Log in").click()
    notes = tmp_path / "notes.jpg"
    notes.write_text("not a photo")
    page.goto("/")
    page.set_input_files("input[type=file]", str(notes))
    page.get_by_text("The Great Wave").click()
    page.get_by_role("button", name="Convert").click()
    expect(page.get_by_role("alert")).to_contain_text("not an image we can read")
    assert not Conversion.objects.filter(owner=user).exists()
