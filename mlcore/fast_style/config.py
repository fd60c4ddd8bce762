"""Configuration of the fast style transfer network (Johnson et al. 2016).

The training configuration (``FastStyleTrainConfig``) lives in ``mlcore.fast_style.train_config``.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlcore.config import Config, setting

VARIANTS = ("johnson", "engstrom")


@dataclass(frozen=True)
class FastStyleConfig(Config):
    """Architecture of a fast style transfer network; round-trips through JSON."""

    variant: str = setting(
        "johnson",
        "johnson: pytorch/examples TransformerNet (reflection padding, upsample + conv); "
        "engstrom: the TensorFlow net of the ml5.js checkpoints (SAME padding, transposed convs, tanh)",
        choices=VARIANTS,
    )
    channels: tuple[int, int, int] = setting(
        (32, 64, 128),
        "widths after the 9x9 input conv and after each of the two stride-2 downsampling convs",
        min=1,
    )
    num_residual_blocks: int = setting(5, "residual blocks at the lowest resolution (1/4 of the input)", min=0)
