"""The layers a tiled network is described with, each able to run on a rectangle of its input.

A ``Piece`` is part of a feature map: the tensor, where it starts (row, column) in the whole
map and the whole map's size. Every layer knows, per axis:

- ``out_size(size)``: the length of its output for an input of ``size`` (the whole map);
- ``need(lo, hi, size)``: which input rows ``[lo, hi)`` it reads to produce output rows
  ``[lo, hi)`` exactly;
- ``run(piece)``: the output rows it can produce exactly from the rows it is given.

Exactly means: as the layer computes them on the whole map. Padding (reflection or zeros) is
applied only where a piece touches the true border of the whole map; inside, a piece is
simply smaller on output than on input (a "valid" convolution). Strided convolutions keep the
whole map's grid (output row ``o`` reads padded rows ``o*stride - pad ...``), whatever row a
piece starts on, so 'SAME' padding parity and transposed convolutions see what they see
untiled.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["Piece", "Conv", "Upsample", "TransposedConv", "Norm", "Pointwise", "SPATIAL"]


@dataclass(frozen=True)
class Piece:
    """``tensor`` holds rows ``[top, top + h)`` and columns ``[left, left + w)`` of a feature map
    of ``size`` (rows, columns)."""

    tensor: torch.Tensor
    top: int
    left: int
    size: tuple[int, int]

    @property
    def rows(self) -> tuple[int, int]:
        return self.top, self.top + self.tensor.shape[-2]

    @property
    def cols(self) -> tuple[int, int]:
        return self.left, self.left + self.tensor.shape[-1]

    def crop(self, rows: tuple[int, int], cols: tuple[int, int]) -> Piece:
        """The part of this piece covering ``rows`` x ``cols`` (which it must contain)."""
        (r0, r1), (c0, c1) = self.rows, self.cols
        if not (r0 <= rows[0] <= rows[1] <= r1 and c0 <= cols[0] <= cols[1] <= c1):
            raise ValueError(f"piece {self.rows}x{self.cols} does not cover {rows}x{cols}")
        tensor = self.tensor[..., rows[0] - r0 : rows[1] - r0, cols[0] - c0 : cols[1] - c0]
        return Piece(tensor, rows[0], cols[0], self.size)


class Conv:
    """A convolution with its padding: ``pads(size) -> (before, after)`` per axis for the whole
    map, ``mode`` "reflect" or "zeros"."""

    def __init__(self, conv: nn.Conv2d, *, mode: str, pads: Callable[[int, int, int], tuple[int, int]]) -> None:
        if conv.kernel_size[0] != conv.kernel_size[1] or conv.stride[0] != conv.stride[1]:
            raise ValueError("square kernels and strides only")
        if conv.dilation != (1, 1) or conv.groups != 1 or conv.padding not in ((0, 0), "valid"):
            raise ValueError("plain convolutions only (no dilation, groups or built-in padding)")
        self.conv, self.mode = conv, mode
        self.k, self.s = conv.kernel_size[0], conv.stride[0]
        self._pads = pads

    def pads(self, size: int) -> tuple[int, int]:
        return self._pads(size, self.k, self.s)

    def out_size(self, size: int) -> int:
        before, after = self.pads(size)
        return (size + before + after - self.k) // self.s + 1

    def need(self, lo: int, hi: int, size: int) -> tuple[int, int]:
        before, after = self.pads(size)
        first, last = lo * self.s - before, (hi - 1) * self.s - before + self.k  # padded rows read
        if self.mode == "reflect":
            # Reflecting `before` rows needs rows 0..before; `after` rows need the last after+1.
            if first < 0:
                last = max(last, before + 1)
            if last > size:
                first = min(first, size - after - 1)
        return max(0, first), min(size, last)

    def _axis(self, lo: int, hi: int, size: int) -> tuple[int, int, int, int, int]:
        """(pad before, pad after, first output, end output, first local input row) for an
        input piece covering ``[lo, hi)`` of an axis of ``size``."""
        before, after = self.pads(size)
        pad_lo = before if lo == 0 else 0
        pad_hi = after if hi == size else 0
        start, stop = lo - pad_lo, hi + pad_hi  # the padded rows at hand, in padded coordinates - before
        first = max(0, math.ceil((start + before) / self.s))
        end = min(self.out_size(size), (stop + before - self.k) // self.s + 1)
        return pad_lo, pad_hi, first, end, first * self.s - before - start

    def run(self, piece: Piece) -> Piece:
        (h, w), x = piece.size, piece.tensor
        top_pad, bottom_pad, r0, r1, row = self._axis(*piece.rows, h)
        left_pad, right_pad, c0, c1, col = self._axis(*piece.cols, w)
        if r1 <= r0 or c1 <= c0:
            raise ValueError(f"a piece of {x.shape[-2]}x{x.shape[-1]} is too small for a {self.k}x{self.k} conv")
        if top_pad or bottom_pad or left_pad or right_pad:
            if self.mode == "reflect":
                x = F.pad(x, (left_pad, right_pad, top_pad, bottom_pad), mode="reflect")
            else:
                x = F.pad(x, (left_pad, right_pad, top_pad, bottom_pad))
        rows = (r1 - r0 - 1) * self.s + self.k
        cols = (c1 - c0 - 1) * self.s + self.k
        x = x[..., row : row + rows, col : col + cols]
        y = F.conv2d(x, self.conv.weight, self.conv.bias, self.s)
        return Piece(y, r0, c0, (self.out_size(h), self.out_size(w)))


class Upsample:
    """Nearest-neighbour upsampling by an integer factor."""

    def __init__(self, factor: int) -> None:
        self.factor = factor

    def out_size(self, size: int) -> int:
        return size * self.factor

    def need(self, lo: int, hi: int, size: int) -> tuple[int, int]:
        return lo // self.factor, -(-hi // self.factor)

    def run(self, piece: Piece) -> Piece:
        y = F.interpolate(piece.tensor, scale_factor=self.factor, mode="nearest")
        f = self.factor
        return Piece(y, piece.top * f, piece.left * f, (piece.size[0] * f, piece.size[1] * f))


class TransposedConv:
    """A transposed convolution (padding 0) to ``stride * size``, cropped from row ``crop(size)``
    of the full result (TensorFlow's conv2d_transpose 'SAME', mlcore.fast_style's
    SameConvTranspose2d). Rows outside the map contribute nothing (zeros)."""

    def __init__(self, conv: nn.ConvTranspose2d, *, crop: Callable[[int, int, int], int]) -> None:
        if conv.padding != (0, 0) or conv.output_padding != (0, 0) or conv.groups != 1:
            raise ValueError("transposed convolutions without built-in padding only")
        self.conv = conv
        self.k, self.s = conv.kernel_size[0], conv.stride[0]
        self._crop = crop

    def out_size(self, size: int) -> int:
        return size * self.s

    def need(self, lo: int, hi: int, size: int) -> tuple[int, int]:
        top = self._crop(size * self.s, self.k, self.s)
        # Full output row f = s*i + j (j < k) reads input row i.
        first = math.ceil((lo + top - self.k + 1) / self.s)
        last = (hi - 1 + top) // self.s + 1
        return max(0, first), min(size, last)

    def _axis(self, lo: int, hi: int, size: int) -> tuple[int, int, int]:
        """(first output, end output, first local row of the full result) for input [lo, hi)."""
        top = self._crop(size * self.s, self.k, self.s)
        full_lo = self.s * lo  # the piece's full result covers rows [s*lo, s*(hi-1)+k)
        first = full_lo if lo == 0 else self.s * (lo - 1) + self.k  # all its inputs at hand
        end = self.s * (hi - 1) + self.k if hi == size else self.s * hi
        first, end = max(first - top, 0), min(end - top, self.out_size(size))
        return first, end, first + top - full_lo

    def run(self, piece: Piece) -> Piece:
        (h, w) = piece.size
        r0, r1, row = self._axis(*piece.rows, h)
        c0, c1, col = self._axis(*piece.cols, w)
        y = F.conv_transpose2d(piece.tensor, self.conv.weight, self.conv.bias, self.s)
        return Piece(y[..., row : row + r1 - r0, col : col + c1 - c0], r0, c0, (h * self.s, w * self.s))


class Norm:
    """Instance normalisation, ``(x - mean) / sqrt(var + eps) * weight + bias`` per channel, with
    the mean and (biased) variance of the whole map, which ``set_statistics`` gives it before
    it runs (mlcore.tiling.plan works them out)."""

    def __init__(self, eps: float, weight: torch.Tensor | None = None, bias: torch.Tensor | None = None) -> None:
        self.eps, self.weight, self.bias = eps, weight, bias
        self.scale: torch.Tensor | None = None
        self.shift: torch.Tensor | None = None

    @classmethod
    def of(cls, module: nn.Module) -> Norm:
        """From ``nn.InstanceNorm2d`` (affine or not) or any module with eps, weight and bias."""
        weight = getattr(module, "weight", None)
        bias = getattr(module, "bias", None)
        return cls(float(module.eps), weight, bias)

    def set_statistics(self, mean: torch.Tensor, var: torch.Tensor) -> None:
        """Per-channel float64 mean and variance (shape N x C) of the whole map."""
        scale = torch.rsqrt(var + self.eps)
        if self.weight is not None:
            scale = scale * self.weight.double()
        shift = -mean * scale
        if self.bias is not None:
            shift = shift + self.bias.double()
        self.scale, self.shift = scale[..., None, None], shift[..., None, None]

    def reset(self) -> None:
        self.scale = self.shift = None

    def apply_(self, x: torch.Tensor) -> torch.Tensor:
        """Normalise ``x`` in place (a tensor this code owns)."""
        if self.scale is None:
            raise RuntimeError("instance norm used before its statistics were set")
        return x.mul_(self.scale.to(x.dtype)).add_(self.shift.to(x.dtype))

    def out_size(self, size: int) -> int:
        return size

    def need(self, lo: int, hi: int, size: int) -> tuple[int, int]:
        return lo, hi

    def run(self, piece: Piece) -> Piece:
        # Computed in float32 like the networks' own norms, then back to the piece's dtype.
        x = piece.tensor.float()
        x = x * self.scale.float() + self.shift.float()
        return Piece(x.to(piece.tensor.dtype), piece.top, piece.left, piece.size)


class Pointwise:
    """A function of each value alone (ReLU, a scale, tanh...): ``fn(x)`` must not modify ``x``;
    ``fn_(x)`` is its in-place form, for tensors this code owns."""

    def __init__(self, fn: Callable[[torch.Tensor], torch.Tensor],
                 fn_: Callable[[torch.Tensor], torch.Tensor] | None = None) -> None:
        self.fn, self.fn_ = fn, fn_ or fn

    def out_size(self, size: int) -> int:
        return size

    def need(self, lo: int, hi: int, size: int) -> tuple[int, int]:
        return lo, hi

    def run(self, piece: Piece) -> Piece:
        return Piece(self.fn(piece.tensor), piece.top, piece.left, piece.size)

    def apply_(self, x: torch.Tensor) -> torch.Tensor:
        return self.fn_(x)


RELU = Pointwise(F.relu, torch.relu_)

# Layers whose output pixels read a neighbourhood (and so shrink a piece or change the grid).
SPATIAL = (Conv, Upsample, TransposedConv)
