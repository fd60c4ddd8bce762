"""U-GAT-IT training (Kim et al. 2020) on the benchmark harness.

Kim et al.'s networks (``kim2020``, ``kim2020_light``: 2 generators with ngf 64 and 4 + 4
residual blocks, 4 discriminators with ndf 64 and 7 and 5 layers) at 256 px, batch 1. The full
model's gamma/beta MLP alone has (64 * 64 * 256) x 256 = 268M weights per generator at 256 px:
1 GiB, 4 GiB with its gradient and Adam moments, so the full case needs about 20 GB. The
synthetic dataset is trainA/ and trainB/ of unrelated pictures.
"""

from __future__ import annotations

from pathlib import Path

from mlcore.bench.harness import TrainingCase, synthetic_images


def configure(variant: str, *, batch_size: int, size: int) -> dict:
    return {"batch_size": batch_size, "arch.img_size": size, "arch.light": variant == "light"}


def dataset(root: Path, *, size: int, count: int) -> None:
    for seed, side in enumerate("AB"):  # 30 px of jitter, as the presets
        synthetic_images(root / f"train{side}", count=count, width=size + 30, seed=seed)


CASE = TrainingCase(
    family="ugatit",
    title="U-GAT-IT training (Kim et al. 2020)",
    networks="2 generators (ngf 64, 4 + 4 residual blocks, CAM, AdaLIN), 4 discriminators "
             "(ndf 64, 7 and 5 layers), LSGAN + cycle + identity + CAM losses",
    variants={"light": "kim2020_light", "full": "kim2020"},
    batch_sizes=(1,),
    configure=configure,
    dataset=dataset,
    unit="images of each domain",
)
