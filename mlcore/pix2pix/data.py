"""Paired training data for Pix2Pix, in either of the two common layouts:

- A|B side by side: each image holds A on its left half and B on its right half (pix2pix's
  published sets: facades, edges2shoes, maps... are 512x256); any folder of such images,
  searched recursively;
- A/ and B/ folders: ``root/A/x.jpg`` pairs with ``root/B/x.png`` (same path inside the folder,
  any image suffix).

Augmentation follows the paper: resize (shorter side) to ``load_size``, random ``crop_size``
square crop, random left-right flip, the same crop and flip for A and B. Like every mlcore
dataset it is a pure function of ``(seed, epoch, index)`` (see mlcore.data): both halves are
transformed with random numbers drawn from the same ``sample_rng(seed, epoch, index)``.

Problems raise ``mlcore.data.DatasetError`` naming the file: a folder without images, an image
that cannot be read, an A|B image of odd width, A and B images of different sizes, a file
without its partner. ``inspect_dataset`` reports all of them at once without raising.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import torch
from PIL import Image
from torch.utils.data import Dataset

from mlcore.data import DatasetError, DatasetReport, ImageTransform, find_images, load_image, sample_rng
from mlcore.pix2pix import FAMILY

__all__ = [
    "SIDE_BY_SIDE",
    "FOLDERS",
    "LAYOUT",
    "Pair",
    "find_pairs",
    "load_pair",
    "PairedDataset",
    "inspect_dataset",
    "dataset_inputs",
]

log = logging.getLogger(__name__)

LAYOUT = FAMILY.training.dataset_layout
SIDE_BY_SIDE = "A|B side by side"
FOLDERS = "A/ and B/ folders"
_SAMPLES_SHOWN = 4
_NAMES_LISTED = 5


@dataclass(frozen=True)
class Pair:
    """One training pair: an A|B image (``b`` is None) or an A image and its B partner."""

    a: Path
    b: Path | None = None

    @property
    def files(self) -> tuple[Path, ...]:
        return (self.a,) if self.b is None else (self.a, self.b)


def _layout(root: Path) -> str:
    return FOLDERS if (root / "A").is_dir() or (root / "B").is_dir() else SIDE_BY_SIDE


def find_pairs(root: str | os.PathLike) -> tuple[str, list[Pair]]:
    """The layout of ``root`` and its pairs in a fixed order; ``DatasetError`` when a folder is
    missing or empty, or a file has no partner (only names are checked here; sizes and
    readability when a pair is loaded)."""
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"{root}: not a folder")
    layout = _layout(root)
    if layout == SIDE_BY_SIDE:
        return layout, [Pair(path) for path in find_images(root)]
    pairs, problems = _match_folders(root)
    if problems:
        raise DatasetError(problems[0])
    return layout, pairs


def _match_folders(root: Path) -> tuple[list[Pair], list[str]]:
    """Pairs of root/A and root/B matched by path without suffix, and every naming problem."""
    problems: list[str] = []
    sides: dict[str, dict[str, Path]] = {}
    for side, other in (("A", "B"), ("B", "A")):
        if not (root / side).is_dir():
            problems.append(f"{root}: has an {other}/ folder but no {side}/ folder (pairs need both)")
            return [], problems
    for side in ("A", "B"):
        folder = root / side
        try:
            files = find_images(folder)
        except DatasetError as exc:
            problems.append(str(exc))
            return [], problems
        by_name: dict[str, Path] = {}
        for path in files:
            name = path.relative_to(folder).with_suffix("").as_posix()
            if name in by_name:
                problems.append(f"{by_name[name]} and {path}: two {side} images named {name!r}; "
                                "a pair is matched by name, so each name must be used once")
            by_name[name] = path
        sides[side] = by_name
    a_names, b_names = set(sides["A"]), set(sides["B"])
    for side, missing, other in (("A", sorted(a_names - b_names), "B"), ("B", sorted(b_names - a_names), "A")):
        if missing:
            listed = ", ".join(str(sides[side][name]) for name in missing[:_NAMES_LISTED])
            more = f" and {len(missing) - _NAMES_LISTED} more" if len(missing) > _NAMES_LISTED else ""
            problems.append(f"{listed}{more}: no partner with the same name in {root / other}")
    pairs = [Pair(sides["A"][name], sides["B"][name]) for name in sorted(a_names & b_names)]
    return pairs, problems


def load_pair(pair: Pair) -> tuple[Image.Image, Image.Image]:
    """The (A, B) images of ``pair``, RGB, the same size; ``DatasetError`` names a bad file."""
    if pair.b is None:
        image = load_image(pair.a)
        width, height = image.size
        if width % 2:
            raise DatasetError(
                f"{pair.a}: an A|B image needs an even width (A the left half, B the right); "
                f"this one is {width}x{height}"
            )
        half = width // 2
        return image.crop((0, 0, half, height)), image.crop((half, 0, width, height))
    a, b = load_image(pair.a), load_image(pair.b)
    if a.size != b.size:
        raise DatasetError(
            f"{pair.a} is {a.width}x{a.height} but its partner {pair.b} is {b.width}x{b.height}: "
            "the two images of a pair must be the same size"
        )
    return a, b


class PairedDataset(Dataset):
    """The pairs under a folder; ``dataset[(epoch, index)]`` is ``(input, target)``, two
    3 x H x W tensors in [0, 1], A then B for direction AtoB, B then A for BtoA."""

    def __init__(
        self, root: str | os.PathLike, transform: ImageTransform, *, direction: str = "AtoB", seed: int = 0
    ) -> None:
        if direction not in ("AtoB", "BtoA"):
            raise ValueError(f"direction must be AtoB or BtoA; got {direction!r}")
        self.root = Path(root)
        self.layout, self.pairs = find_pairs(self.root)
        self.transform = transform
        self.direction = direction
        self.seed = seed

    def __len__(self) -> int:
        return len(self.pairs)

    def _transformed(self, index: int, epoch: int | None) -> tuple[torch.Tensor, torch.Tensor]:
        a, b = load_pair(self.pairs[index])
        if epoch is None:  # un-augmented (centre crop, no flip)
            a, b = self.transform(a), self.transform(b)
        else:
            # Two generators in the same state: A and B get the same crop and the same flip.
            a = self.transform(a, sample_rng(self.seed, epoch, index))
            b = self.transform(b, sample_rng(self.seed, epoch, index))
        return (a, b) if self.direction == "AtoB" else (b, a)

    def __getitem__(self, key: tuple[int, int] | int) -> tuple[torch.Tensor, torch.Tensor]:
        epoch, index = key if isinstance(key, tuple) else (0, key)
        return self._transformed(index, epoch)

    def probe_batch(self, count: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The first ``count`` pairs, un-augmented: fixed (inputs, targets) for sample grids."""
        chosen = [self._transformed(i, None) for i in range(min(max(1, count), len(self)))]
        return torch.stack([x for x, _ in chosen]), torch.stack([y for _, y in chosen])


