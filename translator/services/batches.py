"""Batch uploads: several photos, each with one or several models, a conversion job per pair.

Every file is checked (and re-encoded) before anything is stored, and every job of the batch
is created in one transaction: a batch is accepted whole or refused whole, so one bad file
among three stores nothing. The web page and the REST API both call `create_batch`.
"""
import logging
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from .. import output_sizes, routing
from ..models import Conversion
from ..uploads import display_name
from . import delivery
from .conversions import _delete_files, _field_error, _store_photo, _validated
from .errors import ServiceError
from .reproduce import new_seed

log = logging.getLogger(__name__)


def create_batch(*, owner, uploads, art_models, style_upload=None, output_long_side=output_sizes.DEFAULT):
    """Queue a conversion of every photo in `uploads` with every model in `art_models`.

    Returns the new conversions, photo by photo, each photo's models in the order given.
    `style_upload` is one style image for the whole batch, required when any model paints with
    one (Gatys) and stored once. Raises django ValidationError (its `field` attribute is
    "image", "art_model", "style_image" or "output_size"; its messages name the bad files) or
    ServiceError for a model that cannot be used; in every case nothing is stored or queued.
    """
    uploads = list(uploads or [])
    art_models = _distinct(art_models or [])
    check_batch_counts(photo_count=len(uploads), model_count=len(art_models))
    for art_model in art_models:
        if not art_model.is_active or art_model.current_version is None:
            raise ServiceError(f"The model “{art_model.name}” is not available.")
    output_long_side = output_sizes.check(output_long_side)
    painters = [m for m in art_models if m.needs_style_image]
    if painters and not style_upload:
        names = " and ".join(f"“{m.name}”" for m in painters)
        raise _field_error("style_image", f"{names} paint{'s' if len(painters) == 1 else ''} with a style image "
                           "of yours: add one.", "required")

    checked = _checked_all(uploads)
    checked_style = None
    try:
        checked_style = _validated(style_upload, field="style_image") if painters else None
    except ValidationError:
        _close(checked)
        raise

    saved = []
    try:
        with transaction.atomic():
            conversions = _store(owner, uploads, checked, style_upload, checked_style, art_models,
                                 output_long_side, saved)
    except BaseException:
        # The rows are rolled back; the files stored so far must go with them.
        _delete_files(saved)
        raise
    finally:
        _close(checked + ([checked_style] if checked_style else []))
    log.info("batch of %d conversions (%d photos x %d models) for user %s",
             len(conversions), len(uploads), len(art_models), owner.pk)
    return conversions


def _distinct(art_models):
    seen, distinct = set(), []
    for art_model in art_models:
        if art_model.pk not in seen:
            seen.add(art_model.pk)
            distinct.append(art_model)
    return distinct


def check_batch_counts(*, photo_count, model_count):
    """Refuse, in words, a batch with no photo or model, or over RESTYLE_BATCH_MAX_PHOTOS photos or
    RESTYLE_BATCH_MAX_JOBS conversions. The views call it before the rate limit is spent, so a
    batch that could never be accepted costs nothing; create_batch calls it again."""
    if not photo_count:
        raise _field_error("image", "Choose at least one photo to upload.", "required")
    if not model_count:
        raise _field_error("art_model", "Choose at least one model.", "required")
    most_photos = settings.RESTYLE_BATCH_MAX_PHOTOS
    if photo_count > most_photos:
        raise _field_error("image", f"That is {photo_count} photos; one batch may hold at most {most_photos}. "
                           "Send the rest in another batch.", "too_many_photos")
    jobs, most_jobs = photo_count * model_count, settings.RESTYLE_BATCH_MAX_JOBS
    if jobs > most_jobs:
        raise _field_error(
            "art_model", f"{photo_count} photos with {model_count} models make {jobs} conversions; one batch "
            f"may make at most {most_jobs}. Choose fewer photos or fewer models.", "too_many_jobs")


def _checked_all(uploads):
    """Every upload checked and re-encoded, or one ValidationError naming every bad file."""
    checked, refusals = [], []
    for upload in uploads:
        try:
            checked.append(_validated(upload, field="image"))
        except ValidationError as exc:
            refusals.append((upload, exc))
    if not refusals:
        return checked
    _close(checked)
    if len(uploads) == 1:
        raise refusals[0][1]  # one photo: the words of a single upload, unchanged
    messages = [f"{_label(upload)}: {' '.join(exc.messages)}" for upload, exc in refusals]
    summary = (f"{len(refusals)} of the {len(uploads)} photos cannot be used, so none was stored. "
               "Remove or replace them and send the batch again.")
    error = ValidationError([summary, *messages], code=refusals[0][1].code or "invalid")
    error.field = "image"
    raise error


def _label(upload):
    return f"“{display_name(getattr(upload, 'name', '')) or 'a file without a name'}”"


def _store(owner, uploads, checked, style_upload, checked_style, art_models, output_long_side, saved):
    style = None
    if checked_style is not None:
        style = _store_photo(owner, style_upload, checked_style)
        saved.append((style.image.storage, style.image.name))
    conversions = []
    # One microsecond apart, in the order sent: the queue positions (selectors.queue_position) then
    # follow the order of the messages, never a tie broken by a random id.
    start = timezone.now()
    for upload, image in zip(uploads, checked):
        photo = _store_photo(owner, upload, image)
        saved.append((photo.image.storage, photo.image.name))
        for art_model in art_models:
            version = art_model.current_version
            conversions.append(Conversion.objects.create(
                owner=owner, photo=photo, style_image=style if art_model.needs_style_image else None,
                art_model=art_model, model_version=version, output_long_side=output_long_side,
                seed=new_seed(art_model), queue=routing.conversion_queue(art_model=art_model, version=version),
                queued_at=start + timedelta(microseconds=len(conversions)),
            ))
    for conversion in conversions:
        # Stored either way: if the broker cannot be reached now, the sweeper sends it later.
        transaction.on_commit(lambda c=conversion: delivery.send(c))
    return conversions


def _close(checked):
    for image in checked:
        if image is not None and image.content is not None:
            image.content.close()
