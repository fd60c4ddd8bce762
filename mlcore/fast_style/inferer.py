"""Running a fast style network on images in the mlcore convention (see mlcore.images).

``translate`` runs the network whole. ``tiler`` runs it on a photo of any size in bounded
memory, exactly (mlcore.tiling.plan): the full-resolution layers run in tiles, the half- and
quarter-resolution maps are kept whole, and every instance norm takes the statistics of its
whole map, so the result is the untiled one up to float rounding.
"""

from __future__ import annotations

import torch
from torch import nn

from mlcore.fast_style.networks import EngstromNet, TransformerNet, same_padding
from mlcore.tiling import Tiler
from mlcore.tiling.layers import RELU, Conv, Norm, Pointwise, TransposedConv, Upsample
from mlcore.tiling.plan import DEFAULT_TILE, Residual, Tiled, run_plan

__all__ = ["translate", "tiler", "plan"]


def translate(net: nn.Module, x01: torch.Tensor) -> torch.Tensor:
    """Stylise a batch: ``N x 3 x H x W`` RGB in [0, 1] in, the same shape in [0, 1] out.

    The networks work in 0..255; the result is clamped because TransformerNet's output is not
    bounded. Runs in ``x01``'s dtype and device; ``x01`` itself is not modified.
    """
    y = net(x01 * 255.0)
    return (y / 255.0).clamp(0.0, 1.0)


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
        y = run_plan(plan(net), x01, tile=tile)
        return y[..., :height, :width]  # the networks' top-left crop (mlcore.fast_style.networks)

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
