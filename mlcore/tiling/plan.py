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

from mlcore.tiling.heap import release_free_memory
from mlcore.tiling.layers import SPATIAL, Norm, Piece, Pointwise

__all__ = ["Bands", "Tiled", "Residual", "run_plan", "run_chain", "statistics", "DEFAULT_TILE", "BAND_BYTES"]

log = logging.getLogger(__name__)

# Side of the output tiles of a Tiled chain (pixels of its output map). Multiples of 4 keep
# tile edges on the stride-4 grid, though exactness does not depend on it.
DEFAULT_TILE = 512
# About how large one row band of a whole-map convolution's output may be.
BAND_BYTES = 32 * 2**20
# Rows of a whole map read at once for its statistics or an in-place step.
_CHUNK_BYTES = 32 * 2**20


@dataclass
class Tiled:
    """A chain of layers run tile by tile (``tile`` None: row bands of about BAND_BYTES).
    ``tile`` is in photo pixels; ``scale`` is the chain's output resolution relative to the
    photo (1/2 for a chain that ends at half resolution), so its tiles cover ``tile`` photo
    pixels whatever map they are cut from."""

    layers: Sequence
    tile: int | None = DEFAULT_TILE
    scale: float = 1.0


@dataclass
class Residual:
    """``x + body(x)``: ``body`` is a list of steps."""

    body: Sequence = field(default_factory=list)


class Bands:
    """A whole feature map held as row bands (``(first row, tensor)``, top to bottom), so that
    a step that reads it top to bottom can let go of the rows it has finished with: a map and
    the map made from it are then never both whole in memory."""

    def __init__(self, chunks: list[tuple[int, torch.Tensor]], height: int) -> None:
        self.chunks, self.height = chunks, height

    @classmethod
    def of(cls, x: torch.Tensor) -> Bands:
        return cls([(0, x)], x.shape[-2])

    @property
    def width(self) -> int:
        return self.chunks[0][1].shape[-1]

    @property
    def size(self) -> tuple[int, int]:
        return self.height, self.width

    def rows(self, lo: int, hi: int, cols: tuple[int, int]) -> torch.Tensor:
        """Rows ``[lo, hi)`` and columns ``cols`` (a view when one band holds them)."""
        parts = [t[..., max(lo, r) - r : min(hi, r + t.shape[-2]) - r, cols[0] : cols[1]]
                 for r, t in self.chunks if r < hi and r + t.shape[-2] > lo]
        return parts[0] if len(parts) == 1 else torch.cat(parts, dim=-2)

    def release_before(self, row: int) -> None:
        """Let go of the bands that end at or above ``row``."""
        self.chunks = [(r, t) for r, t in self.chunks if r + t.shape[-2] > row]

    def add_(self, other: Bands) -> Bands:
        for r, t in other.chunks:
            for mine_r, mine in self.chunks:
                lo, hi = max(r, mine_r), min(r + t.shape[-2], mine_r + mine.shape[-2])
                if lo < hi:
                    mine[..., lo - mine_r : hi - mine_r, :].add_(t[..., lo - r : hi - r, :])
        return self

    def clone(self) -> Bands:
        return Bands([(r, t.clone()) for r, t in self.chunks], self.height)

    def tensor(self) -> torch.Tensor:
        tensors = [t for _, t in self.chunks]
        self.chunks = []
        return tensors[0] if len(tensors) == 1 else torch.cat(tensors, dim=-2)


def run_plan(steps: Sequence, x: torch.Tensor, *, tile: int | None = None) -> torch.Tensor:
    """Apply ``steps`` to the whole map ``x`` (N x C x H x W), which is not modified. ``tile``
    overrides the tile side of every square-tiled chain (tests use small ones)."""
    bands = _run_steps(steps, Bands.of(x), owned=False, tile=tile)
    return bands.tensor()


