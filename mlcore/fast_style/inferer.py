"""Running a fast style network on images in the mlcore convention (see mlcore.images).

Edges of the Engstrom / ml5.js networks. TensorFlow's 'SAME' padding fills the border of every
layer with zeros, and the stride-2 convolutions put their odd pad row after the picture, so
the published networks paint coloured stripes along the edges, widest on the right and at the
bottom (``python -m mlcore.bench edges`` measures them). With ``edges="reflect"`` (the config's
default) the photo is first mirrored out by ``EDGE_PAD`` pixels on every side, the network
runs on that, and the result is cropped back: the stripes fall on the mirrored margin that the
crop throws away, and the picture's own border pixels are painted with real-looking
surroundings. ``EDGE_PAD`` is a multiple of 4, so the picture keeps its place on the grid of
the two stride-2 layers and every pixel is computed as in TensorFlow, apart from what the
margin changes (the instance norms' statistics include it). ``edges="exact"`` runs the network
on the photo as it is: TensorFlow's result, to float rounding.

Everything here is traceable (``torch.onnx.export``): constant pad amounts for a given input
size, and no branch on the pixels; an export at a fixed size runs under ONNX Runtime as here
(tests/mlcore/test_fast_style_edges.py). (An export with dynamic height and width did not end
within 400 s on the development machine, in the exact mode too: the networks' own 'SAME'
arithmetic on symbolic sizes, not the margin.)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["EDGE_MODES", "EDGE_PAD", "pad_image", "run_padded", "translate"]

# Pixels mirrored out on each side in "reflect" mode, chosen by measurement (README, "Edges of
# the ml5.js styles"; ``python -m mlcore.bench edges --modes reflect:32 reflect:48 reflect:64
# replicate:48``): the widest stripes (la_muse, matilde_perez) reach about 40 lines in, so 32
# leaves one inside the picture; 48 removes them and 64 is no better. It costs pixels:
# (1024 + 96)^2 / 1024^2 = 1.20x the work at 1024 x 1024.
EDGE_PAD = 48
# How a margin can be made (F.pad's modes); the config offers "reflect" and "exact" only, the
# others are there for the benchmark's comparison.
EDGE_MODES = ("reflect", "replicate")


def translate(net: nn.Module, x01: torch.Tensor) -> torch.Tensor:
    """Stylise a batch: ``N x 3 x H x W`` RGB in [0, 1] in, the same shape in [0, 1] out.

    The networks work in 0..255; the result is clamped because TransformerNet's output is not
    bounded. An Engstrom network runs as its ``edges`` setting says (module docstring).
    Runs in ``x01``'s dtype and device; ``x01`` itself is not modified.
    """
    x = x01 * 255.0
    edges = getattr(net, "edges", "exact")  # TransformerNet has none: it reflects in every layer
    y = net(x) if edges == "exact" else run_padded(net, x, pad=EDGE_PAD, mode=edges)
    return (y / 255.0).clamp(0.0, 1.0)


def run_padded(
    net: nn.Module, x: torch.Tensor, *, pad: int | tuple[int, int, int, int], mode: str = "reflect"
) -> torch.Tensor:
    """``net`` on ``x`` with a margin made by ``pad_image``, cropped back to ``x``'s size.

    ``pad`` is one number for every side or (left, right, top, bottom); left and top must be
    multiples of 4 to keep the picture on the stride-2 grid.
    """
    left, right, top, bottom = (pad,) * 4 if isinstance(pad, int) else pad
    if left % 4 or top % 4:
        raise ValueError(f"the margin before the picture must be a multiple of 4; got left {left}, top {top}")
    height, width = x.shape[-2:]
    y = net(pad_image(x, (left, right, top, bottom), mode=mode))
    return y[..., top : top + height, left : left + width]


def pad_image(x: torch.Tensor, pad: tuple[int, int, int, int], *, mode: str = "reflect") -> torch.Tensor:
    """``x`` with (left, right, top, bottom) pixels added by ``mode`` ("reflect" or "replicate").

    Reflection cannot reach further than the picture's side minus one: a picture smaller than
    its margin is mirrored as far as it goes and its last row or column repeated for the rest.
    """
    if mode not in EDGE_MODES:
        raise ValueError(f"unknown edge mode {mode!r} (choose from {', '.join(EDGE_MODES)})")
    if mode == "replicate":
        return F.pad(x, pad, mode="replicate")
    height, width = x.shape[-2:]
    left, right, top, bottom = pad
    # Python ints of the input's size: a trace records them as constants for that size.
    mirrored = (min(left, width - 1), min(right, width - 1), min(top, height - 1), min(bottom, height - 1))
    y = F.pad(x, mirrored, mode="reflect") if any(mirrored) else x
    rest = tuple(p - m for p, m in zip(pad, mirrored))
    return F.pad(y, rest, mode="replicate") if any(rest) else y
