"""The site at a phone's width (390x844) and at desktop size, in a real browser (Debian's
Chromium driven by Playwright): the header fits on every main page without breaking a word,
no page is wider than the screen, the model picker keeps the Convert button near the top, the
404 page is the site's own with a way back, and controls and images are named for a screen
reader. Rows are real: a user with a finished conversion of a real photo, an album, a share
link, catalogue entries with card pictures and a generator model."""
import io

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from translator import services
from translator.models import ArtModel, Conversion, Family, ModelVersion

from .conftest import finished_conversion
from .test_browser import login

pytestmark = pytest.mark.e2e

MODEL_NAMES = ["Wave", "Udnie", "La muse", "Rain princess", "Scream", "Shipwreck", "Starry night",
               "Matilde Pérez", "Hubble deep field"]


def _jpeg(colour, size=(320, 240)):
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG", quality=85)
    return out.getvalue()


@pytest.fixture
def site_rows(transactional_db, redis_server, data_dir):
    """Nine catalogue entries with card pictures and long descriptions (as many as `make run`
    installs), a generator, and a user with a finished conversion in an album and a share link."""
    models = []
    for i, name in enumerate(MODEL_NAMES):
        art_model = ArtModel.objects.create(
            slug=f"style-{i}", name=name, family=Family.GATYS if i == 8 else Family.FAST_STYLE, sort_order=i,
            description="A painter's style learned from one picture, applied in a second or two.",
            input_hint="any photo, best with a clear subject")
        art_model.current_version = ModelVersion.objects.create(art_model=art_model, number=1, config={})
        art_model.save()
        services.set_model_preview(art_model=art_model, jpeg_bytes=_jpeg((30 * i, 120, 200 - 20 * i)))
        models.append(art_model)
    faces = ArtModel.objects.create(slug="faces", name="Faces", family=Family.STYLEGAN2, description="Made-up faces.")
    faces.current_version = ModelVersion.objects.create(art_model=faces, number=1, config={"resolution": 64})
    faces.save()

    user = get_user_model().objects.create_user("mara", password="mara-password-1")
    path = data_dir / "images" / "content" / "chelsea.png"
    conversion = finished_conversion(owner=user, upload=SimpleUploadedFile("chelsea.png", path.read_bytes()),
                                     art_model=models[0], result_jpeg=_jpeg((200, 90, 40)),
                                     thumbnail_jpeg=_jpeg((200, 90, 40), (48, 36)))
    album = services.create_album(owner=user, name="Cats and a long album name that goes on")
    conversion = Conversion.objects.get(pk=conversion.pk)
    services.add_to_album(album=album, conversions=[conversion])
    services.create_share_link(owner=user, conversion=conversion)
    return user, conversion, album


# What every main page is checked for, in the page itself.
LAYOUT = """() => {
  const doc = document.documentElement;
  const oneLine = (el) => el && el.getBoundingClientRect().height < parseFloat(getComputedStyle(el).lineHeight || 0) * 1.5 + 8
                          && el.getClientRects().length === 1;
  const logout = [...document.querySelectorAll('.topbar button')].find((b) => b.textContent.trim() === 'Log out');
  const header = document.querySelector('.topbar').getBoundingClientRect();
  const wide = [...document.querySelectorAll('body *')].filter((el) => el.getBoundingClientRect().right > doc.clientWidth + 1
                 && !el.closest('[data-model-picker], .topbar nav, dialog, [hidden]') && el.offsetParent !== null)
                 .map((el) => el.tagName + '.' + el.className).slice(0, 5);
  const unnamed = [...document.querySelectorAll('input:not([type=hidden]), select, textarea, button')]
    .filter((el) => el.offsetParent !== null && !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
            && !el.getAttribute('aria-labelledby') && !el.title && !(el.tagName === 'BUTTON' && el.textContent.trim())
            && !(el.type === 'submit' && el.value))
    .map((el) => el.outerHTML.slice(0, 120));
  const noAlt = [...document.images].filter((img) => !img.hasAttribute('alt')).map((img) => img.src);
  return {scrollWidth: doc.scrollWidth, clientWidth: doc.clientWidth, brandOneLine: oneLine(document.querySelector('.brand')),
          logoutOneLine: oneLine(logout), headerHeight: header.height, wide, unnamed, noAlt,
          firstFocus: document.querySelector('body a, body button, body input').className};
}"""


