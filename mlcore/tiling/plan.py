"""Running a network described as a plan, in bounded memory, exactly as it runs whole.

A plan is a list of steps applied to a whole feature map in turn:

- ``Tiled(layers)``: a chain of ``mlcore.tiling.layers`` run tile by tile, each output tile
  from the input rectangle its receptive field needs (``need``), so every output pixel is the
  untiled one. Its result is assembled into a whole map. Instance norms inside the chain take
  the statistics of their whole input map: before the chain runs, one pass per norm runs the
  chain up to it over tiles that partition that map and adds up sum and sum of squares
  (float64); the next pass uses them. Convolutions on a whole map run as ``Tiled([conv])`` in
  row bands, so no padded copy of the map and no full-size workspace is made.
- ``Norm`` and ``Pointwise`` layers on their own: applied to the whole map in place, the norm
  with statistics read from the map in row chunks.
- ``Residual(steps)``: ``x + steps(x)``, the inner steps on whole maps too.

Where the whole maps of a plan lie is the plan's choice (see mlcore.fast_style.inferer): the
memory peak is the largest set of whole maps alive at once plus one tile's working set.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch

from mlcore.tiling.layers import SPATIAL, Norm, Piece, Pointwise

__all__ = ["Tiled", "Residual", "run_plan", "run_chain", "statistics", "DEFAULT_TILE", "BAND_BYTES"]

log = logging.getLogger(__name__)

# Side of the output tiles of a Tiled chain (pixels of its output map). Multiples of 4 keep
# tile edges on the stride-4 grid, though exactness does not depend on it.
DEFAULT_TILE = 512
# About how large one row band of a whole-map convolution's output may be.
BAND_BYTES = 64 * 2**20
# Rows of a whole map read at once for its statistics or an in-place step.
_CHUNK_BYTES = 64 * 2**20


@dataclass
class Tiled:
    """A chain of layers run tile by tile (``tile`` None: row bands of about BAND_BYTES)."""

    layers: Sequence
    tile: int | None = DEFAULT_TILE


@dataclass
class Residual:
    """``x + body(x)``: ``body`` is a list of steps."""

    body: Sequence = field(default_factory=list)


def run_plan(steps: Sequence, x: torch.Tensor, *, tile: int | None = None) -> torch.Tensor:
    """Apply ``steps`` to the whole map ``x`` (N x C x H x W), which is not modified. ``tile``
    overrides the tile side of every square-tiled chain (tests use small ones)."""
    return _run_steps(steps, x, owned=False, tile=tile)


def _run_steps(steps: Sequence, x: torch.Tensor, *, owned: bool, tile: int | None) -> torch.Tensor:
    for step in steps:
        if isinstance(step, Tiled):
            side = step.tile if step.tile is None or tile is None else tile
            x, owned = _run_tiled(step.layers, x, tile=side), True
        elif isinstance(step, Residual):
            inner = _run_steps(step.body, x, owned=False, tile=tile)
            x = x.add_(inner) if owned else x + inner
            del inner
            owned = True
        elif isinstance(step, (Norm, Pointwise)):
            if not owned:
                x, owned = x.clone(), True
            if isinstance(step, Norm):
                step.set_statistics(*statistics(x))
            for rows in _row_chunks(x):
                step.apply_(x[..., rows[0] : rows[1], :])
        else:
            raise TypeError(f"not a plan step: {step!r}")
    return x if owned else x.clone()


def statistics(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and biased variance (float64, N x C) of a whole map, read in row chunks."""
    acc = _Moments()
    for rows in _row_chunks(x):
        acc.add(x[..., rows[0] : rows[1], :])
    return acc.result()


class _Moments:
    """Sum and sum of squares per image and channel, in float64, over the parts it is given."""

    def __init__(self) -> None:
        self.count = 0
        self.sum: torch.Tensor | None = None
        self.squares: torch.Tensor | None = None

    def add(self, x: torch.Tensor) -> None:
        x64 = x.double()
        s, q = x64.sum(dim=(-2, -1)), x64.square().sum(dim=(-2, -1))
        self.sum = s if self.sum is None else self.sum + s
        self.squares = q if self.squares is None else self.squares + q
        self.count += x.shape[-2] * x.shape[-1]

    def result(self) -> tuple[torch.Tensor, torch.Tensor]:
        mean = self.sum / self.count
        return mean, (self.squares / self.count - mean.square()).clamp_min(0.0)


