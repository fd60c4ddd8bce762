"""Password guessing is held off: after RESTYLE_LOGIN_FAILURE_LIMIT failed logins an account, and
an address, cannot log in (not even with the right password) until the cool-off has passed. The
web login and the admin's login are here; the API's token endpoint is in api/test_api_lockout.py."""
import datetime as dt

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

pytestmark = pytest.mark.django_db

LIMIT = settings.RESTYLE_LOGIN_FAILURE_LIMIT
COOLOFF_S = settings.RESTYLE_LOGIN_COOLOFF_MINUTES * 60
LOGIN = "/accounts/login/"
ADMIN_LOGIN = "/admin/login/"
ATTACKER, SOMEONE_ELSE = "203.0.113.66", "198.51.100.7"


def web_login(username, password, addr=ATTACKER, url=LOGIN, client=None, **headers):
    client = client or Client()
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=addr, **headers)


def assert_locked_page(response):
    assert response.status_code == 429, response.content
    page = response.content.decode()
    assert 'class="topbar"' in page  # the site's own page, not a bare message
    assert "Too many failed logins" in page and "Try again after" in page
    assert 0 < int(response["Retry-After"]) <= COOLOFF_S


def test_the_limit_and_cool_off_are_the_documented_defaults():
    assert (LIMIT, settings.RESTYLE_LOGIN_COOLOFF_MINUTES) == (10, 15)
    assert settings.AXES_HANDLER == "axes.handlers.database.AxesDatabaseHandler"


def test_a_guessed_account_is_locked_even_for_the_right_password(user):
    for n in range(LIMIT - 1):
        assert web_login("alice", f"guess-{n}").status_code == 400
    assert_locked_page(web_login("alice", "last-guess"))

    client = Client()
    assert_locked_page(web_login("alice", "alice-password-1", client=client))
    assert client.get("/gallery/").status_code == 302  # not logged in
    # Per account: alice is locked from any address.
    assert_locked_page(web_login("alice", "alice-password-1", addr=SOMEONE_ELSE))


def test_other_people_still_log_in_while_an_account_is_locked(user, other_user):
    for n in range(LIMIT):
        web_login("alice", f"guess-{n}")
    assert web_login("bob", "bob-password-1", addr=SOMEONE_ELSE).status_code == 302
    # ...but not from the guessing address: it is locked too.
    assert_locked_page(web_login("bob", "bob-password-1"))


def test_an_address_trying_many_accounts_is_locked(user, other_user):
    for n in range(LIMIT):
        web_login(f"user{n}", "guess")
    assert_locked_page(web_login("bob", "bob-password-1"))
    assert web_login("bob", "bob-password-1", addr=SOMEONE_ELSE).status_code == 302
    assert web_login("alice", "alice-password-1", addr=SOMEONE_ELSE).status_code == 302


def test_the_lockout_ends_after_the_cool_off(user):
    for n in range(LIMIT):
        web_login("alice", f"guess-{n}")
    # Attempts made during the lockout do not count: the time the page gives holds.
    first = web_login("alice", "alice-password-1")
    assert_locked_page(first)
    assert web_login("alice", "another-guess").status_code == 429
    assert int(web_login("alice", "x")["Retry-After"]) <= int(first["Retry-After"])
    AccessAttempt.objects.update(attempt_time=timezone.now() - dt.timedelta(seconds=COOLOFF_S + 1))
    assert web_login("alice", "alice-password-1").status_code == 302


def test_the_admin_login_is_covered(db):
    get_user_model().objects.create_superuser("root", password="root-password-1")
    for n in range(LIMIT):
        web_login("root", f"guess-{n}", url=ADMIN_LOGIN)
    client = Client()
    assert_locked_page(web_login("root", "root-password-1", url=ADMIN_LOGIN, client=client))
    assert client.get("/admin/").status_code == 302


def test_a_forged_forwarded_for_header_does_not_make_a_new_client(user, other_user):
    # No trusted proxy (the default): X-Forwarded-For is whatever the client wrote, so ignored.
    for n in range(LIMIT):
        web_login(f"user{n}", "guess", HTTP_X_FORWARDED_FOR=f"10.9.8.{n}")
    assert_locked_page(web_login("bob", "bob-password-1", HTTP_X_FORWARDED_FOR="10.9.9.9"))