CULPRITS = """(width) => [...document.querySelectorAll('main *')].filter((el) => {
  const old = el.style.display; el.style.display = 'none';
  const fits = document.documentElement.scrollWidth <= width; el.style.display = old; return fits;
}).map((el) => el.tagName + '.' + el.className).slice(-4)"""


def test_every_main_page_fits_the_screen_with_a_header_on_one_or_two_rows(site_rows, sized_page):
    from playwright.sync_api import expect

    user, conversion, album = site_rows
    page, width = sized_page, sized_page.viewport["width"]
    login(page, "mara", "mara-password-1")
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    pages = {
        "upload": "/", "gallery": "/gallery/", "detail": f"/gallery/{conversion.id}/", "albums": "/albums/",
        "album": f"/albums/{album.pk}/", "shares": "/shares/", "webhooks": "/account/webhooks/",
        "generate": "/generate/",
    }
    for name, url in pages.items():
        response = page.goto(url)
        assert response.status == 200, (name, response.status)
        found = page.evaluate(LAYOUT)
        # Nothing wider than the screen (on failure: the elements whose hiding makes the page fit).
        assert found["scrollWidth"] <= width, (name, found, page.evaluate(CULPRITS, width))
        assert found["wide"] == [], (name, found["wide"])
        assert found["brandOneLine"] and found["logoutOneLine"], (name, found)  # "Restyle", "Log out" unbroken
        assert found["headerHeight"] <= (110 if width <= 390 else 80), (name, found["headerHeight"])
        assert found["unnamed"] == [], (name, found["unnamed"])  # every control has a label
        assert found["noAlt"] == [], (name, found["noAlt"])
        assert found["firstFocus"] == "skip-link", (name, found)
    # Every nav link can be reached on the phone too (its row scrolls, it never leaves the page).
    page.goto("/")
    for link in ("Convert", "Gallery", "Albums", "Generate", "Shares"):
        expect(page.locator(".topbar nav").get_by_role("link", name=link)).to_be_attached()
    page.locator(".topbar nav").get_by_role("link", name="Shares").click()
    page.wait_for_url("**/shares/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()


def test_the_model_picker_keeps_convert_within_two_screens_and_converts(site_rows, sized_page, data_dir):
    from playwright.sync_api import expect

    user, _, _ = site_rows
    page, viewport = sized_page, sized_page.viewport
    login(page, "mara", "mara-password-1")
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    page.goto("/")
    convert = page.get_by_role("button", name="Convert", exact=True)
    top = page.evaluate("(el) => el.getBoundingClientRect().top + window.scrollY", convert.element_handle())
    assert top < 2 * viewport["height"], top  # it was ~4000 px down at 390 px wide
    cards = page.locator(".model-card")
    assert cards.count() == len(MODEL_NAMES) + 1  # and "Faces", a generator a photo can be projected into
    # Every card is still there to pick: the last one is reached by scrolling the picker.
    last = page.get_by_role("checkbox", name="Hubble deep field")
    last_card = cards.filter(has_text="Hubble deep field")
    last_card.scroll_into_view_if_needed()
    last_card.click()
    expect(last).to_be_checked()
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    last_card.click()  # unpicked again: it is the own-style model, which would ask for a style picture
    expect(last).not_to_be_checked()
    page.get_by_role("checkbox", name="Rain princess").check(force=True)
    page.set_input_files("input[name=image]", str(data_dir / "images" / "content" / "amber.jpg"))
    convert.click()
    page.wait_for_url("**/gallery/**")
    made = Conversion.objects.filter(owner=user).order_by("-created_at").first()
    assert made.art_model.name == "Rain princess" and made.photo.original_name == "amber.jpg"


def test_an_unknown_address_is_the_sites_own_404_with_a_way_back(site_rows, sized_page):
    from playwright.sync_api import expect

    page, width = sized_page, sized_page.viewport["width"]
    login(page, "mara", "mara-password-1")
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    response = page.goto("/no/such/page/")
    assert response.status == 404
    expect(page.get_by_role("heading", name="There is nothing here")).to_be_visible()
    expect(page.locator(".topbar .brand")).to_have_text("Restyle")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(250, 249, 246)"  # site.css
    page.get_by_role("link", name="Your gallery").click()
    page.wait_for_url("**/gallery/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    # The favicon: linked from every page, and /favicon.ico answers with it.
    icon = page.request.get("/favicon.ico")
    assert icon.status == 200 and icon.headers["content-type"].startswith("image/svg+xml") and b"<svg" in icon.body()
