"""Writes: every change to translator data goes through these functions.

Views, API views, admin actions and tasks stay thin and call these. Arguments are keyword-only.
"""
import logging
import os
from pathlib import Path

from django.core.files import File
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from .models import ArtModel, Conversion, ModelVersion, Photo
from .uploads import validate_image_upload

log = logging.getLogger(__name__)


class ServiceError(Exception):
    """A request that cannot be carried out, with a message for the person who made it."""


# --- catalogue --------------------------------------------------------------------------------


@transaction.atomic
def add_model_version(*, art_model, checkpoint_path, source="", publish=True):
    """Store a checkpoint file as the next version of `art_model`, optionally making it current."""
    last = art_model.versions.order_by("-number").first()
    version = ModelVersion(art_model=art_model, number=(last.number + 1 if last else 1), source=source)
    with open(checkpoint_path, "rb") as fh:
        version.checkpoint.save(Path(checkpoint_path).name, File(fh), save=False)
    version.save()
    if publish:
        art_model.current_version = version
        art_model.save(update_fields=["current_version"])
    return version


def set_model_preview(*, art_model, jpeg_bytes):
    old = art_model.preview.name
    art_model.preview.save("preview.jpg", ContentFile(jpeg_bytes), save=True)
    if old and old != art_model.preview.name:
        art_model.preview.storage.delete(old)


# --- conversions ------------------------------------------------------------------------------


def create_conversion(*, owner, upload, art_model):
    """Validate `upload`, store it and queue its conversion with `art_model`.

    Raises django ValidationError for a bad file and ServiceError for a model that cannot be
    used; in both cases nothing is stored and nothing is queued.
    """
    checked = validate_image_upload(upload)
    version = art_model.current_version
    if not art_model.is_active or version is None:
        raise ServiceError(f"The model “{art_model.name}” is not available.")

    with transaction.atomic():
        photo = Photo(
            owner=owner,
            original_name=os.path.basename(getattr(upload, "name", "") or "")[:255],
            format=checked.format,
            width=checked.width,
            height=checked.height,
            size_bytes=checked.size_bytes,
        )
        photo.image.save("upload", upload, save=False)
        photo.save()
        conversion = Conversion.objects.create(
            owner=owner, photo=photo, art_model=art_model, model_version=version
        )
        transaction.on_commit(lambda: enqueue_conversion(conversion_id=conversion.id))
    return conversion


def enqueue_conversion(*, conversion_id):
    """Hand the job to the conversion queue; if the broker is unreachable, fail it in words."""
    from .tasks import run_conversion

    try:
        run_conversion.apply_async(args=[str(conversion_id)], retry=True)
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


def finish_conversion(*, conversion_id, result_bytes, result_ext, thumbnail_bytes, load_seconds, run_seconds):
    conversion = Conversion.objects.get(id=conversion_id)
    conversion.result.save(f"result.{result_ext}", ContentFile(result_bytes), save=False)
    conversion.thumbnail.save("thumb.jpg", ContentFile(thumbnail_bytes), save=False)
    conversion.status = Conversion.Status.SUCCEEDED
    conversion.progress = 1.0
    conversion.finished_at = timezone.now()
    conversion.load_seconds = load_seconds
    conversion.run_seconds = run_seconds
    conversion.error = ""
    conversion.save()
    return conversion


def fail_conversion(*, conversion_id, reason):
    Conversion.objects.filter(id=conversion_id).exclude(status=Conversion.Status.SUCCEEDED).update(
        status=Conversion.Status.FAILED, error=reason[:2000], finished_at=timezone.now()
    )


def delete_conversion(*, conversion):
    """Delete a job and its files; the photo goes too when no other job uses it."""
    files = [f for f in (conversion.result, conversion.thumbnail) if f]
    photo = conversion.photo
    with transaction.atomic():
        conversion.delete()
        photo_orphaned = not photo.conversions.exists()
        if photo_orphaned:
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