def _run_steps(steps: Sequence, x: Bands, *, owned: bool, tile: int | None) -> Bands:
    for step in steps:
        if isinstance(step, Tiled):
            side = step.tile if step.tile is None or tile is None else tile
            side = None if side is None else max(4, int(side * step.scale))
            x, owned = _run_tiled(step.layers, x, tile=side, consume=owned), True
        elif isinstance(step, Residual):
            inner = _run_steps(step.body, x, owned=False, tile=tile)
            x = x.add_(inner) if owned else x.clone().add_(inner)
            del inner
            owned = True
        elif isinstance(step, (Norm, Pointwise)):
            if not owned:
                x, owned = x.clone(), True
            if isinstance(step, Norm):
                step.set_statistics(*statistics(x))
            for _, t in x.chunks:
                for rows in _row_chunks(t):
                    step.apply_(t[..., rows[0] : rows[1], :])
        else:
            raise TypeError(f"not a plan step: {step!r}")
        # The last step's freed bands, back to the system before the next step makes its own.
        release_free_memory()
    return x if owned else x.clone()


def statistics(x: Bands | torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and biased variance (float64, N x C) of a whole map, read in row chunks."""
    acc = _Moments()
    for _, t in (x.chunks if isinstance(x, Bands) else [(0, x)]):
        for rows in _row_chunks(t):
            acc.add(t[..., rows[0] : rows[1], :])
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


def _run_tiled(layers: Sequence, x: Bands, *, tile: int | None, consume: bool) -> Bands:
    """The chain's output as a whole map: statistics of its norms first, then the tiles. With
    ``consume``, the input's bands are let go of as the last pass leaves them behind."""
    layers = list(layers)
    for i, layer in enumerate(layers):
        if isinstance(layer, Norm):
            acc = _Moments()
            run_chain(layers[:i], x, tile=tile, consume=lambda piece: acc.add(piece.tensor))
            layer.set_statistics(*acc.result())
    out_h, out_w = _sizes(layers, x.size)[-1]
    chunks: list[tuple[int, torch.Tensor]] = []

    def store(piece: Piece) -> None:
        (r0, r1), (c0, c1) = piece.rows, piece.cols
        if not chunks or chunks[-1][0] != r0:  # the first tile of a new row of tiles
            chunks.append((r0, piece.tensor.new_empty((*piece.tensor.shape[:-2], r1 - r0, out_w))))
        chunks[-1][1][..., :, c0:c1] = piece.tensor

    run_chain(layers, x, tile=tile, consume=store, release=consume)
    for layer in layers:
        if isinstance(layer, Norm):
            layer.reset()
    return Bands(chunks, out_h)


def run_chain(layers: Sequence, x: Bands, *, tile: int | None,
              consume: Callable[[Piece], None], release: bool = False) -> None:
    """Run the chain on ``x`` tile by tile, rows of tiles top to bottom; ``consume`` gets each
    output tile, exact, the tiles partitioning the chain's whole output map (``tile`` None: row
    bands). ``release``: let go of the input's bands no later row of tiles reads."""
    sizes = _sizes(layers, x.size)
    out_h, out_w = sizes[-1]
    if tile is None:
        channels = _out_channels(layers, x.chunks[0][1].shape[1])
        sample = x.chunks[0][1]
        row_bytes = channels * out_w * sample.shape[0] * sample.element_size()
        tile_h, tile_w = max(8, BAND_BYTES // max(1, row_bytes)), out_w
    else:
        tile_h = tile_w = tile
    for r0 in range(0, out_h, tile_h):
        rows = (r0, min(out_h, r0 + tile_h))
        if release:
            x.release_before(_needed(layers, sizes, rows, 0)[0])
        for c0 in range(0, out_w, tile_w):
            consume(_tile(layers, sizes, x, rows, (c0, min(out_w, c0 + tile_w))))


def _needed(layers: Sequence, sizes: list[tuple[int, int]], span: tuple[int, int], axis: int) -> tuple[int, int]:
    for layer, size in zip(reversed(layers), reversed(sizes[:-1])):
        span = layer.need(*span, size[axis])
    return span


def _tile(layers: Sequence, sizes: list[tuple[int, int]], x: Bands,
          rows: tuple[int, int], cols: tuple[int, int]) -> Piece:
    wanted = [(rows, cols)]
    for layer, (h, w) in zip(reversed(layers), reversed(sizes[:-1])):
        rows, cols = layer.need(*rows, h), layer.need(*cols, w)
        wanted.append((rows, cols))
    wanted.reverse()
    (r0, r1), (c0, c1) = wanted[0]
    piece = Piece(x.rows(r0, r1, (c0, c1)), r0, c0, sizes[0])
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
