"""What a conversion ran with, recorded by the worker that ran it, and the checks that hold a
"Run again" to that record (translator.services.reproduce makes the new row).

The record (Conversion.run_settings), one JSON object:

    family          the model family
    output_long_side  the output-size choice (null: the photo's own size)
    device, dtype   what the network ran on and in (the pixels are promised identical on a CPU in fp32)
    device_class    what the version asked of its worker (cpu or gpu)
    memory_mb       the conversion's memory budget (a photo over it is converted smaller)
    family_settings the family's inference settings: Gatys' whole config (its seed included),
                    a StyleGAN2 projection's space and steps; empty for feed-forward families,
                    whose checkpoint (named by its hash) is all they run
    style_image     Gatys: the stored style image it painted with (id, name, size)

Beside it the row keeps `checkpoint_sha256` (the version's file it loaded) and `seed`.
"""
import logging

from django.conf import settings

from .. import routing
from ..models import Family
from .checkpoints import file_sha256, local_checkpoint

log = logging.getLogger(__name__)


class ReproduceRefused(Exception):
    """A run again that cannot promise the recorded pixels; the message is for the user."""


def is_reproduction(conversion):
    """A "Run again" row arrives with the record of the run it repeats; a fresh one without."""
    return bool(conversion.run_settings)


def checkpoint_hash(conversion):
    """The SHA-256 of the checkpoint this conversion loads ("" for Gatys, which has none).

    A fresh conversion takes the version's recorded hash (recording it first when the row has
    none). A run again reads the file's bytes, and is refused when they are not the ones recorded:
    a changed file would make other pixels under the same version number."""
    from ..services.catalogue import record_checkpoint_sha256

    version = conversion.model_version
    if not version.checkpoint:
        if conversion.checkpoint_sha256:
            raise ReproduceRefused(f"Version {version.number} of “{version.art_model.name}” no longer has its "
                                   "network file, so this conversion cannot be run again.")
        return ""
    expected = conversion.checkpoint_sha256 if is_reproduction(conversion) else ""
    if version.checkpoint_sha256 and not expected:
        return version.checkpoint_sha256
    try:
        with local_checkpoint(version) as path, open(path, "rb") as fh:
            actual = file_sha256(fh)
    except FileNotFoundError:
        raise ReproduceRefused(f"Version {version.number} of “{version.art_model.name}” is gone (its network file "
                               "is no longer stored), so this conversion cannot be run again.")
    if not version.checkpoint_sha256:
        record_checkpoint_sha256(version=version, sha256=actual)
    if expected and actual != expected:
        log.warning("conversion %s: %s's checkpoint has SHA-256 %s, the run it repeats had %s", conversion.pk,
                    version, actual, expected)
        raise ReproduceRefused(f"The network file of version {version.number} of “{version.art_model.name}” has "
                               "changed since the conversion you ran again (its SHA-256 differs), so the same pixels "
                               "cannot be promised; it was not run.")
    return actual


def recorded_family_settings(conversion):
    """The family settings of the run a run again repeats, or None for a fresh conversion."""
    if is_reproduction(conversion):
        return conversion.run_settings.get("family_settings") or {}
    return None


def run_settings(conversion, *, family_settings, dtype=None):
    """The record of this run (see the module's docstring)."""
    record = {
        "family": conversion.art_model.family,
        "output_long_side": conversion.output_long_side,
        "device": settings.RESTYLE_INFERENCE_DEVICE,
        "dtype": dtype or settings.RESTYLE_INFERENCE_DTYPE,
        "device_class": routing.version_device_class(conversion.model_version),
        "memory_mb": settings.RESTYLE_CONVERSION_MEMORY_MB,
        "family_settings": family_settings,
    }
    if conversion.art_model.family == Family.GATYS and conversion.style_image_id:
        style = conversion.style_image
        record["style_image"] = {"id": style.pk, "name": style.original_name, "width": style.width,
                                 "height": style.height}
    return record


def caveat(conversion, record):
    """A label for a run again made on other hardware than the run it repeats ("" when the same)."""
    if not is_reproduction(conversion):
        return ""
    before = conversion.run_settings
    then = (before.get("device"), before.get("dtype"))
    now = (record["device"], record["dtype"])
    runtime_then = (before.get("family_settings") or {}).get("backend")
    runtime_now = record["family_settings"].get("backend")
    if then == now and runtime_then != runtime_now:
        return (f"Run again on {runtime_now}; the conversion it repeats ran on {runtime_then}, so the pixels may "
                "differ slightly.")
    if then == now:
        return ""
    return (f"Run again on {now[0]} in {now[1]}; the conversion it repeats ran on {then[0]} in {then[1]}, so the "
            "pixels may differ slightly.")
