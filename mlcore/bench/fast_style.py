"""Fast style training (Johnson et al. 2016) on the benchmark harness.

The paper's setting (``johnson2016``: TransformerNet 32/64/128 with 5 residual blocks, Adam) at
256 px, with a random VGG16 loss network: the same cost as the ImageNet one, which a benchmark
machine may not have, and labelled as such. The synthetic dataset is a style picture and a
folder of content pictures (mlcore.fast_style's layout).
"""

from __future__ import annotations

import random
from pathlib import Path

from mlcore.bench.harness import TrainingCase, synthetic_image, synthetic_images


def configure(variant: str, *, batch_size: int, size: int) -> dict:
    return {"batch_size": batch_size, "image_size": size, "style_size": size, "loss_network": "random"}


def dataset(root: Path, *, size: int, count: int) -> None:
    root.mkdir(parents=True, exist_ok=True)
    synthetic_image(size, size, random.Random(1)).save(root / "style.jpg", quality=90)
    # A little larger than the crops, so the random crop has room to move.
    synthetic_images(root / "content", count=count, width=size + size // 4)


CASE = TrainingCase(
    family="fast_style",
    title="fast style training (Johnson et al. 2016)",
    networks="TransformerNet 32/64/128 with 5 residual blocks, VGG16 losses "
             "(content relu3_3, style Grams at 4 layers, TV), Adam",
    variants={"johnson2016": "johnson2016"},
    batch_sizes=(4, 16),
    configure=configure,
    dataset=dataset,
    notes=("random VGG16 loss network: the ImageNet one's cost, no real style model",),
)
