"""How much memory a tiled translation needs, without running it.

The tiled translation is replayed on the meta device at two photo sizes larger than a tile,
counting the bytes of every tensor alive at once (as mlcore.memory does for a whole run). Its
peak is the whole maps of its plan, which grow with the photo and are counted exactly (the
slope), plus one band's or tile's working set and the network's weights, which do not grow
(the intercept).

What the replay cannot see is counted besides, from what was found alive at the measured peaks
(tests/mlcore/test_tiling.py and ``python -m mlcore.bench memory``, in child processes):

- oneDNN's copies of a convolution's input and output in its own blocked layout, alive while
  it runs: a 32 MiB row band of a stride-2 convolution reads 64 MiB of input, so this was most
  of what the replay missed at 2 to 4 MP (the peak RSS ran 1.2x above the replay's count);
- the heap blocks glibc keeps after the bands are freed: ``mlcore.tiling.heap`` gives them back
  after every step, so they are no longer counted;
- the weights' own blocked copy (as mlcore.memory counts it).

With both, the part that grows with the photo is a count of what is alive, with no margin;
only the part that does not grow takes one, measured (see _FIXED_MARGIN). The old 1.25x margin
on everything made a 4096x4096 photo look 540 MiB larger than it was.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn
from torch.utils._pytree import tree_flatten

from mlcore.memory import _IMAGE_BYTES_PER_PIXEL, MemoryModel, _LiveBytes

__all__ = ["fit_tiled", "peak_tiled_bytes"]

# The images on either side (as mlcore.memory counts them for an untiled run).
_INPUT_BYTES_PER_PIXEL = _IMAGE_BYTES_PER_PIXEL
# The whole maps are counted exactly and the images on either side generously (the output's
# float copy is counted while the maps are alive, which it never is), so the part per pixel
# takes no margin. The part that does not grow (one band's or tile's working set) ran higher
# than counted, by what no replay sees (oneDNN's kernels and scratchpads for each band and tile
# shape, code first run); _FIXED_MARGIN is measured to cover it. Johnson, VmHWM above the loaded
# network through Inferer.translate, against this estimate: 322 MiB at 1024x768 (estimate 556),
# 709-757 at 2400x1800 (900), 1598 at 4032x3024 (1666), 1644 at 4096x4096 (2112; Engstrom 1547).
# The 12 MP peak is higher than a straight line through the others; why is not known yet.
_FIXED_MARGIN = 2.3
_PER_PIXEL_MARGIN = 1.0

_CONVOLUTIONS = {torch.ops.aten.convolution.default}


def _nbytes(t: object) -> int:
    return t.numel() * t.element_size() if isinstance(t, torch.Tensor) else 0


class _LiveBytesAndConvCopies(_LiveBytes):
    """``_LiveBytes``, and for each convolution the copies of its input and output that oneDNN
    makes in its blocked layout, alive only while the convolution runs."""

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = super().__torch_dispatch__(func, types, args, kwargs)
        if func in _CONVOLUTIONS:
            copies = _nbytes(args[0]) + sum(_nbytes(t) for t in tree_flatten(out)[0])
            self.peak = max(self.peak, self.live + copies)
        return out


def peak_tiled_bytes(net: nn.Module, translate: Callable[[nn.Module, torch.Tensor], torch.Tensor],
                     height: int, width: int, dtype: torch.dtype = torch.float32) -> int:
    """The most bytes alive at once while ``translate(net, image)`` runs on a ``1 x 3 x height
    x width`` image, oneDNN's convolution copies included. ``net`` must live on the meta device."""
    x = torch.empty(1, 3, height, width, device="meta", dtype=dtype)
    with torch.inference_mode(), _LiveBytesAndConvCopies() as counter:
        translate(net, x)
    return counter.peak


def fit_tiled(
    build_on_meta: Callable[[], nn.Module],
    translate: Callable[[nn.Module, torch.Tensor], torch.Tensor],
    *, tile: int, dtype: torch.dtype = torch.float32,
) -> MemoryModel:
    """bytes(width, height) of ``translate`` (a tiled run at tile side ``tile``)."""
    with torch.device("meta"):
        net = build_on_meta().to(dtype=dtype).eval()
    sides = (3 * tile, 5 * tile)
    small, large = (peak_tiled_bytes(net, translate, s, s, dtype) for s in sides)
    per_pixel = max(0.0, (large - small) / (sides[1] ** 2 - sides[0] ** 2))
    fixed = max(0.0, small - per_pixel * sides[0] ** 2)
    reordered = sum(
        m.weight.numel() * m.weight.element_size() for m in net.modules() if isinstance(m, nn.modules.conv._ConvNd)
    )
    return MemoryModel(fixed=fixed * _FIXED_MARGIN + reordered,
                       per_pixel=per_pixel * _PER_PIXEL_MARGIN + _INPUT_BYTES_PER_PIXEL)
