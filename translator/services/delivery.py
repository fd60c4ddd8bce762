"""How a job reaches a worker exactly once: claims, leases, fenced writes and wake-up messages.

The job's database row is the job; a broker message only tells a worker to look at it. So:

- A worker **claims** a waiting row with one conditional UPDATE (one more attempt, a fresh claim
  token, a lease). Two messages for the same job, or two workers, can never both win.
- While it works it **renews the lease** (`keep_lease`). Every write it makes afterwards is
  **fenced** by its claim token: a worker that was presumed dead (killed, frozen, cut off) and
  comes back can no longer change the job, so a job never ends twice and keeps one result.
- The **sweeper** (`translator.sweeper`, in every worker) gives a job whose lease ran out back
  to the queue, or fails it after its last attempt, and sends a new message for a waiting job
  whose message may have been lost (never sent because the broker was down, lost in a broker
  restart, held by a worker that died), waiting longer each time.
- **Sending** never holds up a web request: a short timeout, and after a failure the broker is
  left alone for a few seconds (`broker_breaker`). The job is stored either way; the sweeper
  sends it when the broker is back.
"""
import logging
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.db.models import F, Q
from django.utils import timezone

log = logging.getLogger(__name__)

# The Celery task that runs each kind of job, given the row's primary key.
TASKS = {
    "conversion": "translator.tasks.run_conversion",
    "trainingrun": "translator.tasks.run_training",
    "dataset": "translator.tasks.check_dataset",
    "generation": "translator.tasks.run_generation",
    "modelexport": "translator.tasks.export_model_version",
    "webhookdelivery": "translator.tasks.send_webhook",
}


class Breaker:
    """After a failure, say "down" for a few seconds instead of waiting on a broken service again."""

    def __init__(self, name):
        self.name = name
        self._until = 0.0

    @property
    def is_open(self):
        return time.monotonic() < self._until

    def trip(self):
        if not self.is_open:
            log.warning("%s is unreachable; not asked again for %g s", self.name, settings.RESTYLE_BROKER_RETRY_SECONDS)
        self._until = time.monotonic() + settings.RESTYLE_BROKER_RETRY_SECONDS

    def reset(self):
        self._until = 0.0


broker_breaker = Breaker("the broker")


@dataclass(frozen=True)
class Claim:
    """A worker's hold on one job: which row, which attempt, and the token that fences its writes."""

    pk: object
    token: str
    attempt: int


def claim(model, *, pk, waiting, running_status, lease_seconds, **updates):
    """Take the row `pk` if it matches `waiting` (a Q of its waiting state). Returns a Claim, or
    None when it is not waiting (another worker has it, or it was cancelled or deleted)."""
    token = uuid.uuid4().hex
    now = timezone.now()
    taken = model.objects.filter(waiting, pk=pk).update(
        attempts=F("attempts") + 1,
        claim_token=token,
        lease_expires_at=now + timedelta(seconds=lease_seconds),
        **({"status": running_status} if running_status else {}),
        **updates,
    )
    if not taken:
        return None
    attempt = model.objects.filter(pk=pk, claim_token=token).values_list("attempts", flat=True).first()
    return Claim(pk=pk, token=token, attempt=attempt or 0) if attempt else None


def fenced(model, claim, *statuses):
    """The claimed row, only while the claim is still the row's (and it is in one of `statuses`)."""
    rows = model.objects.filter(pk=claim.pk, claim_token=claim.token)
    return rows.filter(status__in=statuses) if statuses else rows


def renew(model, claim, *statuses, lease_seconds, **updates):
    """Push the lease forward; False once the claim is no longer the row's."""
    until = timezone.now() + timedelta(seconds=lease_seconds)
    return bool(fenced(model, claim, *statuses).update(lease_expires_at=until, **updates))


@contextmanager
def keep_lease(renew_once, *, every):
    """Call `renew_once()` every `every` seconds in a thread while the block runs. Yields an Event
    that is set once a renewal says the claim is lost (so a slow job can stop early)."""
    done, lost = threading.Event(), threading.Event()

    def loop():
        try:
            while not done.wait(every):
                try:
                    if not renew_once():
                        lost.set()
                        return
                except Exception:  # a database blip: the next renewal tries again
                    log.warning("could not renew a lease", exc_info=True)
        finally:
            connection.close()

    thread = threading.Thread(target=loop, name="lease", daemon=True)
    thread.start()
    try:
        yield lost
    finally:
        done.set()
        thread.join(timeout=5)


# --- messages ---------------------------------------------------------------------------------


def send(job):
    """Send the wake-up message for `job` (a DeliveredJob row) and record it. True if the broker
    took it; False (logged) if the broker is unreachable, in which case the sweeper sends it later."""
    if not _send_message(type(job), job.pk, job.queue):
        return False
    type(job).objects.filter(pk=job.pk, dispatched_at__isnull=True).update(
        dispatched_at=timezone.now(), dispatches=F("dispatches") + 1
    )
    return True


def send_message(model, pk, queue):
    """Send one wake-up message for row `pk` of `model`; False (logged) if the broker is unreachable."""
    return _send_message(model, pk, queue)


def _send_message(model, pk, queue):
    from config import broker
    from config.celery import app

    if broker_breaker.is_open:
        return False
    timeout = settings.RESTYLE_BROKER_TIMEOUT_SECONDS
    try:
        with app.connection_for_write(
            # One try, every wait bounded, in the words of the broker's transport (Redis or AMQP).
            transport_options={**settings.CELERY_BROKER_TRANSPORT_OPTIONS,
                               **broker.send_options(settings.CELERY_BROKER_URL, timeout)},
            connect_timeout=timeout,
        ) as conn:
            app.send_task(TASKS[model._meta.model_name], args=[str(pk)], queue=queue, connection=conn, retry=False)
    except Exception as exc:  # kombu raises several unrelated types for an unreachable broker
        log.warning("could not send the message for %s %s to %s: %s", model._meta.model_name, pk, queue, exc)
        broker_breaker.trip()
        return False
    broker_breaker.reset()
    return True


def resend_overdue(model, waiting, *, now, limit=200):
    """Send a new message for each waiting row whose message may be lost: never sent (a sweep
    after it was queued) or sent long ago (the wait doubles with each message, so a long but
    healthy queue gets few duplicates; a duplicate finds the job taken and does nothing).
    Returns how many were sent."""
    base = settings.RESTYLE_REDISPATCH_SECONDS
    candidates = model.objects.filter(waiting).filter(
        Q(dispatched_at__isnull=True, queued_at__lt=now - timedelta(seconds=settings.RESTYLE_SWEEP_SECONDS))
        | Q(dispatched_at__lt=now - timedelta(seconds=base))
    )
    sent = 0
    for pk, queue, dispatched_at, dispatches in candidates.values_list("pk", "queue", "dispatched_at", "dispatches")[:limit]:
        if dispatched_at is not None and now - dispatched_at < timedelta(seconds=base * 2 ** min(dispatches - 1, 4)):
            continue
        # Take the resend with a compare-and-set, so two sweepers never both send it.
        if not model.objects.filter(waiting, pk=pk, dispatched_at=dispatched_at).update(
            dispatched_at=now, dispatches=F("dispatches") + 1
        ):
            continue
        if not _send_message(model, pk, queue):
            # Broker down: undo, so the job is sent as soon as it is back (not after the doubled wait).
            model.objects.filter(pk=pk, dispatched_at=now).update(dispatched_at=dispatched_at, dispatches=F("dispatches") - 1)
            break
        sent += 1
    if sent:
        log.warning("resent %d %s messages that may have been lost", sent, model._meta.model_name)
    return sent
