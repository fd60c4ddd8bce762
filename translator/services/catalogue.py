"""The model catalogue: entries, their versions (checkpoints), previews."""
import logging
from pathlib import Path

from django.core.files import File
from django.core.files.base import ContentFile
from django.db import transaction

from ..models import ModelVersion
from .errors import ServiceError

log = logging.getLogger(__name__)


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


# The formats of `manage.py import_model`: mlcore's importers table, plus our own checkpoints.
OWN_FORMAT = "restyle"


def import_formats():
    from mlcore.importers import FORMATS

    return {OWN_FORMAT: None, **FORMATS}


def import_model(*, fmt, path, slug, name="", description="", input_hint="", publish=True, options=None):
    """Turn a checkpoint file (ours or a community format) into a new version of the catalogue
    entry `slug`, creating the entry if needed. Its family comes from the checkpoint."""
    import tempfile

    from mlcore.checkpoint import CheckpointError, read_header
    from mlcore.importers import ImporterError

    from ..models import ArtModel

    formats = import_formats()
    if fmt not in formats:
        raise ServiceError(f"Unknown format {fmt!r}; known: {', '.join(formats)}.")
    with tempfile.TemporaryDirectory() as tmp:
        checkpoint = Path(path)
        if formats[fmt]:
            checkpoint = Path(tmp) / "model.safetensors"
            try:
                formats[fmt].convert(path, checkpoint, name=name or None, **(options or {}))
            except (ImporterError, OSError) as exc:
                raise ServiceError(f"Could not import {path}: {exc}") from exc
        try:
            header = read_header(checkpoint)
        except CheckpointError as exc:
            raise ServiceError(str(exc)) from exc
        with transaction.atomic():
            art_model, created = ArtModel.objects.get_or_create(
                slug=slug,
                defaults={
                    "name": name or header.meta.get("name") or slug,
                    "family": header.family,
                    "description": description,
                    "input_hint": input_hint,
                },
            )
            if art_model.family != header.family:
                raise ServiceError(
                    f"“{art_model.name}” is a {art_model.get_family_display()} model; "
                    f"this checkpoint is of the {header.family} family."
                )
            return add_model_version(
                art_model=art_model, checkpoint_path=checkpoint, source=f"imported {fmt}: {Path(path).name}",
                publish=publish,
            )


def render_model_preview(*, version, image):
    """Render `version` on `image` (PIL) as the catalogue entry's preview picture."""
    from .. import inference

    inferer, _ = inference.inferer_for(version)
    jpeg = inference.encode_thumbnail(inferer.translate(image), side=320)
    set_model_preview(art_model=version.art_model, jpeg_bytes=jpeg)
