"""Requests Django refuses to read (too many files, too many fields, too large) are a 4xx that
says why, on the upload page and in the API: never a 500, and nothing is stored."""
import pytest

pytestmark = pytest.mark.django_db


def test_more_than_100_files_in_one_request_are_refused(door, make_image_bytes, assert_nothing_stored):
    photo = make_image_bytes("JPEG")
    response = door.post([("image", f"p{i}.jpg", photo) for i in range(101)])
    assert response.status_code == 400
    assert "too many files; the limit is 100" in door.refusal(response)
    if door.name == "api":
        assert response.json()["code"] == "too_many_files"
    assert_nothing_stored()


def test_more_than_1000_form_fields_are_refused(door, make_image_bytes, assert_nothing_stored):
    fields = [(f"f{i}", "x") for i in range(1001)]
    response = door.post([("image", "p.jpg", make_image_bytes("JPEG"))], fields)
    assert response.status_code == 400
    assert "too many form fields; the limit is 1000" in door.refusal(response)
    if door.name == "api":
        assert response.json()["code"] == "too_many_fields"
    assert_nothing_stored()


def test_a_22_mb_text_field_is_refused_as_too_large(door, make_image_bytes, assert_nothing_stored):
    response = door.post([("image", "p.jpg", make_image_bytes("JPEG"))], [("note", b"a" * (22 * 1024 * 1024))])
    assert response.status_code == 413
    assert "The request is too large" in door.refusal(response)
    if door.name == "api":
        assert response.json()["code"] == "too_large"
    assert_nothing_stored()


def test_a_refused_page_is_a_page_of_the_site_with_a_way_back(web_door, make_image_bytes):
    response = web_door.post([("image", f"p{i}.jpg", make_image_bytes("JPEG")) for i in range(101)])
    page = response.content.decode()
    assert "<title>Request refused · Restyle</title>" in page
    assert 'href="/">Back to the upload page' in page
    assert "alice" in page  # the person is still shown as logged in


def test_an_unknown_host_is_a_400_in_words_on_pages_and_in_the_api(client):
    page = client.get("/", HTTP_HOST="evil.example")
    assert page.status_code == 400
    assert "not served under that host name" in page.content.decode()
    api = client.get("/api/v1/models/", HTTP_HOST="evil.example")
    assert api.status_code == 400
    assert api.json() == {"code": "bad_request", "message": "This site is not served under that host name."}


def test_with_csrf_checks_on_as_for_a_browser_the_refusal_is_still_the_page(browser_door, make_image_bytes):
    # The CSRF middleware reads the form (for its token) before the view does: the limit trips there.
    assert browser_door.accepted(browser_door.post([("image", "p.jpg", make_image_bytes("JPEG"))]))
    response = browser_door.post([("image", f"p{i}.jpg", make_image_bytes("JPEG")) for i in range(101)])
    assert response.status_code == 400
    assert "too many files; the limit is 100" in browser_door.refusal(response)
    assert "<title>Request refused · Restyle</title>" in response.content.decode()
