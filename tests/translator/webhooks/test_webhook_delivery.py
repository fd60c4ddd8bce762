"""Deliveries against a real HTTP receiver on 127.0.0.1: signed, retried with backoff on network
errors, timeouts, 408/429 and 5xx, failed at once on other refusals, never two senders at once."""
import json
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from translator import services
from translator.models import WebhookDelivery
from translator.services import delivery as job_delivery
from translator.webhooks import signing

pytestmark = pytest.mark.django_db

Status = WebhookDelivery.Status


def send_now(row):
    return services.attempt_delivery(delivery_id=row.pk)


def make_due(row):
    """Time passes: the delivery's next attempt is due now."""
    WebhookDelivery.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))


def test_the_receiver_verifies_the_signature_with_the_secret(hook, receiver):
    row = services.send_test_event(webhook=hook)
    done = send_now(row)

    assert done.status == Status.SUCCEEDED and done.attempts == 1 and done.last_status_code == 200
    assert done.response_snippet == "answer 200" and done.finished_at is not None
    [request] = receiver.requests
    headers = request.headers
    assert request.path == "/hooks/restyle" and headers["Content-Type"] == "application/json"
    assert headers["X-Restyle-Delivery"] == str(row.pk) and headers["X-Restyle-Event"] == "webhook.test"
    assert json.loads(request.body)["event"] == "webhook.test"
    verify = dict(body=request.body, timestamp=headers["X-Restyle-Timestamp"], signature_header=headers["X-Restyle-Signature"])
    assert headers["X-Restyle-Signature"].startswith("sha256=")
    assert signing.verify(secret=hook.secret, **verify)
    assert not signing.verify(secret="whsec_not-the-secret", **verify)
    assert not signing.verify(secret=hook.secret, **{**verify, "body": request.body + b" "})
    # The timestamp is signed: a replay with a fresh timestamp fails, and the old one is too old later.
    assert not signing.verify(secret=hook.secret, **{**verify, "timestamp": str(int(time.time()) + 1)})
    assert not signing.verify(secret=hook.secret, now=int(headers["X-Restyle-Timestamp"]) + 301, **verify)


def test_a_receiver_answering_500_twice_then_200_gets_three_attempts_and_the_log_shows_them(
    hook, receiver, settings, alice_api
):
    settings.RESTYLE_WEBHOOK_RETRY_SECONDS = [0, 0, 0, 0, 0]
    receiver.answers = [500, 500]
    row = services.send_test_event(webhook=hook)

    first = send_now(row)
    assert first.status == Status.PENDING and first.last_status_code == 500
    assert first.last_error == "The receiver answered 500." and first.response_snippet == "answer 500"
    assert send_now(row).status == Status.PENDING
    done = send_now(row)

    assert done.status == Status.SUCCEEDED and done.attempts == 3 and done.last_status_code == 200
    assert len(receiver.requests) == 3
    # The same delivery each time: one id and one body, so the receiver can tell a retry.
    assert {r.headers["X-Restyle-Delivery"] for r in receiver.requests} == {str(row.pk)}
    assert {r.body for r in receiver.requests} == {row.payload.encode()}
    [logged] = alice_api.get("/api/v1/me/webhook/deliveries/").json()
    assert (logged["id"], logged["status"], logged["attempts"], logged["last_status_code"]) == (str(row.pk), "succeeded", 3, 200)


def test_retries_wait_10_s_then_a_minute_and_so_on_then_give_up(hook, receiver):
    receiver.answers = [503] * 6
    row = services.send_test_event(webhook=hook)
    waits = []
    for _ in range(5):
        sent = send_now(row)
        waits.append(round((sent.next_attempt_at - sent.last_attempt_at).total_seconds()))
        assert send_now(row) is None  # not due yet: nothing is sent early
        make_due(row)
    last = send_now(row)

    assert waits == [10, 60, 300, 1800, 7200]
    assert last.status == Status.FAILED and last.attempts == 6 and last.next_attempt_at is None
    assert last.last_error == "The receiver answered 503. Gave up after 6 attempts."
    assert len(receiver.requests) == 6


@pytest.mark.parametrize("code", [408, 429, 500, 502, 503])
def test_timeouts_overload_and_server_errors_are_tried_again(hook, receiver, code):
    receiver.answers = [code]
    row = send_now(services.send_test_event(webhook=hook))
    assert row.status == Status.PENDING and row.last_status_code == code and row.next_attempt_at > timezone.now()


@pytest.mark.parametrize("code", [400, 401, 403, 404, 410, 422])
def test_a_receiver_that_refuses_the_request_is_not_asked_again(hook, receiver, code):
    """4xx other than 408/429: the receiver understood and refused (a bad signature, an unknown
    path); the same bytes would be refused the same way, so it fails at once."""
    receiver.answers = [code]
    row = send_now(services.send_test_event(webhook=hook))
    assert row.status == Status.FAILED and row.attempts == 1 and row.last_status_code == code
    assert "refused the request" in row.last_error
    assert send_now(row) is None and len(receiver.requests) == 1


def test_a_redirect_is_not_followed(hook, receiver):
    receiver.answers = [302]
    row = send_now(services.send_test_event(webhook=hook))
    assert row.status == Status.FAILED and row.last_status_code == 302
    assert "redirect to https://elsewhere.example/" in row.last_error
    assert len(receiver.requests) == 1


