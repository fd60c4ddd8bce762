"""What a family hands ``Inferer`` when one of its networks can translate a photo in tiles."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

__all__ = ["Tiler"]


@dataclass(frozen=True)
class Tiler:
    """``translate(x01, tile)``: the family's translation of ``N x 3 x H x W`` in [0, 1] done
    tile by tile (``tile`` None: the tiler's default side), in memory that grows with the
    photo only by its whole maps (see ``mlcore.tiling.memory``)."""

    translate: Callable[[torch.Tensor, int | None], torch.Tensor]
    default_tile: int
    exact: bool  # the tiles give the untiled result up to float rounding
    how: str  # one line: what the tiling does and how close it is
