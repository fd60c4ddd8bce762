"""The site's upload form and sign-up form spend the same budgets as the API: one counter per
user for uploads, one per address for sign-ups. Over the limit the page says so with a 429 and
Retry-After, and nothing is stored. A cache that cannot be reached lets requests in."""
import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from translator.models import Conversion, Photo

pytestmark = pytest.mark.django_db

UPLOAD, API_UPLOAD = "/", "/api/v1/conversions/"
SIGNUP, API_SIGNUP = "/accounts/signup/", "/api/v1/auth/signup/"


def web_upload(client, art_model, upload_file):
    return client.post(UPLOAD, {"image": upload_file(), "art_model": art_model.pk})


def api_upload(user, art_model, upload_file):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return api.post(API_UPLOAD, {"image": upload_file(), "model": art_model.pk}, format="multipart")


def web_sign_up(n, addr="198.51.100.7"):
    password = "a-long-pass-phrase"
    return Client().post(
        SIGNUP, {"username": f"web{n}", "password1": password, "password2": password}, REMOTE_ADDR=addr
    )


def api_sign_up(n, addr="198.51.100.7"):
    return APIClient().post(API_SIGNUP, {"username": f"api{n}", "password": "a-long-pass-phrase"}, REMOTE_ADDR=addr)


def assert_refused_page(response, words):
    assert response.status_code == 429, response.content
    page = response.content.decode()
    assert 'class="topbar"' in page
    assert words in page and "Try again in" in page
    assert int(response["Retry-After"]) > 0


def test_web_uploads_are_limited_per_user_with_a_page_saying_when(
    alice, other_user, art_model, upload_file, settings, list_stored_files
):
    settings.RESTYLE_UPLOAD_RATE = "2/minute"
    for _ in range(2):
        assert web_upload(alice, art_model, upload_file).status_code == 302
    stored = list_stored_files()
    response = web_upload(alice, art_model, upload_file)
    assert_refused_page(response, "The limit is 2 uploads per minute.")
    assert int(response["Retry-After"]) <= 60
    assert Conversion.objects.count() == 2 and Photo.objects.count() == 2
    assert list_stored_files() == stored
    # Another user has a budget of their own, and looking is not limited.
    bob = Client()
    bob.force_login(other_user)
    assert web_upload(bob, art_model, upload_file).status_code == 302
    assert alice.get(UPLOAD).status_code == 200


def test_uploads_through_the_site_and_the_api_share_one_budget(alice, user, art_model, upload_file, settings, assert_error):
    settings.RESTYLE_UPLOAD_RATE = "2/minute"
    assert web_upload(alice, art_model, upload_file).status_code == 302
    assert api_upload(user, art_model, upload_file).status_code == 202
    assert web_upload(alice, art_model, upload_file).status_code == 429
    assert_error(api_upload(user, art_model, upload_file), 429, code="throttled")
    assert Conversion.objects.count() == 2


def test_web_sign_ups_are_limited_per_address(settings):
    settings.RESTYLE_SIGNUP_RATE = "2/hour"
    assert web_sign_up(0).status_code == 302
    assert web_sign_up(1).status_code == 302
    assert_refused_page(web_sign_up(2), "The limit is 2 sign-ups per hour.")
    assert not get_user_model().objects.filter(username="web2").exists()
    assert web_sign_up(3, addr="198.51.100.8").status_code == 302


def test_sign_ups_through_the_site_and_the_api_share_one_budget(settings, assert_error):
    settings.RESTYLE_SIGNUP_RATE = "2/hour"
    assert web_sign_up(0).status_code == 302
    assert api_sign_up(0).status_code == 201
    assert web_sign_up(1).status_code == 429
    assert_error(api_sign_up(1), 429, code="throttled")


def test_the_limits_let_requests_in_when_the_cache_is_unreachable(alice, user, art_model, upload_file, settings, caplog):
    settings.RESTYLE_UPLOAD_RATE = settings.RESTYLE_SIGNUP_RATE = "1/hour"
    # A Redis nobody listens on: every counter read fails to connect.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": "redis://127.0.0.1:9/0"}}
    for _ in range(2):
        assert web_upload(alice, art_model, upload_file).status_code == 302
        assert api_upload(user, art_model, upload_file).status_code == 202
    assert web_sign_up(0).status_code == 302 and web_sign_up(1).status_code == 302
    assert api_sign_up(0).status_code == 201 and api_sign_up(1).status_code == 201
    assert "rate limiting is unavailable" in caplog.text
