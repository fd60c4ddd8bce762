"""A conversion's page in a real browser (Chromium), at desktop size and on a 390x844 phone, with
a real worker: the before/after slider by keyboard and by pointer or touch, the full-size viewer
(open, zoom, pan, close), "Try another style" on the stored photo, and "Run again" giving
identical pixels. Each journey checks what the page shows and what is stored."""
import io
import time

import numpy as np
import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from PIL import Image

from translator import services
from translator.models import ArtModel, Conversion, Photo

from .test_browser import login
from .test_csp_browser import LISTEN

pytestmark = pytest.mark.e2e


@pytest.fixture
def sized_page(sized_page):
    sized_page.add_init_script(LISTEN)  # the slider and the viewer set their styles within the site's CSP
    return sized_page


def nothing_refused(page):
    assert page.evaluate("window.__cspViolations") == []


@pytest.fixture
def person(transactional_db):
    return get_user_model().objects.create_user("vera", password="vera-password-1")


@pytest.fixture
def finished(celery_worker, wave_model, person, data_dir):
    """amber.jpg (1080x1080) converted by the real worker at a long side of 512: the original is
    larger than the result, as it often is."""
    data = (data_dir / "images" / "content" / "amber.jpg").read_bytes()
    conversion = services.create_conversion(
        owner=person, upload=SimpleUploadedFile("amber.jpg", data), art_model=wave_model, output_long_side=512
    )
    return wait_until_done(conversion)


def wait_until_done(conversion, seconds=120):
    deadline = time.monotonic() + seconds
    while True:
        conversion.refresh_from_db()
        if conversion.is_finished:
            break
        assert time.monotonic() < deadline, f"still {conversion.status} after {seconds} s"
        time.sleep(0.3)
    assert conversion.status == Conversion.Status.SUCCEEDED, conversion.error
    return conversion


def pixels(conversion):
    with conversion.result.open("rb") as fh:
        return np.asarray(Image.open(io.BytesIO(fh.read())).convert("RGB"))


def open_detail(page, conversion):
    login(page, "vera", "vera-password-1")
    page.goto(conversion.get_absolute_url())


def test_the_before_after_slider_moves_with_the_arrow_keys_and_the_pointer(sized_page, finished):
    from playwright.sync_api import expect

    page = sized_page
    open_detail(page, finished)
    assert (finished.photo.width, finished.result_width, finished.result_height) == (1080, 512, 512)
    slider = page.get_by_label("Before / after: drag the picture or use the arrow keys")
    expect(page.locator("[data-side-by-side]")).to_be_visible()  # first, as without scripts
    expect(slider).to_be_hidden()
    page.get_by_role("button", name="Before / after").click()
    expect(slider).to_be_visible()
    expect(page.locator("[data-side-by-side]")).to_be_hidden()
    after = page.locator("img[data-compare-after]")
    expect(after).to_have_js_property("naturalWidth", 512)
    assert after.evaluate("img => getComputedStyle(img).clipPath") == "inset(0px 0px 0px 50%)"

    slider.focus()
    for _ in range(5):
        page.keyboard.press("ArrowLeft")
    expect(slider).to_have_value("45")
    expect(slider).to_have_attribute("aria-valuetext", "45% original, 55% The Great Wave")
    assert after.evaluate("img => getComputedStyle(img).clipPath") == "inset(0px 0px 0px 45%)"

    # The original (1080 px) and the result (512 px) fill one box of the result's shape: they line up.
    before_box = page.locator("img[data-compare-before]").bounding_box()
    after_box = after.bounding_box()
    assert before_box == after_box
    assert abs(after_box["width"] / after_box["height"] - 1.0) < 0.01

    # A tap (phone) or a click (desktop) at a quarter of the picture moves the handle there.
    stage = page.locator("[data-compare-stage]").bounding_box()
    x, y = stage["x"] + stage["width"] * 0.25, stage["y"] + stage["height"] / 2
    if page.phone:
        page.touchscreen.tap(x, y)
    else:
        page.mouse.click(x, y)
    assert abs(int(slider.input_value()) - 25) <= 1

    page.get_by_role("button", name="Side by side").click()
    expect(page.locator("[data-side-by-side]")).to_be_visible()
    expect(slider).to_be_hidden()
    expect(page.get_by_role("button", name="Side by side")).to_have_attribute("aria-pressed", "true")
    page.get_by_role("button", name="Before / after").click()
    page.reload()  # the choice is kept for the next page
    expect(slider).to_be_visible()
    nothing_refused(page)


