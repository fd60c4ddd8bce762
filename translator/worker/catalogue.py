"""Checkpoints for the catalogue: community formats converted by mlcore's importers, our own
format read, the ml5.js demo styles fetched, and previews rendered. Used by services.catalogue
and the management commands (import_model, install_demo_models)."""
import logging
from dataclasses import dataclass
from pathlib import Path

from . import inference

log = logging.getLogger(__name__)

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


# A generator's preview: the same seeds for every model, so two models' grids compare.
PREVIEW_SEEDS = (0, 1, 2, 3)
PREVIEW_TRUNCATION = 0.7  # the NVlabs examples' psi: typical images rather than the odd one


def render_preview(*, version, image=None):
    """JPEG bytes of `version`'s network run on `image` (PIL), at preview size; for a generator
    family (which takes no photo) a 2x2 grid of the images of PREVIEW_SEEDS instead."""
    from mlcore.registry import get_family

    inferer, _ = inference.inferer_for(version)
    if get_family(version.art_model.family).generator:
        return inference.encode_thumbnail(seed_grid(inferer.net), side=320)
    if image is None:
        raise ValueError(f"{version} translates photos: its preview needs an input image")
    return inference.encode_thumbnail(inferer.translate(image), side=320)


def seed_grid(generator, seeds=PREVIEW_SEEDS, *, columns=2):
    """One PIL image: the generator's images of `seeds` in rows of `columns`."""
    from PIL import Image

    from mlcore.stylegan2.generate import generate

    images = generate(generator, list(seeds), truncation_psi=PREVIEW_TRUNCATION, noise_mode="const")
    side = images[0].width
    rows = -(-len(images) // columns)
    grid = Image.new("RGB", (columns * side, rows * side), "white")
    for i, image in enumerate(images):
        grid.paste(image.convert("RGB"), ((i % columns) * side, (i // columns) * side))
    return grid


def catalogue_facts(path):
    """What the catalogue shows of a checkpoint, read from its header (no tensors loaded): for a
    generator family its resolution and, when the file says, what it was trained on. {} for
    the families that translate photos."""
    from mlcore.checkpoint import CheckpointError, read_header
    from mlcore.registry import get_family

    try:
        header = read_header(path)
    except CheckpointError:
        # Not ours to refuse here: the conversion that loads it fails in words (inference.failure_reason).
        log.warning("%s: no catalogue facts, the header does not read", path, exc_info=True)
        return {}
    if not get_family(header.family).generator:
        return {}
    facts = {"resolution": int(header.config.resolution)}
    trained_on = _trained_on(header.meta)
    if trained_on:
        facts["trained_on"] = trained_on
    return facts


def _trained_on(meta):
    """The training data a checkpoint's meta names: ours ("trained_on", "dataset"), NVlabs'
    training_set_kwargs path, rosinality's args.path (mlcore's importers keep the last part)."""
    for key in ("trained_on", "dataset"):
        if isinstance(meta.get(key), str) and meta[key]:
            return meta[key][:200]
    for key in ("training_set", "training_args"):
        section = meta.get(key)
        if isinstance(section, dict) and isinstance(section.get("path"), str) and section["path"]:
            return Path(section["path"]).name[:200]
    return ""
