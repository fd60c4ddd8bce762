"""Webhooks: save, rotate, delete; record an event as a delivery row; send it; retry; sweep.

A delivery's row is its job, as a conversion's is (services.delivery): the event's row is written
in the same transaction as the conversion's (or generated image's) new state, its wake-up message goes on commit, a
worker claims the row (one conditional UPDATE, with a lease) before it sends, and the sweeper
sends a new message for every pending row whose next attempt is due and that no live worker
holds. So an event is never lost and never sent by two workers at once; a worker killed in the
middle of a send means the receiver may see that delivery again (same X-Restyle-Delivery id).

Retries: a network error, a timeout, a 408 (request timeout), a 429 (too many requests) or a
5xx is tried again after RESTYLE_WEBHOOK_RETRY_SECONDS; any other answer below 200 or from 300
is final: the receiver has understood and refused the request (a bad signature, an unknown path,
a redirect we do not follow), and the same bytes would be refused the same way.
"""
import json
import logging
import time
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from ..models import Conversion, Generation, Webhook, WebhookDelivery
from ..webhooks import addresses, signing, transport
from . import delivery
from .errors import ServiceError

log = logging.getLogger(__name__)

Status = WebhookDelivery.Status
Event = WebhookDelivery.Event
EVENT_OF_STATUS = {
    Conversion.Status.SUCCEEDED: Event.SUCCEEDED,
    Conversion.Status.FAILED: Event.FAILED,
    Conversion.Status.CANCELLED: Event.CANCELLED,
}
# Its own table: a generation's statuses are spelled as a conversion's, its events are not.
GENERATION_EVENT_OF_STATUS = {
    Generation.Status.SUCCEEDED: Event.GENERATION_SUCCEEDED,
    Generation.Status.FAILED: Event.GENERATION_FAILED,
    Generation.Status.CANCELLED: Event.GENERATION_CANCELLED,
}
RETRYABLE_STATUS_CODES = {408, 429}
# Longer than a send can take (connect + read timeouts), so a live sender is never overtaken.
LEASE_MARGIN_SECONDS = 30


# --- the webhook -----------------------------------------------------------------------------


def _url_error(message):
    error = ValidationError(message, code="invalid_url")
    error.field = "url"
    return error


def check_url(*, url):
    """The URL as it will be called, or ValidationError (field "url") saying why not."""
    try:
        addresses.check(url)
    except addresses.RefusedURL as exc:
        raise _url_error(str(exc)) from None
    except addresses.UnresolvedHost as exc:
        raise _url_error(f"Events cannot be sent to this URL: {exc}.") from None
    return url.strip()


def save_webhook(*, owner, url, site_url=""):
    """Register or change the owner's webhook. A new one gets a secret; changing the URL keeps
    it. Raises ValidationError (field "url") for a URL that may not be called; nothing is stored."""
    url = check_url(url=url)
    hook = Webhook.objects.filter(owner=owner).first()
    if hook is None:
        return Webhook.objects.create(owner=owner, url=url, secret=signing.new_secret(), site_url=site_url[:300])
    hook.url = url
    hook.site_url = site_url[:300] or hook.site_url
    hook.save(update_fields=["url", "site_url", "updated_at"])
    return hook


def rotate_secret(*, webhook):
    """A new secret at once: deliveries signed from now on use it (a pending retry too)."""
    webhook.secret = signing.new_secret()
    webhook.secret_rotated_at = timezone.now()
    webhook.save(update_fields=["secret", "secret_rotated_at", "updated_at"])
    return webhook


def delete_webhook(*, webhook):
    """Remove the webhook and its delivery log; pending deliveries are never sent."""
    webhook.delete()


# --- events ------------------------------------------------------------------------------------


def record_conversion_event(*, conversion_id):
    """A conversion has just ended: record the event for its owner's webhook, if they have one.
    Call inside the transaction that ended it, so the event and the new state are stored together;
    the message goes on commit."""
    conversion = Conversion.objects.select_related("art_model").filter(pk=conversion_id).first()
    return _record_event(conversion, events=EVENT_OF_STATUS, kind="conversion", payload=_conversion_payload)


def record_generation_event(*, generation_id):
    """A generated image has just ended (made, failed, cancelled): record the event for its
    owner's webhook, if they have one. Call inside the transaction that ended it, as for a
    conversion; the message goes on commit."""
    generation = Generation.objects.select_related("art_model").filter(pk=generation_id).first()
    return _record_event(generation, events=GENERATION_EVENT_OF_STATUS, kind="generation", payload=_generation_payload)


def _record_event(job, *, events, kind, payload):
    """The delivery of `job`'s end (`events` maps its status to the event), under `kind` in the
    body; None for a job that is gone, not ended, or whose owner has no webhook."""
    if job is None or job.status not in events:
        return None
    hook = Webhook.objects.filter(owner_id=job.owner_id).first()
    if hook is None:
        return None
    event = events[job.status]
    body = {"event": event.value, "created_at": _iso(timezone.now()), kind: payload(job, hook)}
    return _queue(hook, event=event, payload=body, **{kind: job})