def test_the_result_opens_in_a_full_size_viewer_that_zooms_pans_and_closes(sized_page, finished):
    from playwright.sync_api import expect

    page = sized_page
    open_detail(page, finished)
    page.get_by_role("link", name="Open the converted image at full size").click()
    viewer = page.get_by_role("dialog", name="The converted image at full size")
    expect(viewer).to_be_visible()
    image = viewer.locator("img[data-viewer-image]")
    expect(image).to_have_js_property("naturalWidth", finished.result_width)  # the result itself, not a thumbnail
    level = viewer.locator("[data-zoom-level]")
    fitted = int(level.inner_text().rstrip("%"))
    assert 0 < fitted <= 100

    viewer.get_by_role("button", name="Zoom in").click()
    expect(level).to_have_text(f"{round(fitted * 1.25)}%")
    viewer.get_by_role("button", name="Actual size").click()
    expect(level).to_have_text("100%")
    stage = viewer.locator("[data-viewer-stage]").bounding_box()
    centre = (stage["x"] + stage["width"] / 2, stage["y"] + stage["height"] / 2)
    page.mouse.move(*centre)
    page.mouse.wheel(0, -100)  # the wheel zooms in around the pointer
    expect(level).to_have_text("125%")
    before = image.evaluate("img => img.style.transform")
    page.mouse.move(*centre)
    page.mouse.down()
    page.mouse.move(centre[0] - 60, centre[1] - 30, steps=4)
    page.mouse.up()
    assert image.evaluate("img => img.style.transform") != before  # dragged: panned
    page.keyboard.press("-")
    expect(level).to_have_text("100%")

    page.keyboard.press("Escape")
    expect(viewer).to_be_hidden()
    expect(page.get_by_role("link", name="Open the converted image at full size")).to_be_focused()
    assert Conversion.objects.count() == 1  # looking changes nothing stored
    nothing_refused(page)


def test_try_another_style_converts_the_stored_photo_with_another_model(sized_page, finished, data_dir):
    from playwright.sync_api import expect

    call_command("install_demo_models", source=str(data_dir / "pretrained" / "fast-style-ml5"), styles="udnie",
                 stdout=io.StringIO(), stderr=io.StringIO())
    udnie = ArtModel.objects.get(slug="udnie")
    page = sized_page
    open_detail(page, finished)
    page.get_by_label("Try another style").select_option(label=udnie.name)
    page.get_by_role("button", name="Convert this photo").click()
    expect(page.get_by_role("heading", name="amber.jpg")).to_contain_text(udnie.name)
    expect(page.locator("[data-status]")).to_have_text("Done", timeout=120_000)
    # Its record arrived with the result: it can be run again without reloading the page.
    expect(page.get_by_role("button", name="Run again")).to_be_enabled()
    expect(page.locator("img[data-compare-after]")).to_have_js_property("naturalWidth", 512)

    new = Conversion.objects.exclude(pk=finished.pk).get()
    assert page.url.endswith(new.get_absolute_url())
    assert (new.art_model, new.photo_id, new.status) == (udnie, finished.photo_id, Conversion.Status.SUCCEEDED)
    assert Photo.objects.count() == 1  # no second upload
    assert pixels(new).shape == pixels(finished).shape and not np.array_equal(pixels(new), pixels(finished))


def test_run_again_gives_identical_pixels(sized_page, finished):
    from playwright.sync_api import expect

    page = sized_page
    open_detail(page, finished)
    page.get_by_text("How this was made").click()
    expect(page.locator("[data-sha256]")).to_have_text(finished.checkpoint_sha256)
    page.get_by_role("button", name="Run again").click()
    expect(page.locator("[data-status]")).to_have_text("Done", timeout=120_000)
    page.get_by_text("How this was made").click()
    expect(page.locator("[data-reproduces]")).to_have_attribute("href", finished.get_absolute_url())

    again = Conversion.objects.exclude(pk=finished.pk).get()
    assert page.url.endswith(again.get_absolute_url())
    assert again.reproduces_id == finished.pk and again.photo_id == finished.photo_id
    assert again.checkpoint_sha256 == finished.checkpoint_sha256
    assert np.array_equal(pixels(again), pixels(finished))
