"""The token endpoint is held off like the web login (tests/translator/test_login_lockout.py):
failures count per account and per address, together with the site's, and a locked-out client
gets a 429 in the API's error format with Retry-After."""
import pytest
from django.conf import settings
from django.test import Client
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

LIMIT = settings.RESTYLE_LOGIN_FAILURE_LIMIT
COOLOFF_S = settings.RESTYLE_LOGIN_COOLOFF_MINUTES * 60
TOKEN = "/api/v1/auth/token/"
ATTACKER, SOMEONE_ELSE = "203.0.113.66", "198.51.100.7"


def api_login(username, password, addr=ATTACKER, **headers):
    return APIClient().post(TOKEN, {"username": username, "password": password}, REMOTE_ADDR=addr, **headers)


def web_login(username, password, addr=ATTACKER, **headers):
    return Client().post("/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=addr, **headers)


def test_the_token_endpoint_locks_out_with_the_api_error_format(user, other_user, assert_error):
    for n in range(LIMIT - 1):
        assert_error(api_login("alice", f"guess-{n}"), 400, code="invalid_credentials")
    response = api_login("alice", "last-guess")
    assert_error(response, 429, code="locked_out", words="Try again after")
    response = api_login("alice", "alice-password-1", addr=SOMEONE_ELSE)  # per account
    assert_error(response, 429, code="locked_out", words="Too many failed logins")
    assert 0 < int(response["Retry-After"]) <= COOLOFF_S
    assert "token" not in response.json()
    assert api_login("bob", "bob-password-1", addr=SOMEONE_ELSE).status_code == 200


def test_the_token_endpoint_locks_out_an_address_trying_many_accounts(user, other_user, assert_error):
    for n in range(LIMIT):
        api_login(f"user{n}", "guess")
    assert_error(api_login("bob", "bob-password-1"), 429, code="locked_out")
    assert api_login("bob", "bob-password-1", addr=SOMEONE_ELSE).status_code == 200


def test_failures_on_the_site_and_the_api_count_together(user):
    half = LIMIT // 2
    for n in range(half):
        web_login("alice", f"web-guess-{n}")
    for n in range(LIMIT - half):
        api_login("alice", f"api-guess-{n}")
    assert web_login("alice", "alice-password-1").status_code == 429
    assert api_login("alice", "alice-password-1").status_code == 429


def test_a_forged_forwarded_for_header_does_not_make_a_new_client(user, other_user):
    # No trusted proxy (the default): X-Forwarded-For is whatever the client wrote, so ignored.
    for n in range(LIMIT):
        api_login(f"user{n}", "guess", HTTP_X_FORWARDED_FOR=f"10.9.8.{n}")
    assert web_login("bob", "bob-password-1", HTTP_X_FORWARDED_FOR="10.9.9.9").status_code == 429
    assert api_login("bob", "bob-password-1", HTTP_X_FORWARDED_FOR="10.9.9.10").status_code == 429
