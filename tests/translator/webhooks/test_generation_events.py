"""A generated image's end (made, failed, cancelled; by the worker, the owner or the sweeper)
becomes one delivery for its owner's webhook, stored in the same transaction as the new state,
signed and received by a real HTTP receiver. The images are made by the real task from the
tiny32 StyleGAN2 checkpoint (random weights) installed as `stylegan2_model`."""
import json
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from translator import services
from translator.models import Generation, WebhookDelivery
from translator.tasks import run_generation
from translator.webhooks import signing

from .stored import only_delivery

pytestmark = pytest.mark.django_db


def iso(moment):
    return moment.isoformat().replace("+00:00", "Z")


def received(row, *, hook, receiver):
    """Send the delivery to the real receiver; return the body it got, after checking the signature."""
    services.attempt_delivery(delivery_id=row.pk)
    [request] = receiver.requests
    assert request.headers["X-Restyle-Event"] == row.event
    assert request.headers["X-Restyle-Delivery"] == str(row.pk)
    assert signing.verify(secret=hook.secret, body=request.body, timestamp=request.headers["X-Restyle-Timestamp"],
                          signature_header=request.headers["X-Restyle-Signature"])
    assert WebhookDelivery.objects.get(pk=row.pk).status == WebhookDelivery.Status.SUCCEEDED
    return json.loads(request.body)


def events():
    return sorted(WebhookDelivery.objects.values_list("generation_id", "event"))


def test_a_made_image_reaches_the_receiver_signed_with_its_links(hook, user, stylegan2_model, receiver):
    [row] = services.create_grid(owner=user, art_model=stylegan2_model, seeds="7")
    assert not WebhookDelivery.objects.exists()  # queued is not an end
    run_generation(str(row.pk))
    row.refresh_from_db()
    delivery, body = only_delivery()

    assert row.status == Generation.Status.SUCCEEDED, row.error
    assert delivery.event == "generation.succeeded" and delivery.generation_id == row.pk
    assert delivery.conversion_id is None
    assert body["event"] == "generation.succeeded"
    assert body["generation"] == {
        "id": str(row.pk),
        "status": "succeeded",
        "kind": "seed",
        "description": "seed 7",
        "seed": 7,
        "model": {"slug": "tiny-gan", "name": "Tiny GAN"},
        "url": f"http://testserver/api/v1/generations/{row.pk}/",
        "result_url": f"http://testserver/api/v1/generations/{row.pk}/image/",
        "error": "",
        "created_at": iso(row.created_at),
        "started_at": iso(row.started_at),
        "finished_at": iso(row.finished_at),
    }
    assert received(delivery, hook=hook, receiver=receiver) == body


def test_the_links_in_the_payload_answer_in_the_api(hook, user, stylegan2_model, alice_api):
    [row] = services.create_grid(owner=user, art_model=stylegan2_model, seeds="3")
    run_generation(str(row.pk))
    _, body = only_delivery()
    detail = alice_api.get(body["generation"]["url"].removeprefix("http://testserver"))
    image = alice_api.get(body["generation"]["result_url"].removeprefix("http://testserver"))
    assert detail.status_code == 200 and detail.json()["id"] == str(row.pk)
    assert image.status_code == 200 and b"".join(image.streaming_content).startswith(b"\x89PNG")


def test_a_failed_image_sends_its_reason(hook, user, stylegan2_model, receiver):
    [row] = services.create_grid(owner=user, art_model=stylegan2_model, seeds="1")
    claim = services.claim_generation(generation_id=row.pk)
    services.fail_generation(claim=claim, reason="The model could not be loaded.")
    delivery, body = only_delivery()

    assert delivery.event == "generation.failed" and delivery.generation_id == row.pk
    assert body["generation"]["status"] == "failed"
    assert body["generation"]["error"] == "The model could not be loaded."
    assert body["generation"]["result_url"] is None
    assert received(delivery, hook=hook, receiver=receiver) == body


def test_an_image_cancelled_while_queued_sends_one_event(hook, user, stylegan2_model, receiver, alice_api):
    [row] = services.create_grid(owner=user, art_model=stylegan2_model, seeds="2")
    assert alice_api.post(f"/api/v1/generations/{row.pk}/cancel/").status_code == 202
    run_generation(str(row.pk))  # its message arrives after all: nothing to do, nothing more sent
    delivery, body = only_delivery()

    assert delivery.event == "generation.cancelled" and delivery.generation_id == row.pk
    assert body["generation"]["status"] == "cancelled" and body["generation"]["result_url"] is None
    assert received(delivery, hook=hook, receiver=receiver) == body


