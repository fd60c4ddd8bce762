"""Conversion jobs: create (validated uploads), claim, progress, cancel, finish, fail, delete.

What a worker writes is fenced by its claim (services.delivery): a worker that lost its lease
(killed, frozen, cut off) and comes back changes nothing, so a job ends once with one result.
"""
import logging
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from config import queues

from .. import output_sizes, routing
from ..models import Conversion, Photo
from ..uploads import clean_image_upload, display_name
from . import delivery, webhooks
from .errors import ServiceError
from .reproduce import new_seed

Status = Conversion.Status
ACTIVE = (Status.RUNNING, Status.CANCELLING)

log = logging.getLogger(__name__)


def create_conversion(*, owner, upload, art_model, style_upload=None, output_long_side=output_sizes.DEFAULT):
    """Validate the upload(s), store them and queue the conversion with `art_model`.

    `style_upload` is the user's own style image, needed by families that paint with one
    (Gatys) and ignored by the others. `output_long_side` is the output-size choice
    (translator.output_sizes: 512, 1024 or 2048, or None for the photo's own size); StyleGAN2
    projections ignore it. Raises django ValidationError for a bad file or choice (its `field`
    attribute says which: "image", "style_image" or "output_size") and ServiceError for a model
    that cannot be used; in every case nothing is stored and nothing is queued.
    """
    version = art_model.current_version
    if not art_model.is_active or version is None:
        raise ServiceError(f"The model “{art_model.name}” is not available.")
    output_long_side = output_sizes.check(output_long_side)
    checked = _validated(upload, field="image")
    checked_style = None
    if art_model.needs_style_image:
        if not style_upload:
            raise _field_error("style_image", f"“{art_model.name}” paints with a style image of yours: add one.", "required")
        checked_style = _validated(style_upload, field="style_image")

    with transaction.atomic():
        photo = _store_photo(owner, upload, checked)
        style = _store_photo(owner, style_upload, checked_style) if checked_style else None
        conversion = Conversion.objects.create(
            owner=owner, photo=photo, style_image=style, art_model=art_model, model_version=version,
            output_long_side=output_long_side, seed=new_seed(art_model),
            # Its kind and the device class its version asks for: only a worker that has one takes it.
            queue=routing.conversion_queue(art_model=art_model, version=version),
        )
        # Stored either way: if the broker cannot be reached now, the sweeper sends it later.
        transaction.on_commit(lambda: delivery.send(conversion))
    return conversion


def _field_error(field, message, code):
    error = ValidationError(message, code=code)
    error.field = field
    return error


def _validated(upload, *, field):
    try:
        return clean_image_upload(upload)
    except ValidationError as exc:
        exc.field = field
        raise


def _store_photo(owner, upload, checked):
    """Store the re-encoded image (`checked.content`), never the uploaded bytes; the client's
    file name is kept only as a label."""
    photo = Photo(
        owner=owner,
        original_name=display_name(getattr(upload, "name", "")),
        format=checked.format,
        width=checked.width,
        height=checked.height,
        size_bytes=checked.size_bytes,
    )
    try:
        photo.image.save("upload", checked.content, save=False)
        photo.save()
    finally:
        checked.content.close()
    return photo


def claim_conversion(*, conversion_id, worker="", worker_device=""):
    """Move a queued job to running for this worker (its name and the device it runs on are
    recorded, for the job's page). Returns its Claim, or None if it is not queued (another worker
    has it, or it was cancelled or deleted) or it asked for a GPU that this worker lacks."""
    claim = delivery.claim(
        Conversion, pk=conversion_id, waiting=Q(status=Status.QUEUED, queue__in=routing.runnable_queues()),
        running_status=Status.RUNNING, lease_seconds=settings.RESTYLE_JOB_LEASE_SECONDS,
        started_at=timezone.now(), worker=worker[:200], worker_device=worker_device[:100],
    )
    if claim is None and Conversion.objects.filter(pk=conversion_id, status=Status.QUEUED).exclude(
        queue__in=routing.runnable_queues()
    ).exists():
        log.warning("conversion %s asks for a GPU and this worker runs on %s; left for a worker with one",
                    conversion_id, settings.RESTYLE_WORKER_DEVICE)
    return claim


def renew_lease(*, claim):
    """The worker is still at it; False once the job is no longer its own."""
    return delivery.renew(Conversion, claim, *ACTIVE, lease_seconds=settings.RESTYLE_JOB_LEASE_SECONDS)


