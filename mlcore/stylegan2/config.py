"""Configuration of StyleGAN2 (Karras et al. 2020, "Analyzing and Improving the Image Quality
of StyleGAN").

``StyleGAN2Config`` is the architecture of the generator and its discriminator (stored in model
checkpoints); ``StyleGAN2TrainConfig`` how to train them (stored in run.json and training
checkpoints). The presets and ``auto_config`` follow NVlabs stylegan2-ada-pytorch ``train.py``
(its ``cfg_specs`` table and the ``auto`` rules). This module imports no torch, so the CLI and
the web admin can describe the fields cheaply.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal, NamedTuple, Self

from pydantic import Field, model_validator

from mlcore.config import Config, setting

__all__ = [
    "RESOLUTIONS",
    "AutoConfig",
    "StyleGAN2Config",
    "StyleGAN2TrainConfig",
    "auto_config",
    "check_resolution",
]

# Powers of two from 32 to 1024: below 32 the networks are barely StyleGAN2 (NVlabs' cifar
# config is the smallest it trains), above 1024 nothing was ever trained or checked.
RESOLUTIONS = (32, 64, 128, 256, 512, 1024)


def check_resolution(resolution: int) -> int:
    """``resolution`` if StyleGAN2 here supports it, else a ``ValueError`` that lists them."""
    if resolution not in RESOLUTIONS:
        raise ValueError(f"StyleGAN2 resolution must be a power of two from 32 to 1024 "
                         f"({', '.join(map(str, RESOLUTIONS))}); got {resolution}")
    return resolution


class StyleGAN2Config(Config):
    """The generator's and the discriminator's architecture (NVlabs' G_kwargs and D_kwargs);
    the defaults are NVlabs' paper256 networks."""

    resolution: int = setting(256, "side of the square images in pixels: a power of two from 32 to 1024")
    z_dim: int = setting(512, "size of the input latent z", ge=1)
    w_dim: int = setting(512, "size of the intermediate latent w (the styles)", ge=1)
    mapping_layers: int = setting(8, "fully connected layers of the mapping network z -> w", ge=1)
    mapping_lr_multiplier: float = setting(
        0.01, "learning-rate multiplier of the mapping network (equalised learning rate)", gt=0.0)
    channel_base: int = setting(
        16384, "channels at a resolution are channel_base / resolution, at most channel_max "
        "(NVlabs fmaps x 32768)", ge=1)
    channel_max: int = setting(512, "most channels of any layer", ge=1)
    num_fp16_res: int = setting(
        4, "the highest resolutions that run in float16 on a GPU (0: none); the CPU always uses float32", ge=0)
    conv_clamp: float | None = setting(
        256.0, "clamp convolution outputs to +-this against float16 overflow; null: no clamp", gt=0.0)
    img_channels: Literal[1, 3] = setting(3, "channels of the images: 3 (RGB) or 1 (grey)")

    PRESETS: ClassVar[dict[str, dict[str, Any]]] = {
        # Seconds on a CPU: small networks for tests and demos only.
        "tiny32": {"resolution": 32, "z_dim": 64, "w_dim": 64, "mapping_layers": 2,
                   "channel_base": 1024, "channel_max": 64, "num_fp16_res": 0, "conv_clamp": None},
        "tiny64": {"resolution": 64, "z_dim": 64, "w_dim": 64, "mapping_layers": 2,
                   "channel_base": 1024, "channel_max": 64, "num_fp16_res": 0, "conv_clamp": None},
        # NVlabs train.py cfg_specs: fmaps 0.5 at 256, 1 at 512 and 1024; map 8; mixed precision
        # in the top 4 resolutions with conv_clamp 256.
        "paper256": {"resolution": 256, "channel_base": 16384, "mapping_layers": 8},
        "paper512": {"resolution": 512, "channel_base": 32768, "mapping_layers": 8},
        "paper1024": {"resolution": 1024, "channel_base": 32768, "mapping_layers": 8},
    }

    @model_validator(mode="after")
    def _check(self) -> Self:
        check_resolution(self.resolution)
        return self

    @property
    def num_ws(self) -> int:
        """How many w vectors the synthesis network takes: two per block (one for the first),
        plus the last block's ToRGB."""
        return 2 * (self.resolution.bit_length() - 1) - 2


Probability = Annotated[float, Field(ge=0.0, le=1.0)]


class StyleGAN2TrainConfig(Config):
    """Training a StyleGAN2 generator against its residual discriminator (NVlabs'
    training_loop and StyleGAN2Loss settings; the image folder is an input of the run).
    Defaults are NVlabs' paper256, except FID/KID, which are off unless asked for (the paper
    presets and ``auto`` ask for them every 200 kimg)."""

    arch: StyleGAN2Config = setting(StyleGAN2Config(), "architecture of the networks being trained")
    steps: int = setting(390_625, "training iterations (paper256: 25000 kimg at batch 64)", ge=1)
    batch_size: int = setting(64, "images per step, over all processes", ge=1)
    mbstd_group_size: int = setting(
        8, "samples per group of the discriminator's minibatch standard deviation", ge=1)
    lr: float = setting(0.0025, "Adam learning rate of G and D (before the lazy-regularisation adjustment)", gt=0.0)
    betas: tuple[Probability, Probability] = setting(
        (0.0, 0.99), "Adam betas of G and D (before the lazy-regularisation adjustment)")
    r1_gamma: float = setting(1.0, "weight of the R1 penalty on reals (gamma)", ge=0.0)
    pl_weight: float = setting(2.0, "weight of the path-length regulariser (0: off)", ge=0.0)
    pl_decay: float = setting(0.01, "decay of the running mean path length", ge=0.0, le=1.0)
    pl_batch_shrink: int = setting(2, "the path-length pass uses batch_size / this images", ge=1)
    g_reg_interval: int = setting(4, "regularise G every this many steps (lazy regularisation)", ge=1)
    d_reg_interval: int = setting(16, "regularise D every this many steps (lazy regularisation)", ge=1)
    style_mixing_prob: Probability = setting(0.9, "chance that a generated image mixes two latents")
    ema_kimg: float = setting(20.0, "half-life of the EMA generator in thousands of images", ge=0.0)
    ema_rampup: float | None = setting(
        None, "EMA half-life at most this x images seen so far (0.05 in NVlabs auto); null: off", gt=0.0)
    augment: Literal["ada", "noaug", "auto"] = setting(
        "auto", "discriminator augmentation: ada (adaptive), noaug, or auto (ada for small datasets)")
    augment_p: Probability = setting(
        0.0, "augmentation probability at the start (NVlabs --p); ADA adjusts it from there")
    ada_target: Probability = setting(0.6, "ADA's target for the sign of D on reals (r_t)")
    ada_interval: int = setting(4, "adjust the augmentation probability every this many steps", ge=1)
    ada_kimg: float = setting(
        500.0, "thousands of images over which the augmentation probability can go from 0 to 1", gt=0.0)
    crop: Literal["center", "pad"] = setting(
        "center", "how a non-square image is made square: centre crop, or pad the short side with black")
    xflip: bool = setting(False, "flip each image left-right with probability 1/2 (NVlabs --mirror)")
    grid_seeds: int = setting(
        8, "the sample grid shows the EMA generator's images of seeds 0 .. this - 1 (z as NVlabs generate.py)",
        ge=1, le=64)
    metrics_every: int = setting(
        0, "compute FID and KID of the EMA generator every this many steps and at the end (0: off); "
        "needs the FID Inception weights (RESTYLE_INCEPTION_WEIGHTS), else the run is labelled and has no number",
        ge=0)
    metrics_images: int = setting(
        50_000, "generated images for FID/KID, against as many reals as the folder has up to this "
        "(50000 with every real: NVlabs fid50k_full, the published figures)", ge=2)

    PRESETS: ClassVar[dict[str, dict[str, Any]]] = {
        # Seconds on a CPU: for tests and demos only (R1 gamma by the auto formula 0.0002 res^2 / batch).
        "tiny32": {"arch": StyleGAN2Config.PRESETS["tiny32"], "steps": 20, "batch_size": 4,
                   "mbstd_group_size": 2, "r1_gamma": 0.0512, "ema_kimg": 0.01, "ema_rampup": 0.05},
        "tiny64": {"arch": StyleGAN2Config.PRESETS["tiny64"], "steps": 20, "batch_size": 4,
                   "mbstd_group_size": 2, "r1_gamma": 0.2048, "ema_kimg": 0.01, "ema_rampup": 0.05},
        # NVlabs train.py cfg_specs (25000 kimg each).
        # FID/KID every 200 kimg (NVlabs' snapshot interval: snap 50 ticks of 4 kimg), fid50k_full.
        "paper256": {"arch": StyleGAN2Config.PRESETS["paper256"], "steps": 390_625, "batch_size": 64,
                     "mbstd_group_size": 8, "lr": 0.0025, "r1_gamma": 1.0, "ema_kimg": 20.0,
                     "metrics_every": 3125},
        "paper512": {"arch": StyleGAN2Config.PRESETS["paper512"], "steps": 390_625, "batch_size": 64,
                     "mbstd_group_size": 8, "lr": 0.0025, "r1_gamma": 0.5, "ema_kimg": 20.0,
                     "metrics_every": 3125},
        "paper1024": {"arch": StyleGAN2Config.PRESETS["paper1024"], "steps": 781_250, "batch_size": 32,
                      "mbstd_group_size": 4, "lr": 0.002, "r1_gamma": 2.0, "ema_kimg": 10.0,
                      "metrics_every": 6250},
    }

    @model_validator(mode="after")
    def _check(self) -> Self:
        group = min(self.mbstd_group_size, self.batch_size)
        if self.batch_size % group:
            raise ValueError(f"batch_size ({self.batch_size}) must be a multiple of mbstd_group_size "
                             f"({self.mbstd_group_size}): the minibatch std splits the batch into groups")
        if self.pl_weight > 0 and self.batch_size < self.pl_batch_shrink:
            raise ValueError(f"batch_size ({self.batch_size}) must be at least pl_batch_shrink "
                             f"({self.pl_batch_shrink}) for the path-length pass")
        return self

    @classmethod
    def auto(cls, resolution: int, gpus: int = 1, **overrides: Any) -> StyleGAN2TrainConfig:
        """NVlabs' ``--cfg=auto`` for ``resolution`` on ``gpus`` GPUs (25000 kimg), with overrides."""
        found = auto_config(resolution, gpus)
        numbers = found.train
        values = {
            "arch": found.arch.to_dict(), "steps": round(25_000_000 / numbers["mb"]),
            "batch_size": numbers["mb"], "mbstd_group_size": numbers["mbstd"], "lr": numbers["lrate"],
            "r1_gamma": numbers["gamma"], "ema_kimg": numbers["ema"], "ema_rampup": numbers["ramp"],
            "metrics_every": round(200_000 / numbers["mb"]),  # every 200 kimg, as the paper presets
        }
        return cls.from_dict(values).override(overrides)


class AutoConfig(NamedTuple):
    """What NVlabs' ``auto`` rules choose: the architecture, and the training numbers under
    their train.py names (mb, mbstd, fmaps, lrate, gamma, ema, ramp, map)."""

    arch: StyleGAN2Config
    train: dict[str, Any]


def auto_config(resolution: int, gpus: int = 1) -> AutoConfig:
    """NVlabs stylegan2-ada-pytorch ``train.py --cfg=auto`` for ``resolution`` px on ``gpus``.

    Its rules: batch max(min(gpus * min(4096 / res, 32), 64), gpus); mbstd group
    min(batch / gpus, 4); fmaps 1 from 512 px, else 0.5 (channel_base fmaps x 32768); lr 0.002
    at 1024 px, else 0.0025; R1 gamma 0.0002 res^2 / batch; EMA batch x 10 / 32 kimg with ramp-up
    0.05; a 2-layer mapping network.
    """
    check_resolution(resolution)
    if gpus < 1:
        raise ValueError(f"gpus must be at least 1; got {gpus}")
    mb = max(min(gpus * min(4096 // resolution, 32), 64), gpus)
    fmaps = 1.0 if resolution >= 512 else 0.5
    train = {
        "mb": mb, "mbstd": min(mb // gpus, 4), "fmaps": fmaps,
        "lrate": 0.002 if resolution >= 1024 else 0.0025,
        "gamma": 0.0002 * resolution ** 2 / mb, "ema": mb * 10 / 32, "ramp": 0.05, "map": 2,
    }
    arch = StyleGAN2Config(resolution=resolution, channel_base=int(fmaps * 32768), channel_max=512,
                           mapping_layers=2, num_fp16_res=4, conv_clamp=256.0)
    return AutoConfig(arch, train)
