"""The model catalogue: entries, their versions (checkpoints), previews."""
import logging
from pathlib import Path

from django.core.files import File
from django.core.files.base import ContentFile
from django.db import transaction

from ..models import ArtModel, ModelVersion
from ..worker import catalogue
from ..worker.checkpoints import file_sha256
from .errors import ServiceError

log = logging.getLogger(__name__)


def next_version_number(art_model):
    """The number the next version of `art_model` gets. Call it inside the transaction that adds
    the version: it locks the entry's row until then, so two writers at once (an import and a
    training run finishing, on any hosts) cannot both read the same last number. SQLite's
    IMMEDIATE transactions serialise writers anyway, and there the lock is a no-op; PostgreSQL's
    READ COMMITTED does not. NO KEY UPDATE: conversions of the model (which only reference its
    row) are not held up while a checkpoint is copied."""
    ArtModel.objects.select_for_update(no_key=True).filter(pk=art_model.pk).values_list("pk").first()
    last = ModelVersion.objects.filter(art_model=art_model).order_by("-number").values_list("number", flat=True).first()
    return (last or 0) + 1


@transaction.atomic
def add_model_version(*, art_model, checkpoint_path, source="", publish=True):
    """Store a checkpoint file as the next version of `art_model`, optionally making it current."""
    version = ModelVersion(
        art_model=art_model, number=next_version_number(art_model), source=source,
        config=catalogue.catalogue_facts(checkpoint_path),
    )
    with open(checkpoint_path, "rb") as fh:
        version.checkpoint_sha256 = file_sha256(fh)
        version.checkpoint.save(Path(checkpoint_path).name, File(fh), save=False)
    version.save()
    if publish:
        art_model.current_version = version
        art_model.save(update_fields=["current_version"])
    return version


def record_checkpoint_sha256(*, version, sha256):
    """The hash of a checkpoint stored before hashes were recorded, as its first fetch found it
    (only while the row still names that file and has none)."""
    ModelVersion.objects.filter(pk=version.pk, checkpoint=version.checkpoint.name, checkpoint_sha256="").update(
        checkpoint_sha256=sha256
    )
    version.checkpoint_sha256 = sha256


def set_model_preview(*, art_model, jpeg_bytes):
    old = art_model.preview.name
    art_model.preview.save("preview.jpg", ContentFile(jpeg_bytes), save=True)
    if old and old != art_model.preview.name:
        art_model.preview.storage.delete(old)


def import_model(*, fmt, path, slug, name="", description="", input_hint="", publish=True, options=None):
    """Turn a checkpoint file (ours or a community format) into a new version of the catalogue
    entry `slug`, creating the entry if needed. Its family comes from the checkpoint."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        try:
            checkpoint = catalogue.read_checkpoint(fmt=fmt, path=path, folder=tmp, name=name or None, options=options)
        except catalogue.CheckpointImportError as exc:
            raise ServiceError(str(exc)) from exc
        with transaction.atomic():
            art_model, created = ArtModel.objects.get_or_create(
                slug=slug,
                defaults={
                    "name": name or checkpoint.name or slug,
                    "family": checkpoint.family,
                    "description": description,
                    "input_hint": input_hint,
                },
            )
            if art_model.family != checkpoint.family:
                raise ServiceError(
                    f"“{art_model.name}” is a {art_model.get_family_display()} model; "
                    f"this checkpoint is of the {checkpoint.family} family."
                )
            return add_model_version(
                art_model=art_model, checkpoint_path=checkpoint.path, source=f"imported {fmt}: {Path(path).name}",
                publish=publish,
            )


def render_model_preview(*, version, image=None):
    """Render `version` on `image` (PIL) as the catalogue entry's preview picture; a generator
    family (StyleGAN2) needs no image: its preview is a grid of fixed seeds."""
    set_model_preview(art_model=version.art_model, jpeg_bytes=catalogue.render_preview(version=version, image=image))


def give_generator_a_card(*, version):
    """A generator's catalogue entry without a card picture gets `version`'s seed grid, so a
    model trained here shows one when it is published (a training run's own sample grid is the
    version's preview, not the card). Runs on the worker (it loads the network); a failure
    leaves the entry without a picture and is logged, never fails what called it."""
    art_model = version.art_model
    if not art_model.is_generator or art_model.preview:
        return False
    try:
        render_model_preview(version=version)
    except Exception:
        log.warning("could not render the seed-grid preview of %s", version, exc_info=True)
        return False
    return True


def set_version_device_class(*, version, device_class):
    """Which workers convert with `version` from now on: "cpu", "gpu", or "" for its family's
    default. Jobs already queued keep the queue they were sent to."""
    from ..models import DeviceClass

    if device_class and device_class not in DeviceClass.values:
        raise ServiceError(f"{device_class!r} is not a device class ({', '.join(DeviceClass.values)}).")
    ModelVersion.objects.filter(pk=version.pk).update(device_class=device_class)
    version.device_class = device_class
    return version
