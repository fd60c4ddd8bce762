"""Organising a gallery in a real browser (Debian's Chromium driven by Playwright), at desktop
size and at a phone's 390x844: favourite and filter, an album made and filled by bulk select
and renamed, bulk delete, and a zip download read back from the browser's download.

The photos are real image files uploaded through the service and finished as a worker finishes
them (what a worker makes is not what these journeys are about; tests/e2e/test_browser.py has
the real worker)."""
import io
import re
import zipfile

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from translator.models import Album, Conversion, Photo

from .conftest import finished_conversion
from .test_browser import login

pytestmark = pytest.mark.e2e


def _jpeg(path, side=96):
    image = Image.open(path).convert("RGB")
    image.thumbnail((side, side))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


@pytest.fixture
def gallery(redis_server, wave_model, data_dir):
    """A user with three finished conversions of real photos: amber, chelsea, rocket."""
    user = get_user_model().objects.create_user("ola", password="ola-password-1")
    made = {}
    for name in ("amber.jpg", "chelsea.png", "rocket.jpg"):
        path = data_dir / "images" / "content" / name
        made[name] = finished_conversion(owner=user, upload=SimpleUploadedFile(name, path.read_bytes()),
                                         art_model=wave_model, result_jpeg=_jpeg(path), thumbnail_jpeg=_jpeg(path, 48))
    return user, made


def tile(page, name):
    return page.locator(".organise-tile").filter(has=page.get_by_role("link", name=name, exact=True))


def test_a_person_stars_a_photo_and_filters_to_favourites(gallery, sized_page):
    from playwright.sync_api import expect

    page = sized_page
    user, made = gallery
    login(page, "ola", "ola-password-1")
    page.goto("/gallery/")
    expect(page.locator(".organise-tile")).to_have_count(3)
    chelsea = tile(page, "chelsea.png")
    expect(chelsea.locator("time")).to_have_text(made["chelsea.png"].created_at.strftime("%-d %b %Y"))
    expect(chelsea.get_by_text("The Great Wave")).to_be_visible()
    star = chelsea.get_by_role("button", name="Favourite chelsea.png")
    expect(star).to_have_attribute("aria-pressed", "false")
    star.click()
    expect(star).to_have_attribute("aria-pressed", "true")
    assert list(Conversion.objects.filter(favourite=True)) == [made["chelsea.png"]]

    page.get_by_text("Sort, filter and search").click()
    page.get_by_label("Favourites only").check()
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"/gallery/\?.*favourites=on"))  # a filtered gallery is a link
    expect(page.locator(".organise-tile")).to_have_count(1)
    expect(tile(page, "chelsea.png")).to_be_visible()

    page.get_by_label("Search file names").fill("amber")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_text("No photos match these filters.")).to_be_visible()


def test_a_person_makes_an_album_fills_it_by_bulk_select_and_renames_it(gallery, sized_page):
    from playwright.sync_api import expect

    page = sized_page
    user, made = gallery
    login(page, "ola", "ola-password-1")
    page.goto("/albums/")
    expect(page.get_by_text("No albums yet.")).to_be_visible()
    page.get_by_label("New album").fill("Trip")
    page.get_by_role("button", name="Create album").click()
    expect(page.get_by_text("This album is empty.")).to_be_visible()

    page.goto("/gallery/")
    tile(page, "amber.jpg").get_by_label("Select amber.jpg").check()
    tile(page, "rocket.jpg").get_by_label("Select rocket.jpg").check()
    expect(page.locator("[data-selected-count]")).to_have_text("2 selected")
    page.locator("#bulk-album").select_option(label="Trip")
    page.get_by_role("button", name="Add to album").click()
    expect(page.get_by_text("Added 2 to “Trip”.")).to_be_visible()
    album = Album.objects.get(owner=user)
    assert set(album.items.all()) == {made["amber.jpg"], made["rocket.jpg"]}

    page.goto("/albums/")
    expect(page.locator("[data-album-count]")).to_have_text("2 photos")
    page.get_by_role("link", name="Trip").click()
    expect(page.locator(".organise-tile")).to_have_count(2)
    expect(tile(page, "chelsea.png")).to_have_count(0)
    page.get_by_text("Rename or delete").click()
    page.get_by_label("Name", exact=True).fill("Journey")
    page.get_by_role("button", name="Rename").click()
    expect(page.get_by_role("heading", name="Journey")).to_be_visible()
    album.refresh_from_db()
    assert album.name == "Journey" and album.items.count() == 2


def test_a_person_deletes_two_photos_at_once_after_confirming(gallery, sized_page, settings):
    from playwright.sync_api import expect

    page = sized_page
    user, made = gallery
    files = [made[n].result.name for n in ("amber.jpg", "chelsea.png")] + [made["amber.jpg"].photo.image.name]
    login(page, "ola", "ola-password-1")
    page.goto("/gallery/")
    tile(page, "amber.jpg").get_by_label("Select amber.jpg").check()
    tile(page, "chelsea.png").get_by_label("Select chelsea.png").check()
    page.get_by_role("button", name="Delete…").click()
    expect(page.get_by_role("heading", name="Delete 2 photos?")).to_be_visible()
    assert Conversion.objects.count() == 3  # nothing goes before the confirmation
    page.get_by_role("button", name="Delete 2").click()
    expect(page.get_by_text("Deleted 2 photos and their results.")).to_be_visible()
    expect(page.locator(".organise-tile")).to_have_count(1)
    expect(tile(page, "rocket.jpg")).to_be_visible()
    assert list(Conversion.objects.all()) == [made["rocket.jpg"]]
    assert Photo.objects.count() == 1
    assert not any((settings.MEDIA_ROOT / name).exists() for name in files)
    assert (settings.MEDIA_ROOT / made["rocket.jpg"].result.name).exists()


def test_a_person_downloads_two_results_and_an_original_as_a_zip(gallery, sized_page, tmp_path):
    from playwright.sync_api import expect

    page = sized_page
    user, made = gallery
    login(page, "ola", "ola-password-1")
    page.goto("/gallery/")
    tile(page, "amber.jpg").get_by_label("Select amber.jpg").check()
    tile(page, "chelsea.png").get_by_label("Select chelsea.png").check()
    page.get_by_label("with originals").check()
    with page.expect_download() as info:
        page.get_by_role("button", name="Download zip").click()
    download = info.value
    assert download.suggested_filename.startswith("restyle-") and download.suggested_filename.endswith(".zip")
    path = tmp_path / "download.zip"
    download.save_as(path)
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == [
            "amber - The Great Wave.jpg", "amber.jpg", "chelsea - The Great Wave.jpg", "chelsea.png",
        ]
        for name in ("amber.jpg", "chelsea.png"):
            with made[name].result.open("rb") as f:
                assert archive.read(f"{name.rsplit('.', 1)[0]} - The Great Wave.jpg") == f.read()
            with made[name].photo.image.open("rb") as f:
                assert archive.read(name) == f.read()
    expect(page.locator(".organise-tile")).to_have_count(3)  # the page stays as it was
