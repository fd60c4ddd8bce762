"""Configuration of Pix2Pix (Isola et al. 2017, "Image-to-Image Translation with Conditional
Adversarial Networks").

``Pix2PixConfig`` is the generator's architecture (stored in model checkpoints);
``Pix2PixTrainConfig`` how to train one (stored in run.json and training checkpoints). This
module imports no torch, so the CLI and the web admin can describe the fields cheaply.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal, Self

from pydantic import model_validator

from mlcore.config import Config, setting

__all__ = ["GENERATORS", "DIRECTIONS", "Pix2PixConfig", "Pix2PixTrainConfig", "generator_multiple",
           "patch_map_size"]

# U-Net name -> number of stride-2 downsamplings. unet_256 and unet_128 are the paper's and
# junyanz/pytorch-CycleGAN-and-pix2pix's (a 256 or 128 px crop reaches 1x1 at the bottleneck);
# the two smaller ones are ours, for tests and demos on small crops.
GENERATORS: dict[str, int] = {"unet_256": 8, "unet_128": 7, "unet_64": 6, "unet_32": 5}
Generator = Literal[tuple(GENERATORS)]  # at run time Literal takes the names as a tuple
DIRECTIONS = ("AtoB", "BtoA")


def generator_multiple(generator: str) -> int:
    """The side lengths a U-Net accepts are multiples of this (2 ** downsamplings)."""
    return 2 ** GENERATORS[generator]


def patch_map_size(size: int, n_layers: int) -> int:
    """Side of the PatchGAN's output map for a ``size`` x ``size`` input (30 for 256, n=3)."""
    for _ in range(n_layers):  # 4x4 convs, stride 2, padding 1
        size = (size + 2 - 4) // 2 + 1
    for _ in range(2):  # two 4x4 convs, stride 1, padding 1
        size = size + 2 - 4 + 1
    return size


class Pix2PixConfig(Config):
    """The U-Net generator; round-trips through JSON. Its parameter names are those of
    junyanz's ``UnetGenerator``, so their ``latest_net_G.pth`` files load unchanged."""

    generator: Generator = setting(
        "unet_256",
        "U-Net depth: unet_256 (8 downsamplings, the paper's), unet_128 (7); unet_64 and unet_32 "
        "are small variants for tests and demos",
    )
    ngf: int = setting(64, "filters of the first layer; they double per level up to 8 x ngf", ge=1)
    norm: Literal["batch", "instance"] = setting(
        "batch", "batch (the paper's) or instance normalisation (no affine parameters, as junyanz)"
    )
    dropout: bool = setting(
        True,
        "dropout 0.5 in the 8 x ngf decoder blocks below the innermost (3 in unet_256, 2 in "
        "unet_128): the generator's noise in training; always off at inference",
    )
    in_channels: Literal[1, 3] = setting(3, "channels of the input picture (1: the network sees its luma)")
    out_channels: Literal[1, 3] = setting(3, "channels of the output picture (1: grey, shown as RGB)")
    test_norm: Literal["running", "image"] = setting(
        "running",
        "batch norm at inference: running (the averages kept in training, PyTorch eval(), junyanz "
        "test.py --eval) or image (each image's own statistics, as the paper and junyanz's default "
        "test do; matches training at batch size 1)",
    )

    @property
    def multiple(self) -> int:
        return generator_multiple(self.generator)


class Pix2PixTrainConfig(Config):
    """Training a Pix2Pix generator and its conditional PatchGAN (the paired data folder is an
    input of the run, not config)."""

    arch: Pix2PixConfig = setting(Pix2PixConfig(), "architecture of the generator being trained")
    direction: Literal["AtoB", "BtoA"] = setting("AtoB", "AtoB: learn A -> B; BtoA: learn B -> A")
    steps: int = setting(
        80_000, "training iterations (the paper's facades: 200 epochs of 400 pairs at batch 1 = 80k)", ge=1
    )
    batch_size: int = setting(1, "pairs per step (the paper: 1)", ge=1)
    load_size: int = setting(286, "pairs are resized (shorter side) to this before cropping", ge=1)
    crop_size: int = setting(256, "side of the random square crop (the same for A and B)", ge=1)
    flip: bool = setting(True, "flip pairs left-right at random (A and B together)")
    lr: float = setting(2e-4, "Adam learning rate of both networks", ge=0.0)
    beta1: float = setting(0.5, "Adam beta1 of both networks (beta2 is 0.999)", ge=0.0, le=1.0)
    decay_fraction: float = setting(
        0.5,
        "share of the run, at its end, over which the learning rate falls linearly towards 0 "
        "(junyanz 'linear': n_epochs_decay / (n_epochs + n_epochs_decay) = 100/200); 0: constant",
        ge=0.0, le=1.0,
    )
    gan_mode: Literal["vanilla", "lsgan"] = setting("vanilla", "adversarial loss: vanilla (the paper's) or lsgan")
    lambda_l1: float = setting(100.0, "weight of the L1 loss (on images in -1..1, as the paper)", ge=0.0)
    ndf: int = setting(64, "filters of the discriminator's first layer", ge=1)
    n_layers_d: int = setting(3, "stride-2 layers of the PatchGAN (3: 70x70 patches)", ge=1, le=8)
    num_probes: int = setting(4, "pairs shown in each sample grid (rows: A, fake B, real B)", ge=1, le=16)

    PRESETS: ClassVar[dict[str, dict[str, Any]]] = {
        # The paper's facades setting: 286 -> 256 jitter, batch 1, 200 epochs of 400 pairs (100 at
        # a constant rate, 100 decaying), Adam 2e-4 (0.5, 0.999), lambda 100, 70x70 PatchGAN.
        # Trained at batch 1, batch norm sees each image's own statistics; inference does too.
        # For another set, steps = epochs x pairs / batch_size.
        "isola2017": {
            "arch": {"generator": "unet_256", "ngf": 64, "norm": "batch", "dropout": True,
                     "test_norm": "image"},
            "steps": 80_000, "batch_size": 1, "load_size": 286, "crop_size": 256, "flip": True,
            "lr": 2e-4, "beta1": 0.5, "decay_fraction": 0.5, "gan_mode": "vanilla",
            "lambda_l1": 100.0, "ndf": 64, "n_layers_d": 3,
        },
        # Seconds on a CPU: small networks on 32 px crops; for tests and demos only.
        "tiny": {
            "arch": {"generator": "unet_32", "ngf": 8},
            "steps": 20, "batch_size": 2, "load_size": 36, "crop_size": 32, "ndf": 8,
            "n_layers_d": 2, "num_probes": 2,
        },
    }

    @model_validator(mode="after")
    def _check(self) -> Self:
        multiple = self.arch.multiple
        if self.crop_size % multiple:
            raise ValueError(
                f"crop_size must be a multiple of {multiple} for {self.arch.generator} "
                f"(its {multiple.bit_length() - 1} halvings must end on whole pixels); got {self.crop_size}"
            )
        if patch_map_size(self.crop_size, self.n_layers_d) < 1:
            raise ValueError(
                f"a {self.n_layers_d}-layer PatchGAN needs crops larger than {self.crop_size} px; "
                "lower n_layers_d or raise crop_size"
            )
        return self