def end_job(rows, *, record, **updates):
    """Move `rows` (one job, filtered by the state it must be in) to an end state and, in the
    same transaction, call `record()` to store its owner's webhook event (sent on commit): the
    event is stored exactly when the new state is. Returns how many rows changed (0 or 1)."""
    with transaction.atomic():
        changed = rows.update(**updates)
        if changed:
            record()
    return changed


def send_test_event(*, webhook):
    """A delivery the owner asks for, to try their receiver; signed and retried like the others."""
    if webhook.deliveries.filter(event=Event.TEST, status=Status.PENDING).exists():
        # One at a time: a button held down must not make the server send a stream of requests.
        raise ServiceError("A test event is already waiting to be sent; see the delivery log.")
    body = {
        "event": Event.TEST.value,
        "created_at": _iso(timezone.now()),
        "message": "A test event from Restyle: your webhook receives and can verify our requests.",
    }
    return _queue(webhook, event=Event.TEST, payload=body)


def redeliver(*, delivery_row):
    """Send a failed delivery's event again, as a new delivery (the failed one stays in the log)."""
    if delivery_row.status != Status.FAILED:
        raise ServiceError("Only a failed delivery can be sent again.")
    if delivery_row.redeliveries.filter(status=Status.PENDING).exists():
        raise ServiceError("This delivery is already being sent again; see the delivery log.")
    with transaction.atomic():
        return _queue(delivery_row.webhook, event=delivery_row.event, payload=delivery_row.payload,
                      conversion=delivery_row.conversion, generation=delivery_row.generation,
                      redelivery_of=delivery_row)


def _queue(hook, *, event, payload, conversion=None, generation=None, redelivery_of=None):
    text = payload if isinstance(payload, str) else json.dumps(payload, separators=(",", ":"), sort_keys=True)
    row = WebhookDelivery.objects.create(
        webhook=hook, event=event, payload=text, conversion=conversion, generation=generation,
        redelivery_of=redelivery_of,
        next_attempt_at=timezone.now(), queue=settings.RESTYLE_WEBHOOK_QUEUE,
    )
    # Stored either way: if the broker cannot be reached now, the sweeper sends it later.
    transaction.on_commit(lambda: delivery.send(row))
    return row


def _iso(moment):
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def _site(hook):
    return settings.RESTYLE_PUBLIC_URL or hook.site_url.rstrip("/")


def _conversion_payload(conversion, hook):
    base = _site(hook)
    api = f"{base}{reverse('api:conversion-detail', args=[conversion.id])}"
    succeeded = conversion.status == Conversion.Status.SUCCEEDED
    return {
        "id": str(conversion.id),
        "status": conversion.status,
        "model": {"slug": conversion.art_model.slug, "name": conversion.art_model.name},
        "url": api,
        "result_url": f"{base}{reverse('api:conversion-result', args=[conversion.id])}" if succeeded else None,
        "error": conversion.error,
        "created_at": _iso(conversion.created_at),
        "started_at": _iso(conversion.started_at),
        "finished_at": _iso(conversion.finished_at),
    }


def _generation_payload(generation, hook):
    base = _site(hook)
    succeeded = generation.status == Generation.Status.SUCCEEDED
    return {
        "id": str(generation.id),
        "status": generation.status,
        "kind": generation.kind,
        # What made it, as the gallery says it ("seed 7", or the mix's sources); seed is null for a mix.
        "description": generation.describe(),
        "seed": generation.seed,
        "model": {"slug": generation.art_model.slug, "name": generation.art_model.name},
        "url": f"{base}{reverse('api:generation-detail', args=[generation.id])}",
        "result_url": f"{base}{reverse('api:generation-image', args=[generation.id])}" if succeeded else None,
        "error": generation.error,
        "created_at": _iso(generation.created_at),
        "started_at": _iso(generation.started_at),
        "finished_at": _iso(generation.finished_at),
    }


# --- sending -----------------------------------------------------------------------------------


def _lease_seconds():
    return settings.RESTYLE_WEBHOOK_CONNECT_TIMEOUT + settings.RESTYLE_WEBHOOK_READ_TIMEOUT + LEASE_MARGIN_SECONDS


def _due(now):
    """Pending, due, and held by no live sender."""
    return Q(status=Status.PENDING, next_attempt_at__lte=now) & (
        Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now)
    )


