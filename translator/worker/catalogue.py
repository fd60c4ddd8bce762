"""Checkpoints for the catalogue: community formats converted by mlcore's importers, our own
format read, the ml5.js demo styles fetched, and previews rendered. Used by services.catalogue
and the management commands (import_model, install_demo_models)."""
from dataclasses import dataclass
from pathlib import Path

from . import inference

# Our own checkpoint format, read as it is; every other format is a row of mlcore's importers table.
OWN_FORMAT = "restyle"


def import_formats():
    """{format name: mlcore ImportFormat, or None for our own}: what `manage.py import_model` takes."""
    from mlcore.importers import FORMATS

    return {OWN_FORMAT: None, **FORMATS}


def add_import_options(parser):
    """Every importer's options as flags of `parser` (argparse); returns their names."""
    from mlcore.cli import add_option

    names = set()
    for fmt in import_formats().values():
        for option in fmt.options if fmt else ():
            if option.name not in names:
                add_option(parser, option, prefix=f"{fmt.name}: ")
                names.add(option.name)
    return names


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
    from mlcore.checkpoint import CheckpointError, read_header
    from mlcore.importers import ImporterError

    formats = import_formats()
    if fmt not in formats:
        raise CheckpointImportError(f"Unknown format {fmt!r}; known: {', '.join(formats)}.")
    checkpoint = Path(path)
    if formats[fmt]:
        checkpoint = Path(folder) / "model.safetensors"
        try:
            formats[fmt].convert(path, checkpoint, name=name, **(options or {}))
        except (ImporterError, OSError) as exc:
            raise CheckpointImportError(f"Could not import {path}: {exc}") from exc
    try:
        header = read_header(checkpoint)
    except CheckpointError as exc:
        raise CheckpointImportError(str(exc)) from exc
    return Checkpoint(path=checkpoint, family=header.family, name=header.meta.get("name") or "")


def fetch_ml5_style(slug, folder):
    """Download the ml5.js demo style `slug` into `folder`/`slug`."""
    from mlcore.importers import ImporterError
    from mlcore.importers.ml5 import fetch_ml5_style

    try:
        fetch_ml5_style(slug, folder)
    except ImporterError as exc:
        raise CheckpointImportError(str(exc)) from exc


def import_ml5(folder, checkpoint, *, name, meta):
    """Convert the ml5.js checkpoint folder `folder` into our format at `checkpoint`."""
    from mlcore.importers.ml5 import import_ml5

    import_ml5(folder, checkpoint, name=name, meta=meta)


def open_image(path):
    """An image file as PIL, turned as its EXIF orientation says (mlcore's convention)."""
    from mlcore.images import open_image

    return open_image(path)


def render_preview(*, version, image):
    """JPEG bytes of `version`'s network run on `image` (PIL), at preview size."""
    inferer, _ = inference.inferer_for(version)
    return inference.encode_thumbnail(inferer.translate(image), side=320)
