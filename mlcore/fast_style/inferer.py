"""Running a fast style network on images in the mlcore convention (see mlcore.images).

``translate`` runs the network whole. ``tiler`` runs it on a photo of any size in bounded
memory, exactly (mlcore.tiling.plan): the full-resolution layers run in tiles, the half- and
quarter-resolution maps are kept whole, and every instance norm takes the statistics of its
whole map, so the result is the untiled one up to float rounding.

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

The tiled path mirrors the same margin out around the whole photo before it tiles, so tiled
and whole give the same picture. Everything here is traceable (``torch.onnx.export``):
constant pad amounts for a given input size, and no branch on the pixels (mlcore.runtime
exports the Engstrom network per picture shape).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from mlcore.fast_style.networks import EngstromNet, TransformerNet, same_padding
from mlcore.tiling import Tiler
from mlcore.tiling.layers import RELU, Conv, Norm, Pointwise, TransposedConv, Upsample
from mlcore.tiling.plan import DEFAULT_TILE, Residual, Tiled, run_plan

__all__ = ["EDGE_MODES", "EDGE_PAD", "pad_image", "plan", "run_padded", "tiler", "translate"]

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


# Below this side the whole network is cheap, and TransformerNet pads tiny inputs itself.
_MIN_TILED_SIDE = 16


def tiler(net: nn.Module) -> Tiler | None:
    """Tiled translation for both variants (the family's tiling hook)."""
    if not isinstance(net, (TransformerNet, EngstromNet)):
        return None

    def run(x01: torch.Tensor, tile: int | None) -> torch.Tensor:
        height, width = x01.shape[-2:]
        if min(height, width) < _MIN_TILED_SIDE:
            return translate(net, x01)
        edges = getattr(net, "edges", "exact")
        margin = 0 if edges == "exact" else EDGE_PAD
        if margin:  # the margin goes around the whole photo, once, as translate does
            x01 = pad_image(x01, (margin,) * 4, mode=edges)
        y = run_plan(plan(net), x01, tile=tile)
        return y[..., margin:margin + height, margin:margin + width]  # (and the networks' top-left crop)

    return Tiler(run, DEFAULT_TILE, exact=True,
                 how="exact tiles: instance norms take whole-image statistics (two passes per norm)")


def plan(net: nn.Module) -> list:
    """The network as a plan (mlcore.tiling.plan): full-resolution layers in tiles, the maps at
    1/2 and 1/4 resolution whole (64 and 32 bytes per photo pixel in fp32)."""
    engstrom = isinstance(net, EngstromNet)
    if engstrom:
        def conv(module: nn.Module) -> Conv:
            return Conv(module, mode="zeros", pads=same_padding)

        def up_conv(module: nn.Module) -> list:
            return [TransposedConv(module, crop=lambda size, k, s: same_padding(size, k, s)[0])]
    else:
        def conv(module: nn.Module) -> Conv:
            return Conv(module.conv2d, mode="reflect", pads=lambda size, k, s: (k // 2, k // 2))

        def up_conv(module: nn.Module) -> list:
            return [Upsample(module.upsample), conv(module)]

    def norm(module: nn.Module) -> Norm:
        return Norm.of(module)

    def whole(*layers) -> Tiled:  # one layer on a whole map, in row bands
        return Tiled(list(layers), tile=None)

    scale = Pointwise(lambda x: x * 255.0, lambda x: x.mul_(255.0))
    steps: list = [
        Tiled([scale, conv(net.conv1), norm(net.in1), RELU, conv(net.conv2)], scale=0.5),
        norm(net.in2), RELU,
        whole(conv(net.conv3)), norm(net.in3), RELU,
    ]
    for i in range(1, net.num_residual_blocks + 1):
        block = getattr(net, f"res{i}")
        steps.append(Residual([whole(conv(block.conv1)), norm(block.in1), RELU,
                               whole(conv(block.conv2)), norm(block.in2)]))
    steps += [whole(*up_conv(net.deconv1)), norm(net.in4), RELU,
              Tiled([*up_conv(net.deconv2), norm(net.in5), RELU, conv(net.deconv3)])]
    if engstrom:
        steps += [norm(net.in6), Pointwise(lambda x: torch.tanh(x) * 150.0 + 127.5,
                                           lambda x: x.tanh_().mul_(150.0).add_(127.5))]
    steps.append(Pointwise(lambda x: (x / 255.0).clamp(0.0, 1.0), lambda x: x.div_(255.0).clamp_(0.0, 1.0)))
    return steps