def _row_chunks(x: torch.Tensor) -> list[tuple[int, int]]:
    row_bytes = max(1, x[..., :1, :].numel() * x.element_size())
    step = max(1, _CHUNK_BYTES // row_bytes)
    return [(r, min(r + step, x.shape[-2])) for r in range(0, x.shape[-2], step)]


def _sizes(layers: Sequence, size: tuple[int, int]) -> list[tuple[int, int]]:
    """The whole map's size before each layer and after the last."""
    sizes = [size]
    for layer in layers:
        sizes.append((layer.out_size(sizes[-1][0]), layer.out_size(sizes[-1][1])))
    return sizes


def _run_tiled(layers: Sequence, x: torch.Tensor, *, tile: int | None) -> torch.Tensor:
    """The chain's output as a whole map: statistics of its norms first, then the tiles."""
    layers = list(layers)
    for i, layer in enumerate(layers):
        if isinstance(layer, Norm):
            acc = _Moments()
            run_chain(layers[:i], x, tile=tile, consume=lambda piece: acc.add(piece.tensor))
            layer.set_statistics(*acc.result())
    out_h, out_w = _sizes(layers, tuple(x.shape[-2:]))[-1]
    out = None

    def store(piece: Piece) -> None:
        nonlocal out
        if out is None:
            out = piece.tensor.new_empty((*piece.tensor.shape[:-2], out_h, out_w))
        (r0, r1), (c0, c1) = piece.rows, piece.cols
        out[..., r0:r1, c0:c1] = piece.tensor

    run_chain(layers, x, tile=tile, consume=store)
    for layer in layers:
        if isinstance(layer, Norm):
            layer.reset()
    return out


def run_chain(layers: Sequence, x: torch.Tensor, *, tile: int | None,
              consume: Callable[[Piece], None]) -> None:
    """Run the chain on ``x`` tile by tile; ``consume`` gets each output tile, exact, the tiles
    partitioning the chain's whole output map (``tile`` None: row bands)."""
    sizes = _sizes(layers, tuple(x.shape[-2:]))
    out_h, out_w = sizes[-1]
    if tile is None:
        channels = _out_channels(layers, x.shape[1])
        row_bytes = channels * out_w * x.shape[0] * x.element_size()
        tile_h, tile_w = max(8, BAND_BYTES // max(1, row_bytes)), out_w
    else:
        tile_h = tile_w = tile
    for r0 in range(0, out_h, tile_h):
        for c0 in range(0, out_w, tile_w):
            rows, cols = (r0, min(out_h, r0 + tile_h)), (c0, min(out_w, c0 + tile_w))
            consume(_tile(layers, sizes, x, rows, cols))


def _tile(layers: Sequence, sizes: list[tuple[int, int]], x: torch.Tensor,
          rows: tuple[int, int], cols: tuple[int, int]) -> Piece:
    wanted = [(rows, cols)]
    for layer, (h, w) in zip(reversed(layers), reversed(sizes[:-1])):
        rows, cols = layer.need(*rows, h), layer.need(*cols, w)
        wanted.append((rows, cols))
    wanted.reverse()
    (r0, r1), (c0, c1) = wanted[0]
    piece = Piece(x[..., r0:r1, c0:c1], r0, c0, sizes[0])
    for layer, (rows, cols) in zip(layers, wanted[1:]):
        piece = layer.run(piece)
        if isinstance(layer, SPATIAL):
            # A layer gives what it can exactly; the next needs only its own rectangle.
            piece = piece.crop(rows, cols)
    return piece


def _out_channels(layers: Sequence, channels: int) -> int:
    for layer in layers:
        conv = getattr(layer, "conv", None)
        if conv is not None:
            channels = conv.out_channels
    return channels
