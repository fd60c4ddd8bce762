"""Who a client is, by address, for the rate limits and the login lockouts alike: REMOTE_ADDR
unless RESTYLE_TRUSTED_PROXY_COUNT says proxies of ours stand in front, and then the address our
outermost proxy saw (the right-most one the client could not have written)."""
import pytest
from django.conf import settings as django_settings
from django.test import Client
from rest_framework.test import APIClient

from translator.client_address import client_ip

pytestmark = pytest.mark.django_db

SIGNUP = "/api/v1/auth/signup/"
PROXY = "127.0.0.1"


@pytest.fixture
def one_trusted_proxy(settings):
    """What RESTYLE_TRUSTED_PROXY_COUNT=1 sets (tests/translator/test_production_settings.py
    checks the variable lands here)."""
    settings.REST_FRAMEWORK = {**django_settings.REST_FRAMEWORK, "NUM_PROXIES": 1}


def sign_up(n, **meta):
    return APIClient().post(SIGNUP, {"username": f"person{n}", "password": "a-long-pass-phrase"}, **meta)


def test_by_default_the_client_is_the_connecting_address(rf):
    assert django_settings.REST_FRAMEWORK["NUM_PROXIES"] == 0
    request = rf.get("/", REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="10.1.1.1, 10.2.2.2")
    assert client_ip(request) == "198.51.100.7"


def test_a_forged_forwarded_for_does_not_escape_the_sign_up_limit(settings, assert_error):
    settings.RESTYLE_SIGNUP_RATE = "2/hour"
    assert sign_up(0, REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="10.0.0.1").status_code == 201
    assert sign_up(1, REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="10.0.0.2").status_code == 201
    response = sign_up(2, REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="10.0.0.3")
    assert_error(response, 429, code="throttled")
    # Another real client still may.
    assert sign_up(3, REMOTE_ADDR="198.51.100.8").status_code == 201


def test_behind_one_proxy_the_client_is_the_address_it_appended(rf, one_trusted_proxy):
    # The client wrote "10.6.6.6"; our proxy appended the address it saw.
    request = rf.get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="10.6.6.6, 203.0.113.7")
    assert client_ip(request) == "203.0.113.7"
    assert client_ip(rf.get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.7")) == "203.0.113.7"


def test_behind_one_proxy_the_sign_up_limit_follows_the_real_client(settings, one_trusted_proxy, assert_error):
    settings.RESTYLE_SIGNUP_RATE = "2/hour"
    for n, forged in enumerate(["10.0.0.1", "10.0.0.2"]):
        meta = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": f"{forged}, 203.0.113.7"}
        assert sign_up(n, **meta).status_code == 201
    meta = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "10.0.0.3, 203.0.113.7"}
    assert_error(sign_up(2, **meta), 429, code="throttled")
    # Everyone comes through the same proxy, yet another client has a budget of its own.
    assert sign_up(3, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.8").status_code == 201


def test_behind_one_proxy_the_login_lockout_follows_the_real_client(one_trusted_proxy, user, other_user):
    for n in range(django_settings.RESTYLE_LOGIN_FAILURE_LIMIT):
        Client().post("/accounts/login/", {"username": f"user{n}", "password": "guess"},
                      REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"10.0.0.{n}, 203.0.113.66")
    locked = Client().post("/accounts/login/", {"username": "bob", "password": "bob-password-1"},
                           REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="10.1.1.1, 203.0.113.66")
    assert locked.status_code == 429
    elsewhere = Client().post("/accounts/login/", {"username": "bob", "password": "bob-password-1"},
                              REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert elsewhere.status_code == 302
