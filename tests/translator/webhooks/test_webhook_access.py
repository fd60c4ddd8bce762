"""The webhook page and API as the owner, another user (their deliveries are a 404) and
anonymous (login redirect on pages, 401 in the API); bad input is a 400 in words, nothing stored."""
import pytest
from rest_framework.test import APIClient

from translator import services
from translator.models import Webhook, WebhookDelivery

pytestmark = pytest.mark.django_db

PAGE = "/account/webhooks/"
API = "/api/v1/me/webhook/"


@pytest.fixture
def failed_delivery(hook, receiver):
    receiver.answers = [410]
    return services.attempt_delivery(delivery_id=services.send_test_event(webhook=hook).pk)


# --- the page --------------------------------------------------------------------------------


def test_the_owner_registers_sees_the_secret_sends_a_test_and_reads_the_log(alice, user, receiver, local_receivers_allowed):
    page = alice.get(PAGE)
    assert page.status_code == 200 and b"Register a webhook" in page.content

    saved = alice.post(PAGE, {"url": receiver.url}, follow=True)
    hook = Webhook.objects.get(owner=user)
    assert saved.status_code == 200 and hook.url == receiver.url and hook.site_url == "http://testserver/"
    assert hook.secret.encode() in saved.content and b"Saved." in saved.content

    alice.post(f"{PAGE}test")
    row = WebhookDelivery.objects.get(webhook=hook)
    services.attempt_delivery(delivery_id=row.pk)
    log = alice.get(PAGE).content.decode()
    assert f'data-delivery="{row.pk}" data-delivery-status="succeeded"' in log and "Test event" in log
    assert len(receiver.requests) == 1

    old = hook.secret
    alice.post(f"{PAGE}secret")
    hook.refresh_from_db()
    assert hook.secret != old and hook.secret in alice.get(PAGE).content.decode()


def test_a_refused_url_is_a_400_with_the_reason_on_the_page_and_nothing_stored(alice):
    page = alice.post(PAGE, {"url": "https://169.254.169.254/latest/meta-data/"})
    assert page.status_code == 400
    assert "169.254.169.254 is a link-local address" in page.content.decode()
    assert not Webhook.objects.exists()


def test_the_owner_sends_a_failed_delivery_again_and_removes_the_webhook(alice, failed_delivery):
    assert b"Send again" in alice.get(PAGE).content
    alice.post(f"{PAGE}deliveries/{failed_delivery.pk}/redeliver")
    assert WebhookDelivery.objects.filter(redelivery_of=failed_delivery, status="pending").count() == 1

    alice.post(f"{PAGE}remove")
    assert not Webhook.objects.exists() and not WebhookDelivery.objects.exists()


def test_another_user_cannot_touch_alices_deliveries(client, other_user, failed_delivery):
    client.force_login(other_user)
    assert client.post(f"{PAGE}deliveries/{failed_delivery.pk}/redeliver").status_code == 404
    page = client.get(PAGE)
    assert page.status_code == 200 and str(failed_delivery.pk) not in page.content.decode()
    assert client.post(f"{PAGE}test").status_code == 404  # bob has no webhook of his own
    assert client.post(f"{PAGE}secret").status_code == 404
    assert client.post(f"{PAGE}remove").status_code == 404
    assert WebhookDelivery.objects.count() == 1 and Webhook.objects.count() == 1


@pytest.mark.parametrize("method, path", [("get", ""), ("post", ""), ("post", "test"), ("post", "secret"), ("post", "remove")])
def test_anonymous_visitors_are_sent_to_log_in(client, method, path):
    answer = getattr(client, method)(f"{PAGE}{path}")
    assert answer.status_code == 302 and answer["Location"].startswith("/accounts/login/")


def test_anonymous_cannot_redeliver(client, failed_delivery):
    answer = client.post(f"{PAGE}deliveries/{failed_delivery.pk}/redeliver")
    assert answer.status_code == 302 and answer["Location"].startswith("/accounts/login/")
    assert WebhookDelivery.objects.count() == 1


