"""Unconditional training data for StyleGAN2: a folder of images, searched recursively.

Every image is made square, by a centre crop (``crop="center"``, NVlabs ``dataset_tool.py
--transform=center-crop``) or by padding the short side with black (``crop="pad"``, which keeps
the whole picture), then resized to the model's resolution with Lanczos (antialiased) filtering.
``xflip=True`` flips each sample left-right with probability 1/2, the counterpart of NVlabs
``--mirror``: there the dataset doubles with a flipped copy of every image, here each draw of an
image is flipped or not, which gives the same images in the same proportions.

``ImageFolderDataset[(epoch, index)]`` is a 3 x R x R float32 tensor in -1..1, the range the
StyleGAN2 networks work in (the one place this family departs from mlcore.images' 0..1
convention; it never leaves the trainer). Like every mlcore dataset it is a pure function of
``(seed, epoch, index)`` (see mlcore.data), so any worker loads the same sample for a key.

``inspect_dataset`` reads every file once and reports, in words, what a person preparing a
dataset needs to know: how many images, unreadable files, too few images to train at all,
few enough that adaptive augmentation will be on, the range of sizes, how many are not square
and what the crop policy does to them, images smaller than the resolution, and files that are
byte-for-byte copies of others.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset

from mlcore import images
from mlcore.data import DatasetError, DatasetReport, find_images, load_image, sample_rng

__all__ = [
    "LAYOUT",
    "CROP_POLICIES",
    "MIN_IMAGES",
    "ADA_BELOW",
    "ImageFolderReport",
    "make_square",
    "ImageFolderDataset",
    "inspect_dataset",
    "dataset_inputs",
]

log = logging.getLogger(__name__)

LAYOUT = "a folder of images (any size, searched recursively), made square and resized to the model's resolution"
CROP_POLICIES = ("center", "pad")
MIN_IMAGES = 8  # fewer cannot even fill a minibatch-std group of 4 twice; a GAN needs far more
ADA_BELOW = 1000  # below this many images the paper's results need adaptive augmentation
CACHE_BYTES = 64 * 2**20  # decoded datasets up to this size stay in memory (each worker its own)
_SAMPLES_SHOWN = 4
_NAMES_LISTED = 5


@dataclass(frozen=True)
class ImageFolderReport(DatasetReport):
    """A DatasetReport with ``notes``: findings worth a person's attention that do not stop
    training (few images, non-square images and what happens to them, duplicates)."""

    notes: tuple[str, ...] = ()


def make_square(img: Image.Image, crop: str = "center") -> Image.Image:
    """``img`` as a square: its centre (``"center"``) or all of it on black (``"pad"``)."""
    if crop not in CROP_POLICIES:
        raise ValueError(f"crop must be one of {', '.join(CROP_POLICIES)}; got {crop!r}")
    width, height = img.size
    if width == height:
        return img
    if crop == "center":
        side = min(width, height)
        left, top = (width - side) // 2, (height - side) // 2
        return img.crop((left, top, left + side, top + side))
    side = max(width, height)
    canvas = Image.new("RGB", (side, side))
    canvas.paste(img, ((side - width) // 2, (side - height) // 2))
    return canvas


class ImageFolderDataset(Dataset):
    """The images under ``root`` at ``resolution``; ``dataset[(epoch, index)]`` is one
    3 x R x R tensor in -1..1 (flipped at random when ``xflip``).

    ``cache=None`` keeps the decoded, resized images in memory when they take at most
    ``CACHE_BYTES`` (at 64 px that is over 5000 images): a small dataset is then read from disk
    once per process, not once per epoch.
    """

    def __init__(
        self, root: str | os.PathLike, *, resolution: int, crop: str = "center", xflip: bool = False,
        seed: int = 0, cache: bool | None = None,
    ) -> None:
        if resolution < 1:
            raise ValueError(f"resolution must be positive; got {resolution}")
        if crop not in CROP_POLICIES:
            raise ValueError(f"crop must be one of {', '.join(CROP_POLICIES)}; got {crop!r}")
        self.root = Path(root)
        self.files = find_images(self.root)
        self.resolution, self.crop, self.xflip, self.seed = resolution, crop, xflip, seed
        if cache is None:
            cache = len(self.files) * 3 * resolution * resolution <= CACHE_BYTES
        self._cache: dict[int, torch.Tensor] | None = {} if cache else None

    def __len__(self) -> int:
        return len(self.files)

    def pixels(self, index: int) -> torch.Tensor:
        """Image ``index`` square and resized, as 3 x R x R uint8 (not flipped)."""
        if self._cache is not None and index in self._cache:
            return self._cache[index]
        img = make_square(load_image(self.files[index]), self.crop)
        if img.size != (self.resolution, self.resolution):
            img = img.resize((self.resolution, self.resolution), Image.Resampling.LANCZOS)
        pixels = torch.from_numpy(np.array(img, dtype=np.uint8, copy=True)).permute(2, 0, 1).contiguous()
        if self._cache is not None:
            self._cache[index] = pixels
        return pixels

    def __getitem__(self, key: tuple[int, int] | int) -> torch.Tensor:
        epoch, index = key if isinstance(key, tuple) else (0, key)
        pixels = self.pixels(index)
        if self.xflip and sample_rng(self.seed, epoch, index).random() < 0.5:
            pixels = pixels.flip(2)
        return _to_signed(pixels)

    def probe_batch(self, count: int) -> torch.Tensor:
        """The first ``count`` images, unflipped, N x 3 x R x R in -1..1 (a grid of reals)."""
        return torch.stack([_to_signed(self.pixels(i)) for i in range(min(max(1, count), len(self)))])


def _to_signed(pixels: torch.Tensor) -> torch.Tensor:
    # As NVlabs' training loop maps its uint8 reals.
    return pixels.to(torch.float32) / 127.5 - 1.0


@dataclass(frozen=True)
class _Found:
    path: Path
    digest: str
    size: tuple[int, int] | None  # width, height after EXIF orientation; None if unreadable
    reason: str = ""


def _examine(path: Path) -> _Found:
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    try:
        img = images.open_image(io.BytesIO(data))  # decodes fully: a truncated file fails here
    except Exception as exc:  # PIL raises OSError, SyntaxError, ValueError, DecompressionBombError...
        return _Found(path, digest, None, f"{type(exc).__name__}: {exc}")
    return _Found(path, digest, img.size)


def inspect_dataset(
    root: str | os.PathLike, *, resolution: int | None = None, crop: str = "center",
) -> ImageFolderReport:
    """What ``root`` holds as a StyleGAN2 image folder, in words (never raises for a bad folder).

    ``resolution`` and ``crop`` are the run's, when known: they say which images will be
    upscaled and what happens to the non-square ones. Every file is read and decoded once.
    """
    root = Path(root)
    if crop not in CROP_POLICIES:
        raise ValueError(f"crop must be one of {', '.join(CROP_POLICIES)}; got {crop!r}")
    try:
        files = find_images(root)
    except DatasetError as exc:
        return ImageFolderReport(layout=LAYOUT, counts={"images": 0}, problems=(f"{exc} (expected {LAYOUT})",))

    found = [_examine(path) for path in files]
    good = [f for f in found if f.size is not None]
    bad = [f for f in found if f.size is None]

    def name(f: _Found) -> str:  # a file as the user sees it, inside the folder they gave
        return f.path.relative_to(root).as_posix()

    problems: list[str] = []
    notes: list[str] = []

    if bad:
        listed = "; ".join(f"{name(f)} ({f.reason})" for f in bad[:_NAMES_LISTED])
        more = f"; and {len(bad) - _NAMES_LISTED} more" if len(bad) > _NAMES_LISTED else ""
        problems.append(f"{len(bad)} file(s) cannot be read as images: {listed}{more}. "
                        "Remove or re-save them.")
    if len(good) < MIN_IMAGES:
        problems.append(f"only {len(good)} readable image(s); StyleGAN2 needs at least {MIN_IMAGES} to train "
                        "at all, and a few thousand to train well")
    elif len(good) < ADA_BELOW:
        notes.append(f"{len(good)} images is a small dataset (under {ADA_BELOW}): adaptive discriminator "
                     "augmentation will be on, so the discriminator does not simply memorise them")

    if good:
        notes.extend(_size_notes(good, name, resolution, crop))
    notes.extend(_duplicate_notes(found, name))
    duplicates = sum(len(group) - 1 for group in _groups_by_digest(found))
    counts = {"images": len(good), "unreadable": len(bad),
              "non_square": sum(1 for f in good if f.size[0] != f.size[1]), "duplicates": duplicates}
    return ImageFolderReport(layout=LAYOUT, counts=counts, samples=tuple(f.path for f in good[:_SAMPLES_SHOWN]),
                             problems=tuple(problems), notes=tuple(notes))


def _size_notes(good: list[_Found], name, resolution: int | None, crop: str) -> list[str]:
    notes = []
    sides = [min(f.size) for f in good]
    notes.append(f"sizes from {min(sides)} to {max(max(f.size) for f in good)} px "
                 f"(shorter sides {min(sides)} to {max(sides)} px)")
    oblong = [f for f in good if f.size[0] != f.size[1]]
    if oblong:
        ratios = [f.size[0] / f.size[1] for f in oblong]
        what = ("centre-cropped to a square (their edges are cut off; use crop 'pad' to keep them)"
                if crop == "center" else "padded with black to a square (the whole picture is kept)")
        notes.append(f"{len(oblong)} of {len(good)} images are not square (width/height {min(ratios):.2f} "
                     f"to {max(ratios):.2f}, e.g. {name(oblong[0])} at {oblong[0].size[0]}x{oblong[0].size[1]}); "
                     f"they are {what}")
    if resolution is not None:
        square_side = min if crop == "center" else max
        small = [f for f in good if square_side(f.size) < resolution]
        if small:
            notes.append(f"{len(small)} image(s) are smaller than {resolution} px once square (e.g. {name(small[0])} "
                         f"at {small[0].size[0]}x{small[0].size[1]}) and are upscaled, so they look soft")
    return notes


def _groups_by_digest(found: list[_Found]) -> list[list[_Found]]:
    groups: dict[str, list[_Found]] = defaultdict(list)
    for f in found:
        groups[f.digest].append(f)
    return [group for group in groups.values() if len(group) > 1]


def _duplicate_notes(found: list[_Found], name) -> list[str]:
    groups = _groups_by_digest(found)
    if not groups:
        return []
    copies = sum(len(group) - 1 for group in groups)
    listed = "; ".join(" = ".join(name(f) for f in group) for group in groups[:_NAMES_LISTED])
    more = f"; and {len(groups) - _NAMES_LISTED} more groups" if len(groups) > _NAMES_LISTED else ""
    return [(f"{copies} file(s) are byte-for-byte copies of others, so those images count double in training: "
             f"{listed}{more}")]


def dataset_inputs(root: str | os.PathLike) -> dict[str, str]:
    """The training run's ``inputs`` for a dataset folder."""
    return {"data": str(root)}
