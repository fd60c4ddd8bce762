"""Webhooks through the real stack: a real Celery worker (and its sweeper) on a real Redis sends
a conversion's completion to a real HTTP receiver, retrying after a 500, and a generated image's
(StyleGAN2) completion and cancel likewise; and a person registers a
webhook, reads its secret, sends a test event and sees it in the log, in Chromium at desktop and
phone sizes."""
import json
import time

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.translator.webhooks import receiver as receivers
from translator import services
from translator.models import Conversion, Generation, Webhook, WebhookDelivery
from translator.webhooks import signing

pytestmark = pytest.mark.e2e


@pytest.fixture
def receiver(settings):
    """A receiver on 127.0.0.1, which the tests' workers are allowed to call (tests/e2e/conftest.py)."""
    settings.RESTYLE_WEBHOOKS_ALLOW_PRIVATE = True
    settings.RESTYLE_WEBHOOKS_ALLOW_HTTP = True
    server = receivers.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


def verified(request, secret):
    return signing.verify(secret=secret, body=request.body, timestamp=request.headers["X-Restyle-Timestamp"],
                          signature_header=request.headers["X-Restyle-Signature"])


def wait_for_row(pk, status, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = WebhookDelivery.objects.get(pk=pk)
        if row.status == status:
            return row
        time.sleep(0.2)
    return WebhookDelivery.objects.get(pk=pk)


def test_a_conversions_completion_reaches_the_receiver_and_a_500_is_retried(celery_worker, wave_model, receiver, data_dir):
    owner = get_user_model().objects.create_user("hooked", password="hooked-password-1")
    hook = services.save_webhook(owner=owner, url=receiver.url, site_url="http://restyle.test/")
    receiver.answers = [500]
    photo = SimpleUploadedFile("amber.jpg", (data_dir / "images" / "content" / "amber.jpg").read_bytes())
    conversion = services.create_conversion(owner=owner, upload=photo, art_model=wave_model)

    # The worker converts, stores the event with the result, and sends it; the 500 makes it wait
    # a second, and the worker's sweeper sends it again.
    assert receiver.wait_for(2, timeout=180), f"the receiver got {len(receiver.requests)} requests"
    first, second = receiver.requests[:2]
    conversion.refresh_from_db()
    row = wait_for_row(first.headers["X-Restyle-Delivery"], WebhookDelivery.Status.SUCCEEDED)

    assert conversion.status == Conversion.Status.SUCCEEDED
    assert row.conversion_id == conversion.id and row.event == "conversion.succeeded"
    assert (row.status, row.attempts, row.last_status_code) == ("succeeded", 2, 200)
    assert first.body == second.body and second.headers["X-Restyle-Delivery"] == str(row.pk)
    assert verified(first, hook.secret) and verified(second, hook.secret)
    body = json.loads(second.body)
    assert body["event"] == "conversion.succeeded"
    assert body["conversion"]["id"] == str(conversion.id) and body["conversion"]["status"] == "succeeded"
    assert body["conversion"]["model"] == {"slug": "wave", "name": wave_model.name}
    assert body["conversion"]["result_url"] == f"http://restyle.test/api/v1/conversions/{conversion.id}/result/"
    assert len(receiver.requests) == 2


def test_a_generated_images_completion_and_a_cancel_reach_the_receiver(celery_worker, sg2_model, receiver):
    owner = get_user_model().objects.create_user("maker", password="maker-password-1")
    hook = services.save_webhook(owner=owner, url=receiver.url, site_url="http://restyle.test/")
    cancelled = services.create_grid(owner=owner, art_model=sg2_model, seeds="5")[0]
    services.cancel_generation(generation=cancelled)  # before a worker takes it: ended at once
    [made] = services.create_grid(owner=owner, art_model=sg2_model, seeds="4")

    assert receiver.wait_for(2, timeout=180), f"the receiver got {len(receiver.requests)} requests"
    time.sleep(1)  # nothing more is sent: one event per end
    bodies = {json.loads(r.body)["event"]: (r, json.loads(r.body)) for r in receiver.requests}
    made.refresh_from_db()

    assert made.status == Generation.Status.SUCCEEDED, made.error
    assert len(receiver.requests) == 2 and sorted(bodies) == ["generation.cancelled", "generation.succeeded"]
    request, body = bodies["generation.succeeded"]
    assert verified(request, hook.secret) and request.headers["X-Restyle-Event"] == "generation.succeeded"
    assert body["generation"]["id"] == str(made.pk) and body["generation"]["seed"] == 4
    assert body["generation"]["result_url"] == f"http://restyle.test/api/v1/generations/{made.pk}/image/"
    request, body = bodies["generation.cancelled"]
    assert verified(request, hook.secret) and body["generation"]["id"] == str(cancelled.pk)
    for request, _ in bodies.values():
        row = wait_for_row(request.headers["X-Restyle-Delivery"], WebhookDelivery.Status.SUCCEEDED)
        assert row.status == "succeeded" and row.generation_id in (made.pk, cancelled.pk)


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 800}, {"width": 390, "height": 844}], ids=["desktop", "phone"])
def test_a_person_registers_a_webhook_sends_a_test_event_and_reads_the_log(
    celery_worker, receiver, browser, live_server, viewport, settings
):
    from playwright.sync_api import expect

    owner = get_user_model().objects.create_user("ada", password="ada-password-1")
    context = browser.new_context(base_url=live_server.url, viewport=viewport)
    context.set_default_timeout(30_000)
    page = context.new_page()
    refused = []  # the site's Content-Security-Policy refusing anything of the page
    page.on("console", lambda m: refused.append(m.text) if m.type == "error" and "Content Security Policy" in m.text else None)
    try:
        page.goto("/accounts/login/")
        page.get_by_label("Username").fill("ada")
        page.get_by_label("Password").fill("ada-password-1")
        page.get_by_role("button", name="Log in").click()
        page.get_by_role("link", name="Webhooks").click()
        expect(page).to_have_url("/account/webhooks/")

        # A refused address first (as on a site that allows no private addresses): the reason
        # shows on the form and nothing is stored.
        settings.RESTYLE_WEBHOOKS_ALLOW_PRIVATE = False
        page.get_by_label("Receiver URL").fill("https://169.254.169.254/latest/meta-data/")
        page.get_by_role("button", name="Register").click()
        expect(page.locator("[data-url-error]")).to_contain_text("169.254.169.254 is a link-local address")
        assert not Webhook.objects.exists()

        settings.RESTYLE_WEBHOOKS_ALLOW_PRIVATE = True  # the receiver is on 127.0.0.1
        page.get_by_label("Receiver URL").fill(receiver.url)
        page.get_by_role("button", name="Register").click()
        expect(page.get_by_text("Saved.")).to_be_visible()
        hook = Webhook.objects.get(owner=owner)
        expect(page.get_by_label("Signing secret")).to_have_value(hook.secret)
        shown_secret = page.get_by_label("Signing secret").input_value()

        page.get_by_role("button", name="Send a test event").click()
        expect(page.get_by_text("A test event is on its way")).to_be_visible()
        assert receiver.wait_for(1, timeout=60)
        row = wait_for_row(receiver.requests[0].headers["X-Restyle-Delivery"], WebhookDelivery.Status.SUCCEEDED)
        page.reload()
        line = page.locator(f'[data-delivery="{row.pk}"]')
        expect(line).to_contain_text("Test event")
        expect(line).to_contain_text("Delivered")
        expect(line.locator("[data-attempts]")).to_have_text("1")
        expect(line.locator("[data-status-code]")).to_have_text("200")
        assert (row.status, row.attempts, row.webhook_id) == ("succeeded", 1, hook.pk)
        assert verified(receiver.requests[0], shown_secret)
        # The page fits the phone: nothing wider than the screen.
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        assert refused == []
    finally:
        context.close()
