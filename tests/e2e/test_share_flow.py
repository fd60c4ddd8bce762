"""Share links in a real browser, at desktop size and on a 390x844 phone: the owner makes a link
from a result's page, a fresh logged-out browser opens it and sees the picture and no owner name
(and the served bytes carry none of the photo's metadata), the owner revokes it, and the
logged-out page is then the 404."""
import io

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from tests.translator.share.conftest import assert_no_metadata, photo_with_metadata
from translator import services
from translator.models import Conversion, ShareLink

from .conftest import VIEWPORTS, wait_for
from .test_csp_browser import LISTEN

pytestmark = pytest.mark.e2e



@pytest.mark.parametrize("viewport", VIEWPORTS.values(), ids=VIEWPORTS.keys())
def test_the_owner_shares_a_result_a_logged_out_visitor_sees_it_until_it_is_revoked(
    celery_worker, wave_model, browser, live_server, viewport
):
    from playwright.sync_api import expect

    owner = get_user_model().objects.create_user("rosalind", password="rosalind-password-1")
    conversion = services.create_conversion(
        owner=owner, upload=SimpleUploadedFile("IMG_2041.jpg", photo_with_metadata(size=(320, 240))),
        art_model=wave_model,
    )

    def finished():
        conversion.refresh_from_db()
        return conversion.is_finished

    wait_for(finished, 120, "the real worker to convert the photo")
    assert conversion.status == Conversion.Status.SUCCEEDED, conversion.error

    owner_context = browser.new_context(base_url=live_server.url, viewport=viewport)
    visitor_context = browser.new_context(base_url=live_server.url, viewport=viewport)  # never logged in
    try:
        page = owner_context.new_page()
        page.add_init_script(LISTEN)  # collects Content-Security-Policy refusals on every page
        page.goto("/accounts/login/")
        page.get_by_label("Username").fill("rosalind")
        page.get_by_label("Password").fill("rosalind-password-1")
        page.get_by_role("button", name="Log in").click()
        page.goto(conversion.get_absolute_url())
        assert page.evaluate("window.__cspViolations") == []
        page.get_by_text("Share a link").click()
        page.get_by_label("In 7 days").check()
        page.get_by_role("button", name="Make a link").click()

        expect(page).to_have_url(f"/shares/#share-{ShareLink.objects.get().id}")
        link = ShareLink.objects.get()
        assert link.conversion_id == conversion.id and link.owner == owner and link.expires_at is not None
        assert not link.show_owner and not link.include_original
        url_field = page.locator("[data-share-url]")
        expect(url_field).to_be_visible()
        expect(url_field).to_have_value(f"{live_server.url}/s/{link.token}/")
        # The link row fits the screen (the header's own fit at 390 px is the mobile work's).
        box = page.locator(f"#share-{link.id}").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], box
        assert url_field.bounding_box()["x"] + url_field.bounding_box()["width"] <= viewport["width"]

        assert page.evaluate("window.__cspViolations") == []

        visitor = visitor_context.new_page()
        visitor.add_init_script(LISTEN)
        visitor.goto(f"/s/{link.token}/")
        expect(visitor.get_by_role("heading", name="Made with The Great Wave")).to_be_visible()
        picture = visitor.locator("img[data-shared-result]")
        expect(picture).to_be_visible()
        wait_for(lambda: picture.evaluate("img => img.complete && img.naturalWidth") > 0, 20, "the picture to load")
        assert picture.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [
            conversion.result_width, conversion.result_height,
        ]
        body = visitor.locator("body").inner_text()
        assert "rosalind" not in body and "IMG_2041" not in body
        hrefs = visitor.eval_on_selector_all("a[href]", "links => links.map(a => a.getAttribute('href'))")
        assert not [href for href in hrefs if "/gallery" in href or "/albums" in href], hrefs
        served = visitor_context.request.get(f"/s/{link.token}/result")
        assert served.status == 200 and served.headers["cache-control"] == "private, no-store"
        assert served.headers["referrer-policy"] == "no-referrer"
        assert Image.open(io.BytesIO(served.body())).size == (conversion.result_width, conversion.result_height)
        assert_no_metadata(served.body())
        link.refresh_from_db()
        assert link.views == 1
        assert visitor.evaluate("window.__cspViolations") == []

        page.get_by_role("button", name="Revoke").click()
        expect(page.locator(f"#share-{link.id} [data-share-state]")).to_have_text("Revoked")
        link.refresh_from_db()
        assert link.revoked_at is not None

        answer = visitor.reload()
        assert answer.status == 404
        expect(visitor.get_by_text("This link does not exist, or it no longer does.")).to_be_visible()
        expect(visitor.locator("img[data-shared-result]")).to_have_count(0)
        assert visitor_context.request.get(f"/s/{link.token}/result").status == 404
    finally:
        owner_context.close()
        visitor_context.close()
