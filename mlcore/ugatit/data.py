"""Unpaired datasets for U-GAT-IT: ``trainA/`` and ``trainB/`` (``testA/``, ``testB/`` optional).

    data/
      trainA/  images of domain A (e.g. selfies), any number, in any subfolders
      trainB/  images of domain B (e.g. anime faces), any number; nothing pairs them with A
      testA/   optional: fixed A images for the sample grids (else the first training images)
      testB/   optional: the same for B

Like mlcore.data, sampling is a pure function of the sample's key. The engine hands out keys
``(epoch, index)`` over ``len(dataset) = max(len(A), len(B))``; each key is numbered
``n = epoch * len(dataset) + index`` and each side maps ``n`` through its own stream:
``side_epoch, offset = divmod(n, len(side))``, ``side_index = side_order(side_epoch)[offset]``,
with a shuffled order per side, seed and epoch. A and B are shuffled independently, so which
A image meets which B image changes from epoch to epoch, and every image of a side is seen once
per epoch of that side. Crops and flips come from an RNG keyed by (seed, side, side_epoch,
side_index).

Augmentation (znxlwm/UGATIT-pytorch's train transform): resize to ``img_size + jitter``, random
``img_size`` crop, random horizontal flip. Theirs resizes to a square, distorting non-square
pictures; here the shorter side is resized and the aspect kept (the same on square data sets
such as selfie2anime). Probes are resized to ``img_size`` and centre-cropped.
"""

from __future__ import annotations

import logging
import os
import random
from pathlib import Path

import torch
from PIL import Image
from torch.utils.data import Dataset

from mlcore.data import IMAGE_SUFFIXES, DatasetError, DatasetReport, ImageTransform, find_images, load_image
from mlcore.ugatit import FAMILY

__all__ = [
    "LAYOUT",
    "SIDES",
    "UnpairedDataset",
    "inspect_dataset",
    "dataset_inputs",
]

log = logging.getLogger(__name__)

LAYOUT = FAMILY.training.dataset_layout
SIDES = ("A", "B")
_MAX_LISTED_PROBLEMS = 20


def _side_folder(root: Path, split: str, side: str) -> Path:
    return root / f"{split}{side}"


def _side_files(root: Path, split: str, side: str) -> list[Path]:
    """The images of ``root/<split><side>``; ``DatasetError`` says what is wrong in words."""
    folder = _side_folder(root, split, side)
    if not folder.is_dir():
        raise DatasetError(f"{root}: no {folder.name}/ folder ({LAYOUT})")
    try:
        return find_images(folder)
    except DatasetError:
        raise DatasetError(
            f"{folder}: no images of domain {side} (looked for {', '.join(IMAGE_SUFFIXES)} files)"
        ) from None


