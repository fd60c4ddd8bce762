"""Checkpoints for the catalogue: community formats converted by mlcore's importers, our own
format read, the ml5.js demo styles fetched, and previews rendered. Used by services.catalogue
and the management commands (import_model, install_demo_models)."""
from dataclasses import dataclass
from pathlib import Path

from . import inference

# mlcore importers by the format names of `manage.py import_model` (None: already ours).
IMPORT_FORMATS = {
    "restyle": None,
    "ml5": "import_ml5",
    "pytorch-examples": "import_pytorch_examples",
    "junyanz": "import_junyanz",
    "ugatit": "import_ugatit",
}


class CheckpointImportError(Exception):
    """A file that cannot become a checkpoint of ours; the message says why."""


@dataclass(frozen=True)
class Checkpoint:
    path: Path  # a checkpoint in mlcore's own format
    family: str  # mlcore's registry name, from the checkpoint's header
    name: str  # the name the checkpoint gives its model ("" when none)


def read_checkpoint(*, fmt, path, folder, name=None, options=None):
    """`path` (a file or folder in format `fmt`) as a Checkpoint: converted into `folder` when
    it is a foreign format, then its header read. CheckpointImportError says what is wrong."""
    from mlcore import importers
    from mlcore.checkpoint import CheckpointError, read_header

    if fmt not in IMPORT_FORMATS:
        raise CheckpointImportError(f"Unknown format {fmt!r}; known: {', '.join(IMPORT_FORMATS)}.")
    checkpoint = Path(path)
    if IMPORT_FORMATS[fmt]:
        checkpoint = Path(folder) / "model.safetensors"
        try:
            getattr(importers, IMPORT_FORMATS[fmt])(path, checkpoint, name=name, **(options or {}))
        except (importers.ImporterError, OSError) as exc:
            raise CheckpointImportError(f"Could not import {path}: {exc}") from exc
    try:
        header = read_header(checkpoint)
    except CheckpointError as exc:
        raise CheckpointImportError(str(exc)) from exc
    return Checkpoint(path=checkpoint, family=header.family, name=header.meta.get("name") or "")


def fetch_ml5_style(slug, folder):
    """Download the ml5.js demo style `slug` into `folder`/`slug`."""
    from mlcore.importers import ImporterError, fetch_ml5_style

    try:
        fetch_ml5_style(slug, folder)
    except ImporterError as exc:
        raise CheckpointImportError(str(exc)) from exc


def import_ml5(folder, checkpoint, *, name, meta):
    """Convert the ml5.js checkpoint folder `folder` into our format at `checkpoint`."""
    from mlcore.importers import import_ml5

    import_ml5(folder, checkpoint, name=name, meta=meta)


def open_image(path):
    """An image file as PIL, turned as its EXIF orientation says (mlcore's convention)."""
    from mlcore.images import open_image

    return open_image(path)


def render_preview(*, version, image):
    """JPEG bytes of `version`'s network run on `image` (PIL), at preview size."""
    inferer, _ = inference.inferer_for(version)
    return inference.encode_thumbnail(inferer.translate(image), side=320)
