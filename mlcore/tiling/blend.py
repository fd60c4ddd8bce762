"""Overlapping tiles with feathered blending, for networks that no tiling makes exact.

A network whose every output pixel reads the whole input (Pix2Pix's U-Net: its bottleneck is
1x1 at 256 px) gives a tile a different result near the tile's edges than the whole photo
would, and with per-image batch norm a different colour balance too. Such a network is run
on tiles that overlap; each tile's weight rises linearly across the overlap from its edges
(only on sides that have a neighbour), and the output is the weighted mean, so no seam is a
hard edge. How close it comes to the untiled result is measured, not promised (see the
family's ``tiler`` and ``python -m mlcore.bench memory``).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from mlcore.tiling.heap import release_free_memory

__all__ = ["blended", "tile_starts"]


def tile_starts(size: int, tile: int, overlap: int) -> list[int]:
    """Where tiles of ``tile`` start along an axis of ``size``, ``overlap`` apart at least; the
    last ends at the border. One tile (at 0) when the axis is no longer than a tile."""
    if size <= tile:
        return [0]
    step = tile - overlap
    starts = list(range(0, size - tile, step))
    return starts + [size - tile]


def _ramp(length: int, overlap: int, before: bool, after: bool, like: torch.Tensor) -> torch.Tensor:
    w = torch.ones(length, dtype=torch.float32, device=like.device)
    n = min(overlap, length)
    rise = (torch.arange(n, dtype=torch.float32, device=like.device) + 0.5) / n
    if before:
        w[:n] = torch.minimum(w[:n], rise)
    if after:
        w[length - n :] = torch.minimum(w[length - n :], rise.flip(0))
    return w


def blended(translate: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, *, tile: int,
            overlap: int) -> torch.Tensor:
    """``translate`` (an N x C x h x w -> N x 3 x h x w function) applied to overlapping tiles of
    ``x`` and blended into an N x 3 x H x W float32 result; ``x`` is not modified."""
    if not 0 < overlap < tile:
        raise ValueError(f"the overlap must be between 0 and the tile side; got {overlap} for {tile}")
    height, width = x.shape[-2:]
    rows, cols = tile_starts(height, tile, overlap), tile_starts(width, tile, overlap)
    out = torch.zeros((x.shape[0], 3, height, width), dtype=torch.float32, device=x.device)
    total = torch.zeros((1, 1, height, width), dtype=torch.float32, device=x.device)
    for i, r in enumerate(rows):
        th = min(tile, height - r)
        wr = _ramp(th, overlap, i > 0, i < len(rows) - 1, out)
        for j, c in enumerate(cols):
            tw = min(tile, width - c)
            wc = _ramp(tw, overlap, j > 0, j < len(cols) - 1, out)
            weight = wr[:, None] * wc[None, :]
            y = translate(x[..., r : r + th, c : c + tw]).float()
            out[..., r : r + th, c : c + tw].addcmul_(y, weight)
            total[..., r : r + th, c : c + tw].add_(weight)
        release_free_memory()  # a row of tiles' working memory, before the next row's (see heap)
    return out.div_(total)
