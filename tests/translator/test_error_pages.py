"""Errors a person meets are pages in the site's look (header, navigation, a way on); errors an
API client meets keep the API's JSON format."""
import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.template.loader import render_to_string
from django.test import Client
from django.urls import path

from config import urls as site_urls


def boom(request):
    raise RuntimeError("a bug")


def forbidden(request):
    raise PermissionDenied


# The site's URLs, the site's handlers, and views that fail in plain Django (outside DRF).
urlpatterns = [
    path("boom/", boom),
    path("forbidden/", forbidden),
    path("api/v1/boom/", boom),
    path("api/v1/forbidden/", forbidden),
    *site_urls.urlpatterns,
]
handler403, handler404, handler500 = site_urls.handler403, site_urls.handler404, site_urls.handler500

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


def assert_site_page(response, status, words):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert 'class="topbar"' in page and "css/site.css" in page, page
    assert words in page, page
    return page


def test_an_unknown_page_is_a_styled_404_with_my_navigation(alice):
    page = assert_site_page(alice.get("/no/such/page/"), 404, "There is nothing here")
    assert "alice" in page and "Gallery" in page


def test_an_unknown_api_address_is_json(client):
    response = client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": "There is nothing at this address."}


def test_a_forbidden_page_is_a_styled_403(client):
    assert_site_page(client.get("/forbidden/"), 403, "You may not open this page")


def test_a_staff_member_without_the_permission_gets_the_styled_403(client):
    staff = get_user_model().objects.create_user("clerk", password="clerk-password-1", is_staff=True)
    client.force_login(staff)
    assert_site_page(client.get("/admin/translator/artmodel/"), 403, "You may not open this page")


def test_a_forbidden_api_address_is_json(client):
    response = client.get("/api/v1/forbidden/")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_a_server_error_is_a_styled_500():
    client = Client(raise_request_exception=False)
    page = assert_site_page(client.get("/boom/"), 500, "Something went wrong on our side")
    assert "a bug" not in page  # nothing of the error is shown


def test_a_server_error_under_the_api_is_json():
    response = Client(raise_request_exception=False).get("/api/v1/boom/")
    assert response.status_code == 500
    assert response.json()["code"] == "server_error"


def test_the_500_page_renders_without_a_request_or_context():
    page = render_to_string("500.html")
    assert 'class="topbar"' in page and "Something went wrong on our side" in page


def test_a_refused_csrf_token_is_a_styled_page(user):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": "alice", "password": "alice-password-1"})
    assert_site_page(response, 403, "This form has expired")
