"""Tokens and sign-up through the API."""
import pytest
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"
SIGNUP_URL = "/api/v1/auth/signup/"


def test_a_token_is_obtained_with_username_and_password_and_works(api, user):
    response = api.post(TOKEN_URL, {"username": "alice", "password": "alice-password-1"})
    assert response.status_code == 200
    body = response.json()
    assert body["user"]["username"] == "alice"
    api.credentials(HTTP_AUTHORIZATION=f"Token {body['token']}")
    assert api.get("/api/v1/me/").json()["username"] == "alice"
    # Asking again gives the same token: one per user.
    assert api.post(TOKEN_URL, {"username": "alice", "password": "alice-password-1"}).json()["token"] == body["token"]


def test_wrong_credentials_get_a_clear_error(api, user, assert_error):
    response = api.post(TOKEN_URL, {"username": "alice", "password": "nope"})
    assert_error(response, 400, code="invalid_credentials", field="non_field_errors", words="Unable to log in")
    response = api.post(TOKEN_URL, {"username": "alice"})
    assert_error(response, 400, code="required", field="password")


def test_revoking_a_token_makes_it_useless(alice_api, user, assert_error):
    assert alice_api.delete(TOKEN_URL).status_code == 204
    assert not Token.objects.filter(user=user).exists()
    assert_error(alice_api.get("/api/v1/me/"), 401, code="authentication_failed", words="Invalid token")


def test_revoking_needs_authentication(api, assert_error):
    assert_error(api.delete(TOKEN_URL), 401, code="not_authenticated")


def test_sign_up_creates_an_account_with_a_token(api):
    response = api.post(SIGNUP_URL, {"username": "carol", "email": "carol@example.com", "password": "a-long-pass-phrase"})
    assert response.status_code == 201
    body = response.json()
    assert body["user"]["username"] == "carol"
    user = get_user_model().objects.get(username="carol")
    assert user.check_password("a-long-pass-phrase")
    assert Token.objects.get(user=user).key == body["token"]


def test_sign_up_refuses_a_taken_name_and_a_weak_password(api, user, assert_error):
    response = api.post(SIGNUP_URL, {"username": "ALICE", "password": "a-long-pass-phrase"})
    assert_error(response, 400, code="taken", field="username", words="already exists")
    response = api.post(SIGNUP_URL, {"username": "dave", "password": "12345678"})
    body = assert_error(response, 400, field="password")
    assert any("too common" in m for m in body["fields"]["password"])
    response = api.post(SIGNUP_URL, {"username": "bad name!", "password": "a-long-pass-phrase"})
    assert_error(response, 400, field="username")
    assert not get_user_model().objects.filter(username__in=["dave", "bad name!"]).exists()


def test_sign_up_is_rate_limited_per_address(api, settings, assert_error):
    settings.RESTYLE_SIGNUP_RATE = "2/hour"
    for n in range(2):
        assert api.post(SIGNUP_URL, {"username": f"user{n}", "password": "a-long-pass-phrase"}).status_code == 201
    response = api.post(SIGNUP_URL, {"username": "user3", "password": "a-long-pass-phrase"})
    assert_error(response, 429, code="throttled")
    assert int(response["Retry-After"]) > 0