def record_progress(*, claim, progress, detail="", intermediate_jpeg=None):
    """A running job's progress (0..1) and, for slow jobs, its latest image."""
    updates = {"progress": max(0.0, min(1.0, progress)), "progress_detail": detail[:200]}
    old_name = None
    if intermediate_jpeg is not None:
        conversion = delivery.fenced(Conversion, claim).only("id", "owner_id", "intermediate").first()
        if conversion is None:
            return
        old_name = conversion.intermediate.name
        updates["intermediate"] = conversion.intermediate.storage.save(
            _result_path_for(conversion, "progress.jpg"), ContentFile(intermediate_jpeg)
        )
    running = delivery.fenced(Conversion, claim, *ACTIVE).update(**updates)
    storage = Conversion._meta.get_field("intermediate").storage
    if old_name and running:
        storage.delete(old_name)
    elif intermediate_jpeg is not None and not running:
        storage.delete(updates["intermediate"])


def _result_path_for(conversion, filename):
    return Conversion._meta.get_field("result").generate_filename(conversion, filename)


def cancel_requested(*, claim):
    """True when the job's owner asked to cancel it or deleted it, or it is no longer this
    worker's, while it runs: time to stop."""
    return not delivery.fenced(Conversion, claim, Status.RUNNING).exists()


def cancel_conversion(*, conversion):
    """Cancel a queued job at once; ask a running one to stop (the worker then cancels it)."""
    now = timezone.now()
    if _ended(Conversion.objects.filter(id=conversion.id, status=Conversion.Status.QUEUED), conversion.id,
              status=Conversion.Status.CANCELLED, finished_at=now):
        pass
    elif not Conversion.objects.filter(id=conversion.id, status=Conversion.Status.RUNNING).update(
        status=Conversion.Status.CANCELLING
    ):
        conversion.refresh_from_db(fields=["status"])
        if conversion.status != Conversion.Status.CANCELLING:
            raise ServiceError(f"This conversion has already finished ({conversion.get_status_display().lower()}).")
    conversion.refresh_from_db()
    return conversion


def mark_cancelled(*, claim):
    """The worker stopped a job whose cancellation was asked for."""
    _ended(delivery.fenced(Conversion, claim, Status.CANCELLING), claim.pk,
           status=Status.CANCELLED, finished_at=timezone.now(), lease_expires_at=None)


def finish_conversion(*, claim, result_bytes, result_ext, thumbnail_bytes, load_seconds, run_seconds, label="",
                      latent_bytes=None, result_size=None, checkpoint_sha256=None, run_settings=None):
    """Store the result of a running job (and, for a StyleGAN2 projection, the photo's latent as
    .npz bytes); `result_size` is its (width, height), shown on the job's page; `checkpoint_sha256`
    and `run_settings` are what it ran with (translator.worker.reproduce), for "Run again". A job cancelled, deleted or taken from this worker meanwhile keeps no result of
    this attempt (its files are removed again)."""
    conversion = Conversion.objects.filter(pk=claim.pk).first()
    if conversion is None:
        return None
    storage = conversion.result.storage
    result_name = storage.save(_result_path_for(conversion, f"result.{result_ext}"), ContentFile(result_bytes))
    thumb_name = storage.save(_result_path_for(conversion, "thumb.jpg"), ContentFile(thumbnail_bytes))
    saved = [(storage, result_name), (storage, thumb_name)]
    latent_name = ""
    if latent_bytes is not None:
        latent_name = storage.save(_result_path_for(conversion, "latent.npz"), ContentFile(latent_bytes))
        saved.append((storage, latent_name))
    recorded = {}
    if checkpoint_sha256 is not None:
        recorded["checkpoint_sha256"] = checkpoint_sha256
    if run_settings is not None:
        recorded["run_settings"] = run_settings
    done = _ended(
        delivery.fenced(Conversion, claim, Status.RUNNING), claim.pk,
        **recorded,
        result=result_name,
        thumbnail=thumb_name,
        latent=latent_name,
        status=Status.SUCCEEDED,
        progress=1.0,
        progress_detail="",
        finished_at=timezone.now(),
        lease_expires_at=None,
        load_seconds=load_seconds,
        run_seconds=run_seconds,
        label=label[:200],
        error="",
        result_width=result_size[0] if result_size else None,
        result_height=result_size[1] if result_size else None,
    )
    if not done:
        _delete_files(saved)
        mark_cancelled(claim=claim)
        return None
    conversion.refresh_from_db()
    return conversion


