"""Training data: image-folder datasets, deterministic augmentation and a resumable sample stream.

Determinism is a pure function, not a state: the k-th sample a run ever sees is
``dataset[(epoch, index)]`` with ``epoch, offset = divmod(k, len(dataset))`` and ``index`` the
``offset``-th entry of ``epoch_order(len(dataset), seed, epoch)``; its random crop and flip come
from ``sample_rng(seed, epoch, index)``. Nothing depends on a global RNG or on which worker
process loads it, so ``num_workers=0`` and ``num_workers=2`` give the same batches, and a run
resumed at step s simply starts the stream at sample ``s * batch_size``.

Batches run on across epoch boundaries (the stream never drops or repeats a sample within an
epoch), so "2 epochs" is ``2 * len(dataset) / batch_size`` steps.

In a run of several processes (mlcore.engine.distributed) ``batch_size`` is the global batch and
rank r of W takes its r-th slice of ``batch_size / W`` samples: together the ranks see exactly
the one-process stream, each a disjoint part of it, so the data position (samples seen) is the
same number whatever the number of processes, and a run resumes on another number of them.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import random
import signal
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset, Sampler

from mlcore import images

__all__ = [
    "IMAGE_SUFFIXES",
    "DatasetError",
    "DatasetReport",
    "find_images",
    "load_image",
    "sample_rng",
    "epoch_order",
    "ImageTransform",
    "ImageFolderDataset",
    "SampleStream",
    "make_loader",
    "load_probe_images",
]

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")

SampleKey = tuple[int, int]  # (epoch, index into the dataset)


class DatasetError(ValueError):
    """A dataset folder is missing, holds no images, or holds an image that cannot be read."""


@dataclass(frozen=True)
class DatasetReport:
    """What a family found in a dataset folder (``Training.inspect_dataset``), for people.

    ``counts`` names what was counted ({"pairs": 400}, {"trainA": 1200, "trainB": 3400}),
    ``samples`` are a few files worth showing as thumbnails, ``problems`` lists every problem in
    a sentence each (a file that is no image, a pair whose halves differ, a missing folder).
    A dataset can train when there is no problem.
    """

    layout: str
    counts: dict[str, int]
    samples: tuple[Path, ...] = ()
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems


def find_images(root: str | os.PathLike) -> list[Path]:
    """Every .jpg/.jpeg/.png/.webp file under ``root`` (recursively), in a fixed order."""
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"{root}: not a folder")
    found = [
        p for p in root.rglob("*")
        if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(root).parts)
    ]
    if not found:
        raise DatasetError(
            f"{root}: no images found (looked for {', '.join(IMAGE_SUFFIXES)} files in it and its subfolders)"
        )
    # Sorted by the path inside the folder, so the order is the same on every machine.
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def load_image(path: str | os.PathLike) -> Image.Image:
    """An RGB image with its EXIF orientation applied; ``DatasetError`` names a broken file."""
    try:
        rgb, _ = images.split_alpha(images.open_image(path))
    except Exception as exc:  # PIL raises OSError, SyntaxError, ValueError, DecompressionBombError...
        raise DatasetError(f"{path}: cannot read image ({type(exc).__name__}: {exc})") from exc
    return rgb


def sample_rng(seed: int, epoch: int, index: int) -> random.Random:
    """The random numbers for one sample's augmentation: a pure function of its coordinates."""
    return random.Random(f"restyle-sample:{seed}:{epoch}:{index}")  # str seeds hash with SHA-512


def epoch_order(num_items: int, seed: int, epoch: int) -> list[int]:
    """The shuffled order of ``range(num_items)`` for one epoch."""
    order = list(range(num_items))
    random.Random(f"restyle-order:{seed}:{epoch}").shuffle(order)
    return order


@dataclass(frozen=True)
class ImageTransform:
    """Resize (shorter side), square crop and horizontal flip; image in, 3 x H x W tensor out."""

    resize: int | None = None  # shorter side after resizing; None keeps the size
    crop: int | None = None  # side of the square crop; None keeps the whole image
    random_crop: bool = True  # crop at a random position (else the centre)
    hflip: bool = False  # flip left-right with probability 1/2

    def __call__(self, img: Image.Image, rng: random.Random | None = None) -> torch.Tensor:
        """``rng=None`` is the deterministic version (centre crop, no flip), used for probes."""
        shorter = self.resize
        if self.crop is not None and min(img.size) < self.crop and (shorter or 0) < self.crop:
            shorter = self.crop  # never crop beyond the picture
        if shorter is not None and min(img.size) != shorter:
            scale = shorter / min(img.size)
            size = (max(shorter, round(img.width * scale)), max(shorter, round(img.height * scale)))
            img = img.resize(size, Image.Resampling.BILINEAR)
        if self.crop is not None:
            spare_x, spare_y = img.width - self.crop, img.height - self.crop
            if rng is not None and self.random_crop:
                left, top = rng.randint(0, spare_x), rng.randint(0, spare_y)
            else:
                left, top = spare_x // 2, spare_y // 2
            img = img.crop((left, top, left + self.crop, top + self.crop))
        if rng is not None and self.hflip and rng.random() < 0.5:
            img = img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        return images.pil_to_tensor(img)[0]