def attempt_delivery(*, delivery_id):
    """One attempt at sending a delivery (the task's work). Returns the row as it ends up, or
    None when it was not due or another sender holds it."""
    now = timezone.now()
    claim = delivery.claim(
        WebhookDelivery, pk=delivery_id, waiting=_due(now), running_status=None,
        lease_seconds=_lease_seconds(), last_attempt_at=now,
    )
    if claim is None:
        return None
    row = WebhookDelivery.objects.select_related("webhook").filter(pk=delivery_id).first()
    if row is None:  # the webhook was removed meanwhile, and its deliveries with it
        return None
    try:
        outcome = _send(row)
    except Exception as exc:  # a fault of ours: logged, and the row still ends after its retries
        log.exception("webhook delivery %s could not be sent", delivery_id)
        outcome = {"retry": True, "code": None, "error": f"Not sent: an error on our side ({type(exc).__name__}).",
                   "snippet": ""}
    _record(claim, row, **outcome)
    row.refresh_from_db()
    return row


def _send(row):
    """Check the URL again (DNS may have changed since it was saved), sign, POST. Returns what to
    record: retry (bool), status code, error, snippet."""
    try:
        target = addresses.check(row.webhook.url)
    except addresses.RefusedURL as exc:
        return {"retry": False, "code": None, "error": f"Not sent: {exc}", "snippet": ""}
    except addresses.UnresolvedHost as exc:
        return {"retry": True, "code": None, "error": f"Not sent: {exc}.", "snippet": ""}
    body = row.payload.encode()
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Restyle-Webhooks/1",
        signing.EVENT_HEADER: row.event,
        signing.DELIVERY_HEADER: str(row.pk),
        signing.TIMESTAMP_HEADER: str(timestamp),
        signing.SIGNATURE_HEADER: signing.signature(secret=row.webhook.secret, timestamp=timestamp, body=body),
    }
    try:
        answer = transport.post(
            target, body=body, headers=headers,
            connect_timeout=settings.RESTYLE_WEBHOOK_CONNECT_TIMEOUT, read_timeout=settings.RESTYLE_WEBHOOK_READ_TIMEOUT,
        )
    except transport.SendError as exc:
        return {"retry": True, "code": None, "error": str(exc), "snippet": ""}
    code, snippet = answer.status, answer.snippet
    if 200 <= code < 300:
        return {"retry": None, "code": code, "error": "", "snippet": snippet}
    if 300 <= code < 400:
        where = f" to {answer.location}" if answer.location else ""
        return {"retry": False, "code": code, "snippet": snippet,
                "error": f"The receiver answered {code}, a redirect{where}; redirects are not followed: save the final URL."}
    if code >= 500 or code in RETRYABLE_STATUS_CODES:
        return {"retry": True, "code": code, "error": f"The receiver answered {code}.", "snippet": snippet}
    return {"retry": False, "code": code, "snippet": snippet,
            "error": f"The receiver answered {code}: it refused the request, so it is not tried again."}


def _record(claim, row, *, retry, code, error, snippet):
    now = timezone.now()
    updates = {"last_status_code": code, "last_error": error[:500], "response_snippet": snippet[:1000],
               "lease_expires_at": None, "dispatched_at": None}
    waits = settings.RESTYLE_WEBHOOK_RETRY_SECONDS
    if retry is None:
        updates.update(status=Status.SUCCEEDED, next_attempt_at=None, finished_at=now)
    elif retry and claim.attempt <= len(waits):
        updates.update(next_attempt_at=now + timedelta(seconds=waits[claim.attempt - 1]))
    else:
        if retry:
            updates["last_error"] = f"{error} Gave up after {claim.attempt} attempts."[:500]
        updates.update(status=Status.FAILED, next_attempt_at=None, finished_at=now)
    delivery.fenced(WebhookDelivery, claim, Status.PENDING).update(**updates)
    log.info("webhook delivery %s (%s) attempt %d: %s", row.pk, row.event, claim.attempt,
             "delivered" if retry is None else (updates.get("last_error") or code))


def sweep_webhook_deliveries(*, now=None, limit=200):
    """Send a message for each pending delivery that is due and held by no live sender: a retry
    whose wait is over, the first attempt of one whose message never left (broker down), one whose
    sender died (its lease ran out), or one whose message may be lost (sent longer than
    RESTYLE_REDISPATCH_SECONDS ago). Each resend is taken with a compare-and-set, so two sweepers
    never both send it. Returns counts."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.RESTYLE_REDISPATCH_SECONDS)
    candidates = WebhookDelivery.objects.filter(_due(now)).filter(
        Q(dispatched_at__isnull=True) | Q(dispatched_at__lt=stale) | Q(lease_expires_at__lt=now)
    )
    sent = 0
    for pk, queue, dispatched_at in candidates.values_list("pk", "queue", "dispatched_at")[:limit]:
        if not WebhookDelivery.objects.filter(_due(now), pk=pk, dispatched_at=dispatched_at).update(
            dispatched_at=now, dispatches=F("dispatches") + 1, lease_expires_at=None,
        ):
            continue
        if not delivery.send_message(WebhookDelivery, pk, queue):
            # Broker down: undo, so the next sweep tries again.
            WebhookDelivery.objects.filter(pk=pk, dispatched_at=now).update(dispatched_at=dispatched_at)
            break
        sent += 1
    return {"sent": sent}