def test_an_image_cancelled_while_running_sends_its_event_when_the_worker_stops(hook, user, stylegan2_model):
    [row] = services.create_grid(owner=user, art_model=stylegan2_model, seeds="4")
    claim = services.claim_generation(generation_id=row.pk)
    services.cancel_generation(generation=row)  # asks the worker to stop: not ended yet
    assert not WebhookDelivery.objects.exists()
    dropped = services.finish_generation(claim=claim, png_bytes=b"png", thumbnail_bytes=b"jpg", latent_bytes=b"npz",
                                         side=32, load_seconds=0.1, run_seconds=0.1)
    services.mark_generation_cancelled(claim=claim)  # a second end changes nothing and sends nothing

    assert dropped is None
    assert events() == [(row.pk, "generation.cancelled")]


def test_images_the_sweeper_ends_send_their_events(hook, user, stylegan2_model, settings):
    settings.RESTYLE_JOB_MAX_ATTEMPTS = 1
    past = timezone.now() - timedelta(seconds=1)
    stuck, silent_cancel, stale, requeued = services.create_grid(owner=user, art_model=stylegan2_model, seeds="1-4")
    for row in (stuck, silent_cancel):
        services.claim_generation(generation_id=row.pk)
    services.cancel_generation(generation=silent_cancel)
    Generation.objects.filter(pk__in=[stuck.pk, silent_cancel.pk]).update(lease_expires_at=past)
    Generation.objects.filter(pk=stale.pk).update(queued_at=timezone.now() - timedelta(hours=2))

    counts = services.sweep_generations()

    assert (counts["failed"], counts["cancelled"], counts["expired"]) == (1, 1, 1)
    assert events() == sorted([
        (stuck.pk, "generation.failed"), (silent_cancel.pk, "generation.cancelled"), (stale.pk, "generation.failed"),
    ])
    assert "No worker was free" in json.loads(WebhookDelivery.objects.get(generation=stale).payload)["generation"]["error"]
    assert not WebhookDelivery.objects.filter(generation=requeued).exists()  # still queued: no end, no event


def test_no_webhook_no_delivery_and_another_users_webhook_hears_nothing(
    user, other_user, stylegan2_model, receiver, local_receivers_allowed,
):
    services.save_webhook(owner=other_user, url=receiver.url)
    [row] = services.create_grid(owner=user, art_model=stylegan2_model, seeds="5")
    run_generation(str(row.pk))
    assert Generation.objects.get(pk=row.pk).status == Generation.Status.SUCCEEDED
    assert not WebhookDelivery.objects.exists()


def test_the_event_is_stored_exactly_when_the_new_state_is(hook, user, stylegan2_model):
    """Rolled back together: no event for a state that was never stored."""
    [row] = services.create_grid(owner=user, art_model=stylegan2_model, seeds="6")
    claim = services.claim_generation(generation_id=row.pk)
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            services.fail_generation(claim=claim, reason="boom")
            assert WebhookDelivery.objects.count() == 1
            raise RuntimeError("the database write failed after all")
    assert Generation.objects.get(pk=row.pk).status == Generation.Status.RUNNING
    assert not WebhookDelivery.objects.exists()


def test_a_deleted_image_keeps_its_delivery_in_the_log(hook, user, stylegan2_model):
    [row] = services.create_grid(owner=user, art_model=stylegan2_model, seeds="8")
    services.cancel_generation(generation=row)
    services.delete_generation(generation=Generation.objects.get(pk=row.pk))
    delivery, body = only_delivery()
    assert delivery.generation_id is None and body["generation"]["id"] == str(row.pk)


def test_the_log_page_and_the_api_link_the_image(hook, user, stylegan2_model, alice, alice_api, receiver):
    [row] = services.create_grid(owner=user, art_model=stylegan2_model, seeds="9")
    services.cancel_generation(generation=row)
    delivery, _ = only_delivery()
    receiver.answers = [410]
    services.attempt_delivery(delivery_id=delivery.pk)  # refused: it may be sent again
    again = services.redeliver(delivery_row=WebhookDelivery.objects.get(pk=delivery.pk))

    page = alice.get("/account/webhooks/").content.decode()
    [listed, first] = alice_api.get("/api/v1/me/webhook/deliveries/").json()  # newest first

    assert page.count(f'href="/generated/{row.pk}/"') == 2 and "Generated image cancelled" in page
    assert again.generation_id == row.pk
    assert (listed["id"], listed["event"], listed["generation"], listed["conversion"]) == (
        str(again.pk), "generation.cancelled", str(row.pk), None)
    assert first["generation"] == str(row.pk) and first["status"] == "failed"