class UnpairedDataset(Dataset):
    """``dataset[(epoch, index)]`` -> (A image, B image), each 3 x img_size x img_size in [0, 1]."""

    def __init__(
        self, root: str | os.PathLike, *, img_size: int, jitter: int = 30, hflip: bool = True, seed: int = 0
    ) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise DatasetError(f"{self.root}: not a folder ({LAYOUT})")
        self.files = {side: _side_files(self.root, "train", side) for side in SIDES}
        self.transform = ImageTransform(resize=img_size + jitter, crop=img_size, random_crop=True, hflip=hflip)
        self.probe_transform = ImageTransform(resize=img_size, crop=img_size, random_crop=False)
        self.seed = seed
        self._orders: dict[str, tuple[int, list[int]]] = {}

    def __len__(self) -> int:
        return max(len(files) for files in self.files.values())

    def side_key(self, side: str, epoch: int, index: int) -> tuple[int, int]:
        """(side_epoch, side_index): which image of ``side`` the sample ``(epoch, index)`` shows."""
        side_epoch, offset = divmod(epoch * len(self) + index, len(self.files[side]))
        return side_epoch, self._order(side, side_epoch)[offset]

    def _order(self, side: str, side_epoch: int) -> list[int]:
        cached = self._orders.get(side)
        if cached is None or cached[0] != side_epoch:  # one shuffle per side and epoch
            order = list(range(len(self.files[side])))
            random.Random(f"restyle-ugatit-order:{self.seed}:{side}:{side_epoch}").shuffle(order)
            cached = self._orders[side] = (side_epoch, order)
        return cached[1]

    def load(self, side: str, epoch: int, index: int) -> torch.Tensor:
        side_epoch, side_index = self.side_key(side, epoch, index)
        img = load_image(self.files[side][side_index])
        rng = random.Random(f"restyle-ugatit-sample:{self.seed}:{side}:{side_epoch}:{side_index}")
        return self.transform(img, rng)

    def __getitem__(self, key: tuple[int, int] | int) -> tuple[torch.Tensor, torch.Tensor]:
        epoch, index = key if isinstance(key, tuple) else (0, key)
        return self.load("A", epoch, index), self.load("B", epoch, index)

    def probe_files(self, count: int) -> dict[str, list[Path]]:
        """Up to ``count`` images per side, as many of A as of B: testA/testB when they hold
        images, else the first training images."""
        chosen = {}
        for side in SIDES:
            try:
                chosen[side] = _side_files(self.root, "test", side)
            except DatasetError:
                chosen[side] = self.files[side]
        count = min(count, *(len(files) for files in chosen.values()))
        return {side: files[:count] for side, files in chosen.items()}

    def probe_batch(self, count: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Fixed, un-augmented (A, B) batches for the sample grids."""
        files = self.probe_files(count)
        a, b = (torch.stack([self.probe_transform(load_image(p)) for p in files[side]]) for side in SIDES)
        return a, b


def inspect_dataset(root: str | os.PathLike) -> DatasetReport:
    """What is in an unpaired dataset folder and every problem, in words (never raises for a
    bad dataset). Every image is opened and checked (Pillow's ``verify``), not decoded."""
    root = Path(root)
    counts = {f"{split}{side}": 0 for split in ("train", "test") for side in SIDES}
    problems: list[str] = []
    samples: list[Path] = []
    if not root.is_dir():
        return DatasetReport(layout=LAYOUT, counts=counts, problems=(f"{root} is not a folder",))
    unreadable: list[str] = []
    for split in ("train", "test"):
        for side in SIDES:
            name = f"{split}{side}"
            folder = _side_folder(root, split, side)
            if not folder.is_dir():
                if split == "train":
                    problems.append(f"there is no {name}/ folder (the images of domain {side})")
                continue
            try:
                files = find_images(folder)
            except DatasetError:
                files = []
                if split == "train":
                    problems.append(f"{name}/ holds no images ({', '.join(IMAGE_SUFFIXES)} files)")
            counts[name] = len(files)
            samples.extend(files[:2] if split == "train" else [])
            unreadable.extend(f"{p.relative_to(root).as_posix()} ({reason})"
                              for p in files if (reason := _unreadable(p)))
    if unreadable:
        listed = "; ".join(unreadable[:_MAX_LISTED_PROBLEMS])
        more = len(unreadable) - _MAX_LISTED_PROBLEMS
        problems.append(f"{len(unreadable)} file(s) cannot be read as images: {listed}"
                        + (f"; and {more} more" if more > 0 else ""))
    return DatasetReport(layout=LAYOUT, counts=counts, samples=tuple(samples), problems=tuple(problems))


def _unreadable(path: Path) -> str | None:
    """Why ``path`` is not a readable image, or None."""
    try:
        with Image.open(path) as img:
            img.verify()
    except Exception as exc:  # PIL raises OSError, SyntaxError, ValueError, DecompressionBombError...
        return f"{type(exc).__name__}: {exc}"
    return None


def dataset_inputs(root: str | os.PathLike) -> dict[str, str]:
    """The training run's ``inputs`` for a dataset folder."""
    return {"data": str(root)}