def fail_conversion(*, claim, reason):
    """The worker gives up on its job, with a reason a person can read."""
    _ended(delivery.fenced(Conversion, claim, *ACTIVE), claim.pk,
           status=Status.FAILED, error=reason[:2000], finished_at=timezone.now(), lease_expires_at=None)


def sweep_conversions(*, now=None):
    """Settle every conversion a fault left behind (the sweeper calls this). Returns counts.

    - running or cancelling, lease run out (the worker died, froze or lost the database):
      a cancelling job is cancelled; a running one goes back to the queue, or fails after its
      last attempt (a job that stops its worker every time must not stop it for ever);
    - queued longer than RESTYLE_QUEUE_TIMEOUT_MINUTES: no worker can take it; it fails;
    - queued with a message that may be lost: a new one is sent.
    """
    now = now or timezone.now()
    counts = {"requeued": 0, "failed": 0, "cancelled": 0, "expired": 0, "resent": 0}
    expired = Conversion.objects.filter(status__in=ACTIVE, lease_expires_at__lt=now)
    for pk, status, token, attempts in expired.values_list("pk", "status", "claim_token", "attempts"):
        row = Conversion.objects.filter(pk=pk, claim_token=token, status=status, lease_expires_at__lt=now)
        if status == Status.CANCELLING:
            counts["cancelled"] += _ended(row, pk, status=Status.CANCELLED, finished_at=now, lease_expires_at=None)
        elif attempts >= settings.RESTYLE_JOB_MAX_ATTEMPTS:
            counts["failed"] += _ended(
                row, pk,
                status=Status.FAILED, finished_at=now, lease_expires_at=None,
                error=f"The worker converting this photo stopped {attempts} times before it was done, so it "
                "was given up. The photo may be too large or unusual for this model; try a smaller one.",
            )
        else:
            requeued = row.update(
                status=Status.QUEUED, queued_at=now, dispatched_at=None, dispatches=0, lease_expires_at=None,
                progress=0.0, progress_detail="",
            )
            if requeued:
                log.warning("conversion %s: its worker stopped answering (attempt %d); queued again", pk, attempts)
            counts["requeued"] += requeued
    timeout = timedelta(minutes=settings.RESTYLE_QUEUE_TIMEOUT_MINUTES)
    stale = Conversion.objects.filter(status=Status.QUEUED, queued_at__lt=now - timeout)
    minutes = f"{settings.RESTYLE_QUEUE_TIMEOUT_MINUTES:g} minutes"
    # A job that asked for a GPU is never run on a CPU instead: with no GPU worker it fails in words.
    gpu_queues = [q for q in queues.QUEUES if routing.needs_gpu(q)]
    for pk, queue in stale.values_list("pk", "queue"):
        # One row at a time, so each ended job's webhook event is stored with its new state.
        error = (
            f"This model needs a GPU, and no worker with a GPU took it within {minutes} (none was free, "
            "or none is running). Please try again later." if queue in gpu_queues
            else f"No worker was free to convert this photo within {minutes}. Please try again later."
        )
        counts["expired"] += _ended(stale.filter(pk=pk), pk, status=Status.FAILED, finished_at=now, error=error)
    counts["resent"] = delivery.resend_overdue(Conversion, Q(status=Status.QUEUED), now=now)
    return counts


def _ended(rows, pk, **updates):
    """Move `rows` (conversion `pk`, filtered by the state it must be in) to an end state and, in
    the same transaction, record its owner's webhook event (sent on commit): the event is stored
    exactly when the new state is. Returns how many rows changed (0 or 1)."""
    return webhooks.end_job(rows, record=lambda: webhooks.record_conversion_event(conversion_id=pk), **updates)


def delete_conversion(*, conversion):
    """Delete a job and its files; its photos go too when no other job uses them."""
    files = [f for f in (conversion.result, conversion.thumbnail, conversion.intermediate, conversion.latent) if f]
    photos = [p for p in (conversion.photo, conversion.style_image) if p is not None]
    with transaction.atomic():
        conversion.delete()
        for photo in photos:
            if not photo.conversions.exists() and not photo.styled_conversions.exists():
                files.append(photo.image)
                photo.delete()
        names = [(f.storage, f.name) for f in files]
        # Files go only once the rows are surely gone, so a rollback never leaves dangling rows.
        transaction.on_commit(lambda: _delete_files(names))


def _delete_files(names):
    for storage, name in names:
        try:
            storage.delete(name)
        except OSError:
            log.warning("could not delete %s", name, exc_info=True)
