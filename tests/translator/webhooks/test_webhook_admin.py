"""The admin's view of users' webhooks: the hooks (never their secrets) and the delivery log, a
failed delivery sent again as a new row that the real receiver gets, and no adding from there."""
import pytest
from django.urls import reverse

from translator import services
from translator.models import Webhook, WebhookDelivery

pytestmark = pytest.mark.django_db

Status = WebhookDelivery.Status


@pytest.fixture
def failed_delivery(hook, receiver):
    receiver.answers = [410]
    return services.attempt_delivery(delivery_id=services.send_test_event(webhook=hook).pk)


def test_the_hook_page_shows_the_owner_and_url_but_never_the_secret(admin_client, hook):
    listing = admin_client.get(reverse("admin:translator_webhook_changelist")).content.decode()
    assert hook.url in listing and hook.owner.username in listing
    page = admin_client.get(reverse("admin:translator_webhook_change", args=[hook.pk])).content.decode()
    assert hook.url in page and hook.secret not in page
    assert admin_client.get(reverse("admin:translator_webhook_add")).status_code == 403


def test_the_log_lists_a_failed_delivery_with_its_code_and_filters_by_status(admin_client, failed_delivery):
    assert failed_delivery.status == Status.FAILED and failed_delivery.last_status_code == 410
    changelist = reverse("admin:translator_webhookdelivery_changelist")
    page = admin_client.get(changelist, {"status__exact": "failed"}).content.decode()
    assert str(failed_delivery.pk) in page and "410" in page
    assert str(failed_delivery.pk) not in admin_client.get(changelist, {"status__exact": "succeeded"}).content.decode()
    assert admin_client.get(reverse("admin:translator_webhookdelivery_add")).status_code == 403


def test_send_again_queues_a_new_delivery_that_the_receiver_gets_and_refuses_a_pending_one(
    admin_client, failed_delivery, receiver
):
    changelist = reverse("admin:translator_webhookdelivery_changelist")
    done = admin_client.post(changelist, {"action": "send_again", "_selected_action": [str(failed_delivery.pk)]},
                             follow=True)
    assert "Queued 1 delivery(ies) again" in done.content.decode()
    again = WebhookDelivery.objects.get(redelivery_of=failed_delivery)
    assert again.status == Status.PENDING and again.payload == failed_delivery.payload
    receiver.answers = [200]
    assert services.attempt_delivery(delivery_id=again.pk).status == Status.SUCCEEDED
    assert receiver.requests[-1].body.decode() == failed_delivery.payload

    refused = admin_client.post(changelist, {"action": "send_again", "_selected_action": [str(again.pk)]},
                                follow=True)
    assert "Only a failed delivery can be sent again." in refused.content.decode()
    assert WebhookDelivery.objects.count() == 2


def test_deleting_a_hook_in_the_admin_removes_it_and_its_log(admin_client, failed_delivery):
    hook = failed_delivery.webhook
    admin_client.post(reverse("admin:translator_webhook_delete", args=[hook.pk]), {"post": "yes"})
    assert not Webhook.objects.exists() and not WebhookDelivery.objects.exists()