# --- the API ---------------------------------------------------------------------------------


def test_the_owner_puts_gets_rotates_tests_and_deletes_through_the_api(alice_api, user, receiver, local_receivers_allowed):
    assert alice_api.get(API).status_code == 404
    created = alice_api.put(API, {"url": receiver.url}, format="json")
    assert created.status_code == 201 and created.json()["url"] == receiver.url
    secret = created.json()["secret"]
    assert secret.startswith("whsec_") and Webhook.objects.get(owner=user).secret == secret
    changed = alice_api.put(API, {"url": receiver.url_on("localhost")}, format="json")
    assert changed.status_code == 200 and changed.json()["secret"] == secret  # a new URL keeps the secret
    assert alice_api.get(API).json()["url"] == receiver.url_on("localhost")

    rotated = alice_api.post(f"{API}secret/")
    assert rotated.status_code == 200 and rotated.json()["secret"] not in (secret, "")

    queued = alice_api.post(f"{API}test/")
    assert queued.status_code == 202 and queued.json()["event"] == "webhook.test" and queued.json()["status"] == "pending"
    assert alice_api.post(f"{API}test/").status_code == 409
    services.attempt_delivery(delivery_id=queued.json()["id"])
    [logged] = alice_api.get(f"{API}deliveries/").json()
    assert logged["status"] == "succeeded" and logged["attempts"] == 1 and logged["payload"]["event"] == "webhook.test"

    assert alice_api.delete(API).status_code == 204
    assert not Webhook.objects.exists() and alice_api.get(API).status_code == 404


@pytest.mark.parametrize(
    "body, words",
    [
        ({"url": "https://10.0.0.1/hook"}, "10.0.0.1 is a private network address"),
        ({"url": "https://[::1]/hook"}, "::1 is a loopback address"),
        ({"url": "http://93.184.216.34/hook"}, "must start with https://"),
        ({"url": "https://me:secret@93.184.216.34/"}, "must not contain a user name or password"),
        ({}, "This field is required."),
    ],
)
def test_a_refused_url_is_a_400_in_the_api_and_nothing_is_stored(alice_api, body, words):
    answer = alice_api.put(API, body, format="json")
    assert answer.status_code == 400
    assert words in answer.json()["fields"]["url"][0] and answer.json()["message"] == answer.json()["fields"]["url"][0]
    assert not Webhook.objects.exists()


def test_the_owner_redelivers_a_failed_delivery_through_the_api(alice_api, failed_delivery):
    again = alice_api.post(f"{API}deliveries/{failed_delivery.pk}/redeliver/")
    assert again.status_code == 202 and again.json()["redelivery_of"] == str(failed_delivery.pk)
    done = services.attempt_delivery(delivery_id=again.json()["id"])
    assert alice_api.post(f"{API}deliveries/{done.pk}/redeliver/").status_code == 409


def test_another_users_api_sees_nothing_of_alices(bob_api, failed_delivery):
    assert bob_api.get(API).status_code == 404
    assert bob_api.get(f"{API}deliveries/").json() == []
    assert bob_api.post(f"{API}deliveries/{failed_delivery.pk}/redeliver/").status_code == 404
    assert bob_api.post(f"{API}test/").status_code == 404
    assert bob_api.delete(API).status_code == 404
    assert WebhookDelivery.objects.count() == 1 and Webhook.objects.count() == 1


@pytest.mark.parametrize(
    "method, path",
    [("get", ""), ("put", ""), ("delete", ""), ("post", "secret/"), ("post", "test/"), ("get", "deliveries/")],
)
def test_anonymous_api_calls_are_401(method, path, db):
    answer = getattr(APIClient(), method)(f"{API}{path}")
    assert answer.status_code == 401 and answer.json()["code"] == "not_authenticated"


def test_anonymous_api_redeliver_is_401(failed_delivery):
    assert APIClient().post(f"{API}deliveries/{failed_delivery.pk}/redeliver/").status_code == 401
