"""Conversion jobs: create (validated uploads), claim, progress, cancel, finish, fail, delete."""
import logging

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from ..models import SLOW_FAMILIES, Conversion, Photo
from ..uploads import clean_image_upload, display_name
from .errors import ServiceError

log = logging.getLogger(__name__)


def create_conversion(*, owner, upload, art_model, style_upload=None):
    """Validate the upload(s), store them and queue the conversion with `art_model`.

    `style_upload` is the user's own style image, needed by families that paint with one
    (Gatys) and ignored by the others. Raises django ValidationError for a bad file (its
    `field` attribute says which: "image" or "style_image") and ServiceError for a model that
    cannot be used; in every case nothing is stored and nothing is queued.
    """
    version = art_model.current_version
    if not art_model.is_active or version is None:
        raise ServiceError(f"The model “{art_model.name}” is not available.")
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
            owner=owner, photo=photo, style_image=style, art_model=art_model, model_version=version
        )
        queue = "slow" if art_model.family in SLOW_FAMILIES else "conversions"
        transaction.on_commit(lambda: enqueue_conversion(conversion_id=conversion.id, queue=queue))
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


def enqueue_conversion(*, conversion_id, queue="conversions"):
    """Hand the job to its queue; if the broker is unreachable, fail it in words."""
    from ..tasks import run_conversion

    try:
        run_conversion.apply_async(args=[str(conversion_id)], queue=queue, retry=True)
    except Exception:  # kombu raises several unrelated types for an unreachable broker
        log.exception("could not enqueue conversion %s", conversion_id)
        fail_conversion(
            conversion_id=conversion_id,
            reason="The conversion service is unavailable right now. Please try again later.",
        )


def claim_conversion(*, conversion_id, worker=""):
    """Move a queued job to running. Returns False if someone else already claimed it."""
    claimed = Conversion.objects.filter(id=conversion_id, status=Conversion.Status.QUEUED).update(
        status=Conversion.Status.RUNNING, started_at=timezone.now(), worker=worker[:200]
    )
    return claimed == 1


def record_progress(*, conversion_id, progress, detail="", intermediate_jpeg=None):
    """A running job's progress (0..1) and, for slow jobs, its latest image."""
    updates = {"progress": max(0.0, min(1.0, progress)), "progress_detail": detail[:200]}
    old_name = None
    if intermediate_jpeg is not None:
        conversion = Conversion.objects.filter(id=conversion_id).only("id", "owner_id", "intermediate").first()
        if conversion is None:
            return
        old_name = conversion.intermediate.name
        updates["intermediate"] = conversion.intermediate.storage.save(
            _result_path_for(conversion, "progress.jpg"), ContentFile(intermediate_jpeg)
        )
    running = Conversion.objects.filter(
        id=conversion_id, status__in=[Conversion.Status.RUNNING, Conversion.Status.CANCELLING]
    ).update(**updates)
    storage = Conversion._meta.get_field("intermediate").storage
    if old_name and running:
        storage.delete(old_name)
    elif intermediate_jpeg is not None and not running:
        storage.delete(updates["intermediate"])


def _result_path_for(conversion, filename):
    return Conversion._meta.get_field("result").generate_filename(conversion, filename)


def cancel_requested(*, conversion_id):
    """True when the job's owner asked to cancel it, or deleted it, while it runs."""
    return not Conversion.objects.filter(id=conversion_id, status=Conversion.Status.RUNNING).exists()


def cancel_conversion(*, conversion):
    """Cancel a queued job at once; ask a running one to stop (the worker then cancels it)."""
    now = timezone.now()
    if Conversion.objects.filter(id=conversion.id, status=Conversion.Status.QUEUED).update(
        status=Conversion.Status.CANCELLED, finished_at=now
    ):
        pass
    elif not Conversion.objects.filter(id=conversion.id, status=Conversion.Status.RUNNING).update(
        status=Conversion.Status.CANCELLING
    ):
        conversion.refresh_from_db(fields=["status"])
        if conversion.status != Conversion.Status.CANCELLING:
            raise ServiceError(f"This conversion has already finished ({conversion.get_status_display().lower()}).")
    conversion.refresh_from_db()
    return conversion


def mark_cancelled(*, conversion_id):
    """The worker stopped a job whose cancellation was asked for."""
    Conversion.objects.filter(id=conversion_id, status=Conversion.Status.CANCELLING).update(
        status=Conversion.Status.CANCELLED, finished_at=timezone.now()
    )


def finish_conversion(
    *, conversion_id, result_bytes, result_ext, thumbnail_bytes, load_seconds, run_seconds, label=""
):
    """Store the result of a running job. A job cancelled or deleted meanwhile keeps no result."""
    conversion = Conversion.objects.get(id=conversion_id)
    storage = conversion.result.storage
    result_name = storage.save(_result_path_for(conversion, f"result.{result_ext}"), ContentFile(result_bytes))
    thumb_name = storage.save(_result_path_for(conversion, "thumb.jpg"), ContentFile(thumbnail_bytes))
    done = Conversion.objects.filter(id=conversion_id, status=Conversion.Status.RUNNING).update(
        result=result_name,
        thumbnail=thumb_name,
        status=Conversion.Status.SUCCEEDED,
        progress=1.0,
        progress_detail="",
        finished_at=timezone.now(),
        load_seconds=load_seconds,
        run_seconds=run_seconds,
        label=label[:200],
        error="",
    )
    if not done:
        _delete_files([(storage, result_name), (storage, thumb_name)])
        mark_cancelled(conversion_id=conversion_id)
        return None
    conversion.refresh_from_db()
    return conversion


def fail_conversion(*, conversion_id, reason):
    Conversion.objects.filter(id=conversion_id).exclude(status__in=Conversion.FINISHED).update(
        status=Conversion.Status.FAILED, error=reason[:2000], finished_at=timezone.now()
    )


def delete_conversion(*, conversion):
    """Delete a job and its files; its photos go too when no other job uses them."""
    files = [f for f in (conversion.result, conversion.thumbnail, conversion.intermediate) if f]
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
