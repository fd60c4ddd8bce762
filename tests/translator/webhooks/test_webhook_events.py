"""A conversion's end (done, failed, cancelled, by the worker or by the sweeper) becomes one
delivery for its owner's webhook, stored in the same transaction as the new state."""
import json
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from translator import services
from translator.models import Conversion, WebhookDelivery
from translator.tasks import run_conversion
from translator.webhooks import signing

from .stored import only_delivery

pytestmark = pytest.mark.django_db


def test_a_finished_conversion_reaches_the_receiver_signed_with_its_links(hook, conversion, receiver):
    run_conversion(str(conversion.id))
    conversion.refresh_from_db()
    row, body = only_delivery()

    assert conversion.status == Conversion.Status.SUCCEEDED
    assert row.event == "conversion.succeeded" and row.conversion_id == conversion.id
    assert body["event"] == "conversion.succeeded"
    assert body["conversion"] == {
        "id": str(conversion.id),
        "status": "succeeded",
        "model": {"slug": "tiny", "name": "Tiny"},
        "url": f"http://testserver/api/v1/conversions/{conversion.id}/",
        "result_url": f"http://testserver/api/v1/conversions/{conversion.id}/result/",
        "error": "",
        "created_at": conversion.created_at.isoformat().replace("+00:00", "Z"),
        "started_at": conversion.started_at.isoformat().replace("+00:00", "Z"),
        "finished_at": conversion.finished_at.isoformat().replace("+00:00", "Z"),
    }
    services.attempt_delivery(delivery_id=row.pk)
    [request] = receiver.requests
    assert json.loads(request.body) == body
    assert signing.verify(secret=hook.secret, body=request.body, timestamp=request.headers["X-Restyle-Timestamp"],
                          signature_header=request.headers["X-Restyle-Signature"])


def test_the_public_url_setting_names_the_site_in_links(hook, conversion, settings):
    settings.RESTYLE_PUBLIC_URL = "https://restyle.example.org"
    services.cancel_conversion(conversion=conversion)
    row, body = only_delivery()
    assert body["conversion"]["url"] == f"https://restyle.example.org/api/v1/conversions/{conversion.id}/"
    assert body["conversion"]["result_url"] is None


def test_a_failed_conversion_sends_its_reason(hook, conversion):
    claim = services.claim_conversion(conversion_id=conversion.id)
    services.fail_conversion(claim=claim, reason="The photo could not be read.")
    row, body = only_delivery()
    assert row.event == "conversion.failed"
    assert body["conversion"]["status"] == "failed" and body["conversion"]["error"] == "The photo could not be read."


def test_cancelling_a_queued_or_a_running_conversion_sends_one_event(hook, user, art_model, upload_file):
    queued = services.create_conversion(owner=user, upload=upload_file(), art_model=art_model)
    services.cancel_conversion(conversion=queued)
    running = services.create_conversion(owner=user, upload=upload_file(), art_model=art_model)
    claim = services.claim_conversion(conversion_id=running.id)
    services.cancel_conversion(conversion=running)  # asks the worker to stop: not ended yet
    assert WebhookDelivery.objects.filter(conversion=running).count() == 0
    services.mark_cancelled(claim=claim)
    services.mark_cancelled(claim=claim)  # a second call changes nothing and sends nothing

    events = sorted(WebhookDelivery.objects.values_list("conversion_id", "event"))
    assert events == sorted([(queued.id, "conversion.cancelled"), (running.id, "conversion.cancelled")])


def test_jobs_the_sweeper_ends_send_their_events(hook, user, art_model, upload_file, settings):
    settings.RESTYLE_JOB_MAX_ATTEMPTS = 1
    stuck = services.create_conversion(owner=user, upload=upload_file(), art_model=art_model)
    services.claim_conversion(conversion_id=stuck.id)
    Conversion.objects.filter(pk=stuck.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    stale = services.create_conversion(owner=user, upload=upload_file(), art_model=art_model)
    Conversion.objects.filter(pk=stale.pk).update(queued_at=timezone.now() - timedelta(hours=2))

    counts = services.sweep_conversions()

    assert counts["failed"] == 1 and counts["expired"] == 1
    assert sorted(WebhookDelivery.objects.values_list("conversion_id", "event")) == sorted(
        [(stuck.id, "conversion.failed"), (stale.id, "conversion.failed")]
    )
    assert "No worker was free" in json.loads(WebhookDelivery.objects.get(conversion=stale).payload)["conversion"]["error"]


def test_no_webhook_no_delivery_and_another_users_webhook_hears_nothing(conversion, other_user, local_receivers_allowed, receiver):
    services.save_webhook(owner=other_user, url=receiver.url)
    run_conversion(str(conversion.id))
    assert Conversion.objects.get(pk=conversion.pk).status == Conversion.Status.SUCCEEDED
    assert not WebhookDelivery.objects.exists()


def test_the_event_is_stored_exactly_when_the_new_state_is(hook, conversion):
    """Rolled back together: no event for a state that was never stored."""
    claim = services.claim_conversion(conversion_id=conversion.id)
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            services.fail_conversion(claim=claim, reason="boom")
            assert WebhookDelivery.objects.count() == 1
            raise RuntimeError("the database write failed after all")
    assert Conversion.objects.get(pk=conversion.pk).status == Conversion.Status.RUNNING
    assert not WebhookDelivery.objects.exists()


def test_a_deleted_conversion_keeps_its_delivery_in_the_log(hook, conversion):
    services.cancel_conversion(conversion=conversion)
    services.delete_conversion(conversion=Conversion.objects.get(pk=conversion.pk))
    row, body = only_delivery()
    assert row.conversion_id is None and body["conversion"]["id"] == str(conversion.id)