def test_a_receiver_slower_than_the_read_timeout_is_tried_again(hook, receiver, settings):
    settings.RESTYLE_WEBHOOK_READ_TIMEOUT = 0.3
    receiver.answers = [(200, 1.5)]
    row = send_now(services.send_test_event(webhook=hook))
    assert row.status == Status.PENDING and row.last_status_code is None
    assert "timed out" in row.last_error


def test_a_receiver_that_is_down_is_tried_again(user, local_receivers_allowed):
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    hook = services.save_webhook(owner=user, url=f"http://127.0.0.1:{port}/")
    row = send_now(services.send_test_event(webhook=hook))
    assert row.status == Status.PENDING and row.attempts == 1 and row.last_error


def test_a_delivery_held_by_a_live_sender_is_not_sent_again_until_its_lease_runs_out(hook, receiver):
    row = services.send_test_event(webhook=hook)
    held = job_delivery.claim(WebhookDelivery, pk=row.pk, waiting=services.webhooks._due(timezone.now()),
                              running_status=None, lease_seconds=60)
    assert held is not None

    assert send_now(row) is None and receiver.requests == []
    # The holder died: once its lease runs out the delivery is due again, and the sweeper's
    # candidates include it (its message was sent, but its sender is gone).
    WebhookDelivery.objects.filter(pk=row.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1), dispatched_at=timezone.now()
    )
    assert WebhookDelivery.objects.filter(services.webhooks._due(timezone.now()), pk=row.pk).exists()
    done = send_now(row)
    assert done.status == Status.SUCCEEDED and done.attempts == 2 and len(receiver.requests) == 1


def test_the_sender_that_lost_its_claim_writes_nothing(hook, receiver):
    row = services.send_test_event(webhook=hook)
    stale = job_delivery.claim(WebhookDelivery, pk=row.pk, waiting=services.webhooks._due(timezone.now()),
                               running_status=None, lease_seconds=60)
    WebhookDelivery.objects.filter(pk=row.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    assert send_now(row).status == Status.SUCCEEDED
    services.webhooks._record(stale, row, retry=True, code=500, error="late", snippet="")
    row.refresh_from_db()
    assert row.status == Status.SUCCEEDED and row.last_error == ""


def test_the_sweeper_keeps_a_delivery_whose_message_could_not_be_sent(hook, settings):
    """No broker in the unit tests: the sweep sends nothing and leaves the row to the next sweep."""
    row = services.send_test_event(webhook=hook)
    WebhookDelivery.objects.filter(pk=row.pk).update(dispatched_at=None)
    assert services.sweep_webhook_deliveries() == {"sent": 0}
    row.refresh_from_db()
    assert row.status == Status.PENDING and row.dispatched_at is None and row.attempts == 0


def test_a_new_secret_signs_the_next_attempt(hook, receiver, settings):
    settings.RESTYLE_WEBHOOK_RETRY_SECONDS = [0]
    receiver.answers = [500]
    row = services.send_test_event(webhook=hook)
    send_now(row)
    old = hook.secret
    services.rotate_secret(webhook=hook)
    send_now(row)
    second = receiver.requests[1]
    args = dict(body=second.body, timestamp=second.headers["X-Restyle-Timestamp"],
                signature_header=second.headers["X-Restyle-Signature"])
    assert hook.secret != old and signing.verify(secret=hook.secret, **args) and not signing.verify(secret=old, **args)


def test_a_failed_delivery_can_be_sent_again_as_a_new_one(hook, receiver):
    receiver.answers = [404]
    failed = send_now(services.send_test_event(webhook=hook))
    again = services.redeliver(delivery_row=failed)
    with pytest.raises(services.ServiceError, match="already being sent again"):
        services.redeliver(delivery_row=failed)
    done = send_now(again)

    assert done.status == Status.SUCCEEDED and done.redelivery_of_id == failed.pk and done.payload == failed.payload
    assert WebhookDelivery.objects.get(pk=failed.pk).status == Status.FAILED  # the log keeps the failure
    with pytest.raises(services.ServiceError, match="Only a failed delivery"):
        services.redeliver(delivery_row=done)


def test_one_test_event_waits_at_a_time(hook):
    services.send_test_event(webhook=hook)
    with pytest.raises(services.ServiceError, match="already waiting"):
        services.send_test_event(webhook=hook)
    assert WebhookDelivery.objects.count() == 1


def test_a_fault_of_ours_while_sending_still_ends_the_delivery_after_its_retries(hook, settings, monkeypatch):
    """An unexpected exception (a bug) must not leave the row claimed and resent for ever."""
    from translator.webhooks import transport

    def broken(*args, **kwargs):
        raise TypeError("a bug")

    monkeypatch.setattr(transport, "post", broken)
    settings.RESTYLE_WEBHOOK_RETRY_SECONDS = [0]
    row = services.send_test_event(webhook=hook)
    assert send_now(row).status == Status.PENDING
    last = send_now(row)
    assert last.status == Status.FAILED and last.attempts == 2 and "an error on our side (TypeError)" in last.last_error
    assert last.lease_expires_at is None


def test_a_delivery_of_a_removed_webhook_is_dropped(hook):
    row = services.send_test_event(webhook=hook)
    services.delete_webhook(webhook=hook)
    assert send_now(row) is None and not WebhookDelivery.objects.exists()