def inspect_dataset(root: str | os.PathLike) -> DatasetReport:
    """What ``root`` holds as a Pix2Pix dataset and every problem in words (never raises).

    Every image is decoded, so this takes about as long as one epoch's loading.
    """
    root = Path(root)
    if not root.is_dir():
        return DatasetReport(layout=LAYOUT, counts={"pairs": 0}, problems=(f"{root}: not a folder",))
    layout = _layout(root)
    problems: list[str] = []
    if layout == SIDE_BY_SIDE:
        try:
            pairs = [Pair(path) for path in find_images(root)]
        except DatasetError as exc:
            pairs, problems = [], [f"{exc} (expected {LAYOUT})"]
    else:
        pairs, problems = _match_folders(root)
    problems.extend(_pair_problems(pairs))
    samples = tuple(path for pair in pairs[:_SAMPLES_SHOWN] for path in pair.files)
    return DatasetReport(layout=layout, counts={"pairs": len(pairs)}, samples=samples, problems=tuple(problems))


def _pair_problems(pairs: Iterable[Pair]) -> list[str]:
    problems = []
    for pair in pairs:
        try:
            load_pair(pair)
        except DatasetError as exc:
            problems.append(str(exc))
    return problems


def dataset_inputs(root: str | os.PathLike) -> dict[str, str]:
    """The training run's inputs for a dataset folder that ``inspect_dataset`` found good."""
    return {"data": str(root)}
