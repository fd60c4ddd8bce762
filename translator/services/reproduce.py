"""New conversions of a photo already stored: "Try another style" (the same photo, another model)
and "Run again" (the same photo, model version, settings and seed, for the same pixels).

Neither uploads anything: the new Conversion points at the existing Photo row, which
delete_conversion keeps while any conversion still uses it. What a conversion ran with is
recorded by its worker (translator.worker.reproduce); "Run again" copies that record onto the new
row, and the worker holds the new run to it (the checkpoint's hash, the family's settings).
"""
import logging
import secrets

from django.db import transaction

from .. import output_sizes, routing
from ..models import SEEDED_FAMILIES, Conversion
from . import delivery
from .errors import ServiceError

log = logging.getLogger(__name__)

# The output size of the conversion it starts from, unless the caller names one.
SAME_SIZE = object()


def new_seed(art_model):
    """A seed for a family that starts from random numbers (recorded, so the run can be repeated);
    None for the families that use none."""
    return secrets.randbelow(2**31) if art_model.family in SEEDED_FAMILIES else None


def restyle_conversion(*, owner, conversion, art_model, output_long_side=SAME_SIZE):
    """Convert `conversion`'s stored photo again with another model (`art_model`, its current
    version). A model that paints with a style image reuses the conversion's own style image, and
    is refused in words when it has none. Raises ServiceError; nothing is stored then."""
    _check_owner(owner, conversion)
    version = art_model.current_version
    if not art_model.is_active or version is None:
        raise ServiceError(f"The model “{art_model.name}” is not available.")
    if art_model.needs_style_image and conversion.style_image_id is None:
        raise ServiceError(
            f"“{art_model.name}” paints with a style image of yours, and this photo was converted without one: "
            "upload it with a style image on the Convert page."
        )
    if output_long_side is SAME_SIZE:
        output_long_side = conversion.output_long_side
    output_long_side = output_sizes.check(output_long_side)
    return _queue(
        owner=owner, photo_id=conversion.photo_id,
        style_image_id=conversion.style_image_id if art_model.needs_style_image else None,
        art_model=art_model, version=version, output_long_side=output_long_side, seed=new_seed(art_model),
    )


def run_again(*, owner, conversion):
    """Repeat a finished conversion: a new job with the same photo (and style image), the same
    model version (whichever is current now), output size, recorded settings and seed. Refused in
    words (ServiceError) when that cannot promise the same pixels: the conversion has not
    succeeded or predates the record, the model is withdrawn, or its version's file is gone or
    is no longer the one recorded. The worker checks the file's bytes again before it runs."""
    _check_owner(owner, conversion)
    if conversion.status != Conversion.Status.SUCCEEDED:
        raise ServiceError("Only a finished conversion can be run again; this one is "
                           f"{conversion.get_status_display().lower()}.")
    if not conversion.run_settings:
        raise ServiceError("This conversion was made before Restyle recorded what each one ran with, so it cannot be "
                           "repeated exactly. Use “Try another style” to convert the photo again.")
    version, art_model = conversion.model_version, conversion.art_model
    if not art_model.is_active:
        raise ServiceError(f"The model “{art_model.name}” has been withdrawn, so this conversion cannot be run again.")
    if conversion.checkpoint_sha256:
        if not version.checkpoint or not version.checkpoint.storage.exists(version.checkpoint.name):
            raise ServiceError(f"Version {version.number} of “{art_model.name}” is gone (its network file is no "
                               "longer stored), so this conversion cannot be run again.")
        if version.checkpoint_sha256 and version.checkpoint_sha256 != conversion.checkpoint_sha256:
            raise ServiceError(f"The network file of version {version.number} of “{art_model.name}” has changed since "
                               "this conversion ran (its SHA-256 differs), so the same pixels cannot be promised.")
    return _queue(
        owner=owner, photo_id=conversion.photo_id, style_image_id=conversion.style_image_id, art_model=art_model,
        version=version, output_long_side=conversion.output_long_side, seed=conversion.seed,
        checkpoint_sha256=conversion.checkpoint_sha256, run_settings=conversion.run_settings, reproduces=conversion,
    )


def _check_owner(owner, conversion):
    # Callers find the conversion through the owner's selector; this keeps a slip from sharing a photo.
    if conversion.owner_id != owner.pk:
        raise ServiceError("No such conversion.")


def _queue(*, owner, photo_id, style_image_id, art_model, version, output_long_side, seed, **recorded):
    with transaction.atomic():
        conversion = Conversion.objects.create(
            owner=owner, photo_id=photo_id, style_image_id=style_image_id, art_model=art_model,
            model_version=version, output_long_side=output_long_side, seed=seed,
            queue=routing.conversion_queue(art_model=art_model, version=version), **recorded,
        )
        transaction.on_commit(lambda: delivery.send(conversion))
    log.info("conversion %s queued from a stored photo (%s)", conversion.pk,
             "run again" if recorded.get("reproduces") else "another style")
    return conversion
