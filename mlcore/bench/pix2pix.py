"""Pix2Pix training (Isola et al. 2017) on the benchmark harness.

The paper's networks (``isola2017``: U-Net with ngf 64, unet_256 at 256 px; 70x70 PatchGAN with
ndf 64; one D and one G Adam step per iteration, cGAN + 100 L1) with its 286 -> 256 jitter
scaled to the size. The synthetic dataset is a folder of A|B pictures side by side.
"""

from __future__ import annotations

from pathlib import Path

from mlcore.bench.harness import TrainingCase, synthetic_images
from mlcore.pix2pix.config import GENERATORS


def generator_for(size: int) -> str:
    """The deepest U-Net that takes ``size`` px crops (unet_256 for 256)."""
    for name, downs in sorted(GENERATORS.items(), key=lambda item: -item[1]):
        if size % 2**downs == 0:
            return name
    raise ValueError(f"--size must be a multiple of 32 for a U-Net; got {size}")


def load_size(size: int) -> int:
    return round(size * 286 / 256)


def configure(variant: str, *, batch_size: int, size: int) -> dict:
    return {"batch_size": batch_size, "crop_size": size, "load_size": load_size(size),
            "arch.generator": generator_for(size)}


def dataset(root: Path, *, size: int, count: int) -> None:
    synthetic_images(root, count=count, width=2 * load_size(size), height=load_size(size))


CASE = TrainingCase(
    family="pix2pix",
    title="Pix2Pix training (Isola et al. 2017)",
    networks="U-Net ngf 64 (unet_256 at 256 px) + 70x70 PatchGAN ndf 64, vanilla cGAN + "
             "100 L1, one D and one G Adam step, 286 -> 256 jitter (scaled) and flips",
    variants={"isola2017": "isola2017"},
    batch_sizes=(1, 16),
    configure=configure,
    dataset=dataset,
    unit="pairs",
)
