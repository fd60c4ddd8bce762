"""Configuration of U-GAT-IT (Kim et al. 2020).

``UGATITConfig`` is one generator's architecture (stored in model checkpoints);
``UGATITTrainConfig`` how to train the pair of generators and their four discriminators
(stored in run.json and training checkpoints). The defaults and the ``kim2020`` presets are
those of znxlwm/UGATIT-pytorch's ``main.py`` (which are the paper's).
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal, Self, get_args

from pydantic import Field, model_validator

from mlcore.config import Config, setting

__all__ = ["UGATITConfig", "UGATITTrainConfig", "DIRECTIONS", "discriminator_min_size"]

Direction = Literal["A2B", "B2A"]
DIRECTIONS = get_args(Direction)
Beta = Annotated[float, Field(ge=0.0, le=1.0)]


class UGATITConfig(Config):
    """Architecture of a U-GAT-IT generator (znxlwm's ``ResnetGenerator``)."""

    light: bool = setting(
        False,
        "light: AdaLIN's gamma/beta from the pooled features (any inference size); "
        "full: from the whole feature map (inference at img_size only)",
    )
    ngf: int = setting(64, "channels after the first conv (x2, x4 after the two down-sampling convs)", ge=1)
    n_res: int = setting(4, "residual blocks in the encoder, and AdaLIN residual blocks in the decoder", ge=0)
    # A multiple of 4: two stride-2 convs must divide the side exactly, for the full model's
    # MLP reads a (img_size/4)^2 feature map and the decoder must give back img_size.
    img_size: int = setting(
        256, "training image side (a multiple of 4); a full model translates at this size", ge=8, multiple_of=4
    )
    in_channels: Literal[1, 3] = setting(3, "channels of the input images: 3 (RGB) or 1 (grey)")
    out_channels: Literal[1, 3] = setting(3, "channels of the output images: 3 (RGB) or 1 (grey)")

    @property
    def bottleneck_channels(self) -> int:
        return self.ngf * 4

    @property
    def fc_in_features(self) -> int:
        """Inputs of the gamma/beta MLP: the pooled features (light) or the whole map (full)."""
        if self.light:
            return self.bottleneck_channels
        return (self.img_size // 4) ** 2 * self.bottleneck_channels


def discriminator_min_size(n_layers: int) -> int:
    """The smallest image a ``n_layers`` discriminator can judge.

    It halves the side ``n_layers - 2`` times (4x4 convs, stride 2, reflection pad 1); the two
    4x4 stride-1 convs that follow each take one pixel off and need a side of at least 2 to
    reflect-pad, so at least 3 pixels must be left after the halvings.
    """
    return 3 * 2 ** (n_layers - 2)


class UGATITTrainConfig(Config):
    """Training U-GAT-IT on an unpaired dataset (trainA/, trainB/) as in Kim et al. 2020."""

    arch: UGATITConfig = setting(UGATITConfig(), "architecture of both generators")
    steps: int = setting(1_000_000, "training iterations (Kim et al.: 1,000,000 at batch 1)", ge=1)
    batch_size: int = setting(1, "images of each domain per step", ge=1)
    lr: float = setting(1e-4, "Adam learning rate of generators and discriminators", ge=0.0)
    betas: tuple[Beta, Beta] = setting((0.5, 0.999), "Adam beta1 and beta2")
    weight_decay: float = setting(1e-4, "Adam weight decay (L2, as torch.optim.Adam applies it)", ge=0.0)
    decay: bool = setting(True, "decay the learning rate linearly to 0 over the second half of the steps")
    adv_weight: float = setting(1.0, "weight of the LSGAN losses (images and CAM logits)", ge=0.0)
    cycle_weight: float = setting(10.0, "weight of the cycle-consistency L1 loss", ge=0.0)
    identity_weight: float = setting(10.0, "weight of the identity L1 loss", ge=0.0)
    cam_weight: float = setting(1000.0, "weight of the generators' CAM (auxiliary classifier) BCE loss", ge=0.0)
    ndf: int = setting(64, "discriminator channels after the first conv", ge=1)
    global_layers: int = setting(7, "layers of the global discriminators (Kim et al.: 7)", ge=3)
    local_layers: int = setting(5, "layers of the local discriminators (Kim et al.: 5)", ge=3)
    jitter: int = setting(30, "training images are resized to img_size + jitter, then randomly cropped", ge=0)
    hflip: bool = setting(True, "flip training crops left-right at random")
    num_probes: int = setting(4, "images of each domain in the sample grids (testA/testB first)", ge=1, le=16)
    export_direction: Direction = setting("A2B", "which generator the run exports: A2B or B2A")

    PRESETS: ClassVar[dict[str, dict[str, Any]]] = {
        # znxlwm/UGATIT-pytorch main.py: full model, 1M iterations at batch 1, Adam 1e-4
        # (0.5, 0.999) with weight decay 1e-4, decay on, weights 1/10/10/1000, 256 px.
        "kim2020": {
            "arch": {"light": False, "ngf": 64, "n_res": 4, "img_size": 256},
            "steps": 1_000_000, "batch_size": 1, "lr": 1e-4, "betas": [0.5, 0.999], "weight_decay": 1e-4,
            "decay": True, "adv_weight": 1.0, "cycle_weight": 10.0, "identity_weight": 10.0,
            "cam_weight": 1000.0, "ndf": 64, "global_layers": 7, "local_layers": 5, "jitter": 30,
        },
        # The same with the light generator (their --light True), which fits in far less memory.
        "kim2020_light": {
            "arch": {"light": True, "ngf": 64, "n_res": 4, "img_size": 256},
            "steps": 1_000_000, "batch_size": 1, "lr": 1e-4, "betas": [0.5, 0.999], "weight_decay": 1e-4,
            "decay": True, "adv_weight": 1.0, "cycle_weight": 10.0, "identity_weight": 10.0,
            "cam_weight": 1000.0, "ndf": 64, "global_layers": 7, "local_layers": 5, "jitter": 30,
        },
        # Seconds on a CPU: tiny networks on 32 px crops; for tests and demos only.
        "tiny": {
            "arch": {"light": True, "ngf": 8, "n_res": 1, "img_size": 32},
            "steps": 20, "ndf": 8, "global_layers": 5, "local_layers": 4, "jitter": 4, "num_probes": 2,
        },
    }

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.arch.in_channels != self.arch.out_channels:
            raise ValueError(
                "training needs arch.in_channels == arch.out_channels: the identity loss feeds "
                "domain A images to the B->A generator"
            )
        for name in ("global_layers", "local_layers"):
            layers = getattr(self, name)
            smallest = discriminator_min_size(layers)
            if self.arch.img_size < smallest:
                raise ValueError(
                    f"{name}={layers} needs arch.img_size of at least {smallest}; got {self.arch.img_size}"
                )
        return self
