"""Exports of a model version's network (ONNX, TorchScript): the admin's request, the worker's
side of each job (claim, renew, finish, fail) and the sweeper's.

An export is delivered exactly as a conversion is (services.delivery): the row is the job, a
worker claims it once with a lease, every worker write is fenced by its claim token, an expired
lease is queued again or failed after the last attempt, a lost message is resent. It goes to
the conversions queue of the version's device class, so the worker that runs the version's
conversions (and has the right torch) makes its export.

Bad input raises django ValidationError with a `field` attribute; a version that cannot be
exported, or an identical export already waiting or running, raises ServiceError.
"""
import logging
import os
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from config import queues

from .. import routing
from ..models import EXPORT_FAMILIES, Family, ModelExport
from . import delivery
from .errors import ServiceError

log = logging.getLogger(__name__)

Status = ModelExport.Status
MIN_SIDE, MAX_SIDE = 16, 2048


def _invalid(field, message, code="invalid"):
    error = ValidationError(message, code=code)
    error.field = field
    return error


def _side(value, field):
    if isinstance(value, bool):
        value = None
    try:
        side = int(value)
    except (TypeError, ValueError):
        raise _invalid(field, f"The {field} is a whole number of pixels from {MIN_SIDE} to {MAX_SIDE}.")
    if not MIN_SIDE <= side <= MAX_SIDE:
        raise _invalid(field, f"A {field} of {side} px is out of range: exports take {MIN_SIDE} to {MAX_SIDE} px.")
    return side


def export_queue(*, version):
    """The conversions queue of the version's device class (a GPU version's export is made on a GPU
    worker, which has the CUDA build of torch the version runs on)."""
    return queues.queue_name("conversions", routing.version_device_class(version))


def export_refusal(*, version):
    """Why `version` cannot be exported, in words; "" when it can (the admin's page shows this in
    place of the form)."""
    family = version.art_model.family
    if family not in EXPORT_FAMILIES:
        reason = ("it has no network: it paints each photo by an optimisation of its own"
                  if family == Family.GATYS else "its generator makes images from seeds; it does not convert photos")
        return f"{version} is a {Family(family).label} model, which cannot be exported: {reason}."
    if not version.checkpoint:
        return f"{version} has no checkpoint to export."
    return ""


def request_export(*, version, format, height=512, width=512, user=None):
    """Queue an export of `version` to `format` (onnx or torchscript) for height x width inputs;
    the message goes once the row is committed. Returns the ModelExport."""
    if format not in ModelExport.Format.values:
        raise _invalid("format", f"Export to ONNX or TorchScript, not “{format}”.")
    height, width = _side(height, "height"), _side(width, "width")
    if refusal := export_refusal(version=version):
        raise ServiceError(refusal)
    if ModelExport.objects.filter(version=version, format=format, height=height, width=width,
                                  status__in=ModelExport.ACTIVE).exists():
        raise _duplicate(version, format, height, width)
    try:
        with transaction.atomic():
            export = ModelExport.objects.create(
                version=version, format=format, height=height, width=width, requested_by=user,
                queue=export_queue(version=version),
            )
            transaction.on_commit(lambda: delivery.send(export))
    except IntegrityError:  # an identical request committed between the check and the insert
        raise _duplicate(version, format, height, width) from None
    return export


def _duplicate(version, format, height, width):
    label = ModelExport.Format(format).label
    return ServiceError(f"An export of {version} to {label} at {width}x{height} is already queued or running; "
                        "its row below shows when it is done.")


# --- the worker's side ------------------------------------------------------------------------


def claim_export(*, export_id, worker=""):
    """Take a queued export for this worker; None if it is not waiting (taken, deleted) or it
    went to a queue this worker's device may not serve."""
    return delivery.claim(
        ModelExport, pk=export_id, waiting=Q(status=Status.QUEUED, queue__in=routing.runnable_queues()),
        running_status=Status.RUNNING, lease_seconds=settings.RESTYLE_JOB_LEASE_SECONDS,
        started_at=timezone.now(), worker=worker[:200],
    )


def renew_export_lease(*, claim):
    return delivery.renew(ModelExport, claim, Status.RUNNING, lease_seconds=settings.RESTYLE_JOB_LEASE_SECONDS)


def finish_export(*, claim, path, mae, max_abs, seconds):
    """Store the exported file at `path` and its parity figures. A row deleted or taken from this
    worker meanwhile keeps nothing of this attempt (the stored file is removed again). Returns the
    row, or None when the file was dropped."""
    export = delivery.fenced(ModelExport, claim, Status.RUNNING).select_related("version__art_model").first()
    if export is None:
        return None
    storage = export.file.storage
    target = ModelExport._meta.get_field("file").generate_filename(export, export.file_name())
    with open(path, "rb") as handle:
        name = storage.save(target, File(handle))
    done = delivery.fenced(ModelExport, claim, Status.RUNNING).update(
        file=name, size_bytes=os.path.getsize(path), mae=mae, max_abs=max_abs, seconds=seconds,
        status=Status.SUCCEEDED, finished_at=timezone.now(), lease_expires_at=None, error="",
    )
    if not done:
        storage.delete(name)
        return None
    export.refresh_from_db()
    return export


def fail_export(*, claim, reason):
    delivery.fenced(ModelExport, claim, Status.RUNNING).update(
        status=Status.FAILED, error=reason[:2000], finished_at=timezone.now(), lease_expires_at=None
    )


# --- the sweeper ------------------------------------------------------------------------------


def sweep_exports(*, now=None):
    """Settle what faults left behind, as for conversions: an expired lease is queued again, or
    failed after its last attempt; queued too long: failed; a lost message: resent."""
    now = now or timezone.now()
    counts = {"requeued": 0, "failed": 0, "expired": 0, "resent": 0}
    expired = ModelExport.objects.filter(status=Status.RUNNING, lease_expires_at__lt=now)
    for pk, token, attempts in expired.values_list("pk", "claim_token", "attempts"):
        row = ModelExport.objects.filter(pk=pk, claim_token=token, status=Status.RUNNING, lease_expires_at__lt=now)
        if attempts >= settings.RESTYLE_JOB_MAX_ATTEMPTS:
            counts["failed"] += row.update(
                status=Status.FAILED, finished_at=now, lease_expires_at=None,
                error=f"The worker making this export stopped {attempts} times before it was done, so it was given up.",
            )
        elif row.update(status=Status.QUEUED, queued_at=now, dispatched_at=None, dispatches=0, lease_expires_at=None):
            log.warning("export %s: its worker stopped answering (attempt %d); queued again", pk, attempts)
            counts["requeued"] += 1
    minutes = settings.RESTYLE_QUEUE_TIMEOUT_MINUTES
    counts["expired"] = ModelExport.objects.filter(
        status=Status.QUEUED, queued_at__lt=now - timedelta(minutes=minutes)
    ).update(
        status=Status.FAILED, finished_at=now,
        error=f"No worker of its queue took this export within {minutes:g} minutes (none was free, or none is "
        "running). Ask for it again later.",
    )
    counts["resent"] = delivery.resend_overdue(ModelExport, Q(status=Status.QUEUED), now=now)
    return counts
