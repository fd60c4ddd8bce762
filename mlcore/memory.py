"""How much memory a network needs to translate an image of a given size, without running it.

The forward pass is replayed on PyTorch's ``meta`` device (shapes only, no data, milliseconds)
under a dispatch mode that adds up the bytes of every tensor alive at once. What that cannot
see is what the backend keeps besides the activations: about one more copy of the convolution
weights (oneDNN reorders them into its own layout), and up to a fifth more of working memory
(measured; see _BACKEND_MARGIN), so the estimate adds both and errs high. It counts what a
translation adds to a process that has the network loaded already.

    model = MemoryModel.fit(build_on_meta, translate)   # once per network
    model.bytes_for(width, height)                     # -> bytes
    model.max_pixels(budget_bytes)                     # -> the largest image that fits
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

__all__ = ["MemoryModel", "peak_activation_bytes"]

# Sizes the network is replayed at: two, to separate the fixed part from the part per pixel.
_PROBE_SIDES = (256, 512)
# Input and output as float tensors, plus the 8-bit images on either side.
_IMAGE_BYTES_PER_PIXEL = 3 * 4 * 2 + 3 * 2
# What the backend allocates that the replay cannot see, beyond the weights' copy: measured at
# 1 to 16 megapixels on CPU, the peak RSS was 0.97-1.0x the replay's count for fast style,
# 1.04-1.22x for Pix2Pix and 1.17-1.21x for U-GAT-IT light. The estimate takes the high end, so
# that a budget holds.
_BACKEND_MARGIN = 1.25


class _LiveBytes(TorchDispatchMode):
    """Adds up the bytes of the tensors each operation creates, and takes them off again when
    Python frees them; remembers the highest total."""

    def __init__(self) -> None:
        super().__init__()
        self.live = 0
        self.peak = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        inputs = {id(a) for a in tree_flatten((args, kwargs))[0] if isinstance(a, torch.Tensor)}
        for tensor in tree_flatten(out)[0]:
            # In-place operations hand back their input; views share its storage.
            if not isinstance(tensor, torch.Tensor) or id(tensor) in inputs or tensor._is_view():
                continue
            size = tensor.numel() * tensor.element_size()
            self.live += size
            self.peak = max(self.peak, self.live)
            weakref.finalize(tensor, self._free, size)
        return out

    def _free(self, size: int) -> None:
        self.live -= size


def peak_activation_bytes(
    net: nn.Module, translate: Callable[[nn.Module, torch.Tensor], torch.Tensor], height: int, width: int,
    dtype: torch.dtype = torch.float32,
) -> int:
    """The most bytes of tensors alive at once while ``translate(net, image)`` runs on a
    ``1 x 3 x height x width`` image. ``net`` must live on the meta device."""
    x = torch.empty(1, 3, height, width, device="meta", dtype=dtype)
    with torch.inference_mode(), _LiveBytes() as counter:
        translate(net, x)
    return counter.peak


@dataclass(frozen=True)
class MemoryModel:
    """bytes(width, height) = fixed + per_pixel * width * height, fitted on the meta device."""

    fixed: float
    per_pixel: float

    @classmethod
    def fit(
        cls, build_on_meta: Callable[[], nn.Module],
        translate: Callable[[nn.Module, torch.Tensor], torch.Tensor], dtype: torch.dtype = torch.float32,
    ) -> MemoryModel:
        with torch.device("meta"):
            net = build_on_meta().to(dtype=dtype).eval()
        small, large = (peak_activation_bytes(net, translate, s, s, dtype) for s in _PROBE_SIDES)
        per_pixel = max(0.0, (large - small) / (_PROBE_SIDES[1] ** 2 - _PROBE_SIDES[0] ** 2)) * _BACKEND_MARGIN
        activations_fixed = max(0.0, small * _BACKEND_MARGIN - per_pixel * _PROBE_SIDES[0] ** 2)
        # The backend's own copy of the convolution weights (oneDNN's blocked layout).
        reordered = sum(
            m.weight.numel() * m.weight.element_size() for m in net.modules() if isinstance(m, nn.modules.conv._ConvNd)
        )
        return cls(fixed=activations_fixed + reordered, per_pixel=per_pixel + _IMAGE_BYTES_PER_PIXEL)

    def bytes_for(self, width: int, height: int) -> int:
        return int(self.fixed + self.per_pixel * width * height)

    def max_pixels(self, budget_bytes: float) -> int:
        """The most pixels an image may have for its translation to fit in ``budget_bytes``
        (0 when even a tiny image would not fit)."""
        return max(0, int((budget_bytes - self.fixed) / self.per_pixel))