class ImageFolderDataset(Dataset):
    """The images under a folder; ``dataset[(epoch, index)]`` is one augmented 3 x H x W tensor."""

    def __init__(self, root: str | os.PathLike, transform: ImageTransform, *, seed: int = 0) -> None:
        self.root = Path(root)
        self.files = find_images(self.root)
        self.transform = transform
        self.seed = seed

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, key: SampleKey | int) -> torch.Tensor:
        epoch, index = key if isinstance(key, tuple) else (0, key)
        img = load_image(self.files[index])
        return self.transform(img, sample_rng(self.seed, epoch, index))

    def probe_batch(self, count: int) -> torch.Tensor:
        """The first ``count`` images, un-augmented (centre crop): fixed inputs for samples."""
        chosen = self.files[: max(1, count)]
        return torch.stack([self.transform(load_image(path)) for path in chosen])


class SampleStream(Sampler[list[SampleKey]]):
    """Endless batches of sample keys, starting at sample number ``start`` (see the module doc);
    with ``world_size`` > 1, rank ``rank``'s slice of each global batch of ``batch_size``."""

    def __init__(
        self, num_items: int, batch_size: int, *, seed: int, start: int = 0, shuffle: bool = True,
        rank: int = 0, world_size: int = 1,
    ) -> None:
        if num_items < 1 or batch_size < 1 or start < 0:
            raise ValueError("SampleStream needs num_items >= 1, batch_size >= 1 and start >= 0")
        if world_size < 1 or not 0 <= rank < world_size:
            raise ValueError(f"SampleStream needs 0 <= rank < world_size; got rank {rank} of {world_size}")
        if batch_size % world_size:
            raise ValueError(f"a batch of {batch_size} does not split evenly over {world_size} processes")
        self.num_items, self.batch_size = num_items, batch_size
        self.seed, self.start, self.shuffle = seed, start, shuffle
        self.rank_batch = batch_size // world_size
        self.rank_offset = rank * self.rank_batch
        self._cached_epoch, self._cached_order = -1, []

    def keys(self, first: int, count: int) -> list[SampleKey]:
        """Keys of samples number ``first`` .. ``first + count - 1``."""
        out: list[SampleKey] = []
        for number in range(first, first + count):
            epoch, offset = divmod(number, self.num_items)
            out.append((epoch, self._order(epoch)[offset]))
        return out

    def _order(self, epoch: int) -> list[int]:
        if not self.shuffle:
            return range(self.num_items)  # type: ignore[return-value]
        if self._cached_epoch != epoch:  # one shuffle per epoch, not per batch
            self._cached_epoch, self._cached_order = epoch, epoch_order(self.num_items, self.seed, epoch)
        return self._cached_order

    def __iter__(self) -> Iterator[list[SampleKey]]:
        number = self.start
        while True:
            yield self.keys(number + self.rank_offset, self.rank_batch)
            number += self.batch_size


def _ignore_sigint(worker_id: int) -> None:
    # Ctrl-C is for the main process, which stops the run cleanly; a worker dying of it
    # would turn that graceful stop into a "DataLoader worker exited unexpectedly" error.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def make_loader(
    dataset: Dataset,
    *,
    batch_size: int,
    seed: int,
    start: int = 0,
    num_workers: int = 2,
    shuffle: bool = True,
    pin_memory: bool = False,
    rank: int = 0,
    world_size: int = 1,
) -> DataLoader:
    """An endless DataLoader over ``dataset`` beginning at sample number ``start``; with
    ``world_size`` > 1 it yields rank ``rank``'s ``batch_size / world_size`` samples of each
    global batch (see the module doc).

    Worker processes only decode and augment (deterministically, see the module doc). In a
    daemon process (a Celery prefork worker) processes cannot have children, so loading falls
    back to the main process there, with a warning.
    """
    if num_workers > 0 and multiprocessing.current_process().daemon:
        log.warning("running in a daemon process: loading data without worker processes")
        num_workers = 0
    return DataLoader(
        dataset,
        batch_sampler=SampleStream(len(dataset), batch_size, seed=seed, start=start, shuffle=shuffle,
                                   rank=rank, world_size=world_size),
        num_workers=num_workers,
        pin_memory=pin_memory,
        worker_init_fn=_ignore_sigint if num_workers > 0 else None,
        persistent_workers=False,
        # The loader seeds its workers from this generator, not from the global RNG, so
        # creating a loader (as a resumed run does) leaves the run's random numbers alone.
        generator=torch.Generator().manual_seed(seed),
    )


def load_probe_images(paths: Sequence[str | os.PathLike], transform: ImageTransform) -> torch.Tensor:
    """Specific images as a fixed probe batch (un-augmented)."""
    return torch.stack([transform(load_image(p)) for p in paths])
