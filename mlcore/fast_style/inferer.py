"""Running a fast style network on images in the mlcore convention (see mlcore.images)."""

from __future__ import annotations

import torch
from torch import nn


def translate(net: nn.Module, x01: torch.Tensor) -> torch.Tensor:
    """Stylise a batch: ``N x 3 x H x W`` RGB in [0, 1] in, the same shape in [0, 1] out.

    The networks work in 0..255; the result is clamped because TransformerNet's output is not
    bounded. Runs in ``x01``'s dtype and device; ``x01`` itself is not modified.
    """
    y = net(x01 * 255.0)
    return (y / 255.0).clamp(0.0, 1.0)
