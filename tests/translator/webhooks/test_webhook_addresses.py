"""Which URLs a webhook may call: refused at save time in words (nothing stored), and checked
again at send time, when no request reaches a refused address; the connection goes to the
address that was checked."""
import socket

import pytest

from translator import services
from translator.models import Webhook, WebhookDelivery

pytestmark = pytest.mark.django_db


@pytest.fixture
def http_allowed(settings):
    settings.RESTYLE_WEBHOOKS_ALLOW_HTTP = True
    return settings


@pytest.mark.parametrize(
    "address, words",
    [
        ("127.0.0.1", "127.0.0.1 is a loopback address"),
        ("10.0.0.1", "10.0.0.1 is a private network address"),
        ("192.168.1.20", "192.168.1.20 is a private network address"),
        ("169.254.169.254", "169.254.169.254 is a link-local address"),
        ("[::1]", "::1 is a loopback address"),
        ("[::ffff:127.0.0.1]", "is a loopback address"),
        ("0.0.0.0", "0.0.0.0 is an unspecified address"),
        ("224.0.0.1", "224.0.0.1 is a multicast address"),
        ("100.64.0.1", "100.64.0.1 is not a public internet address"),
        ("localhost", "localhost resolves to"),
    ],
)
def test_an_address_off_the_public_internet_is_refused_when_saved(user, http_allowed, address, words):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as caught:
        services.save_webhook(owner=user, url=f"https://{address}:8443/hook")
    assert caught.value.field == "url" and words in caught.value.messages[0]
    assert "Use an address on the public internet" in caught.value.messages[0]
    assert not Webhook.objects.exists()


@pytest.mark.parametrize(
    "url, words",
    [
        ("http://93.184.216.34/hook", "must start with https://"),
        ("ftp://93.184.216.34/hook", "must start with https://"),
        ("https://user:pw@93.184.216.34/hook", "must not contain a user name or password"),
        ("https://93.184.216.34:99999/hook", "port must be a number"),
        ("https:///hook", "no host name"),
        ("", "Enter the URL"),
        ("https://no-such-host.invalid/hook", "could not be resolved"),
    ],
)
def test_a_malformed_or_unreachable_url_is_refused_in_words(user, url, words):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as caught:
        services.save_webhook(owner=user, url=url)
    assert words in caught.value.messages[0]
    assert not Webhook.objects.exists()


def test_http_is_allowed_only_when_the_admin_setting_says_so(user, http_allowed, monkeypatch):
    _fake_dns(monkeypatch, {"hooks.example": ["93.184.216.34"]})
    assert services.save_webhook(owner=user, url="http://hooks.example/x").url == "http://hooks.example/x"


def test_a_name_with_one_private_address_among_public_ones_is_refused(user, monkeypatch):
    from django.core.exceptions import ValidationError

    _fake_dns(monkeypatch, {"mixed.example": ["93.184.216.34", "10.1.2.3"]})
    with pytest.raises(ValidationError, match="mixed.example resolves to 10.1.2.3, which is a private network address"):
        services.save_webhook(owner=user, url="https://mixed.example/hook")


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_no_request_reaches_a_refused_address_at_send_time(user, receiver, local_receivers_allowed, settings, host):
    """Saved while the admin allowed private addresses; refused once they no longer are: the
    address is checked again before every send (DNS may have changed too)."""
    hook = services.save_webhook(owner=user, url=receiver.url_on(host))
    row = services.send_test_event(webhook=hook)
    settings.RESTYLE_WEBHOOKS_ALLOW_PRIVATE = False

    done = services.attempt_delivery(delivery_id=row.pk)

    assert done.status == WebhookDelivery.Status.FAILED and done.last_status_code is None
    assert done.last_error.startswith("Not sent: Events cannot be sent to this URL:") and "loopback" in done.last_error
    assert not receiver.wait_for(1, timeout=0.5) and receiver.requests == []


def test_the_request_goes_to_the_address_that_was_checked(user, receiver, local_receivers_allowed, monkeypatch):
    """One DNS answer per attempt, and the connection is made to it: a rebinding name that would
    answer elsewhere on a second lookup never gets that lookup. The Host header keeps the name."""
    lookups = _fake_dns(monkeypatch, {"hook.example": ["127.0.0.1"]}, then={"hook.example": ["10.255.255.1"]})
    hook = services.save_webhook(owner=user, url=receiver.url_on("hook.example"))
    lookups.clear()
    row = services.attempt_delivery(delivery_id=services.send_test_event(webhook=hook).pk)

    assert row.status == WebhookDelivery.Status.SUCCEEDED
    assert lookups == ["hook.example"]
    [request] = receiver.requests
    assert request.headers["Host"] == f"hook.example:{receiver.server.server_port}"


def _fake_dns(monkeypatch, answers, then=None):
    """DNS is outside the project: answer `answers` for these names (then `then` from the second
    lookup on) and pass every other name to the real resolver. Returns the names looked up."""
    real = socket.getaddrinfo
    lookups = []

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in answers:
            return real(host, port, *args, **kwargs)
        lookups.append(host)
        table = then if then and len(lookups) > 1 else answers
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port or 0))
                for a in table[host]]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return lookups
