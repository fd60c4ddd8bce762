"""How much memory a tiled translation needs, without running it.

The tiled translation is replayed on the meta device (mlcore.memory.peak_activation_bytes) at
two photo sizes larger than a tile. Its peak is the whole maps of its plan, which grow with the
photo and are counted exactly (the slope), plus one tile's working set and the network's
weights, which do not grow (the intercept). Both get mlcore.memory's backend margin: measured
in a child process at 4.3 MP (tests/mlcore/test_tiling.py), the peak RSS was 1.2x the replay's
count (heap blocks of freed bands the allocator keeps, oneDNN workspace), though only 0.91x at
16.8 MP; the estimate errs high so that a budget holds.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from mlcore.memory import _BACKEND_MARGIN, _IMAGE_BYTES_PER_PIXEL, MemoryModel, peak_activation_bytes

__all__ = ["fit_tiled"]

# The images on either side (as mlcore.memory counts them for an untiled run).
_INPUT_BYTES_PER_PIXEL = _IMAGE_BYTES_PER_PIXEL


def fit_tiled(
    build_on_meta: Callable[[], nn.Module],
    translate: Callable[[nn.Module, torch.Tensor], torch.Tensor],
    *, tile: int, dtype: torch.dtype = torch.float32,
) -> MemoryModel:
    """bytes(width, height) of ``translate`` (a tiled run at tile side ``tile``)."""
    with torch.device("meta"):
        net = build_on_meta().to(dtype=dtype).eval()
    sides = (3 * tile, 5 * tile)
    small, large = (peak_activation_bytes(net, translate, s, s, dtype) for s in sides)
    per_pixel = max(0.0, (large - small) / (sides[1] ** 2 - sides[0] ** 2))
    fixed = max(0.0, small - per_pixel * sides[0] ** 2) * _BACKEND_MARGIN
    per_pixel *= _BACKEND_MARGIN
    reordered = sum(
        m.weight.numel() * m.weight.element_size() for m in net.modules() if isinstance(m, nn.modules.conv._ConvNd)
    )
    return MemoryModel(fixed=fixed + reordered, per_pixel=per_pixel + _INPUT_BYTES_PER_PIXEL)
