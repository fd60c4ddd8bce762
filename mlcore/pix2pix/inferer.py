"""Running a Pix2Pix generator on images in the mlcore convention (see mlcore.images).

The U-Net halves the picture ``num_downs`` times, so it takes only sides that are multiples of
``2 ** num_downs`` (256 for unet_256, 128 for unet_128). ``translate`` accepts any size: it
mirrors the picture outwards (reflection, repeated when the picture is smaller than the
padding) to the next multiple, centred, runs the network and crops the result back. The
direction (A->B or B->A) is the one the network was trained for.

``tiler`` translates a large photo in overlapping tiles of twice the multiple (512 px for
unet_256), each through ``translate``, blended with feathered weights (mlcore.tiling.blend).
It is not exact: the U-Net's receptive field is its whole input, so a tile's pixels near its
edges see less context than they would untiled, and with per-image batch norm
(``test_norm="image"``) each tile is normalised by its own statistics. The overlap (half a
multiple, 128 px for unet_256) hides the seams; the mean absolute difference from the untiled
result is measured by the tests and by ``python -m mlcore.bench memory``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from mlcore.pix2pix.networks import UnetGenerator, to_channels
from mlcore.tiling import Tiler
from mlcore.tiling.blend import blended

__all__ = ["translate", "pad_to_multiple", "tiler"]


def translate(net: nn.Module, x01: torch.Tensor) -> torch.Tensor:
    """``N x 3 x H x W`` RGB in [0, 1] in, the same shape in [0, 1] out (the family's hook).

    ``net`` is a ``UnetGenerator`` (anything with its ``in_channels`` and ``multiple``).
    Runs in ``x01``'s dtype and device; ``x01`` itself is not modified.
    """
    height, width = x01.shape[-2:]
    x = pad_to_multiple(to_channels(x01, net.in_channels) * 2.0 - 1.0, net.multiple)
    top, left = (x.shape[-2] - height) // 2, (x.shape[-1] - width) // 2
    y = net(x)[..., top:top + height, left:left + width]
    return to_channels((y + 1.0) / 2.0, 3).clamp(0.0, 1.0)


def pad_to_multiple(x: torch.Tensor, multiple: int) -> torch.Tensor:
    """``x`` (N x C x H x W) mirrored outwards, centred, to sides that are multiples of ``multiple``."""
    height, width = x.shape[-2:]
    need_h, need_w = -height % multiple, -width % multiple
    top, left = need_h // 2, need_w // 2
    bottom, right = need_h - top, need_w - left
    # Reflection pads at most side - 1 pixels at a time; a picture smaller than its padding
    # is mirrored again (the mirror of the mirror), a 1-pixel side is repeated.
    while top or bottom or left or right:
        h, w = x.shape[-2:]
        step = (min(left, w - 1), min(right, w - 1), min(top, h - 1), min(bottom, h - 1))
        if not any(step):
            x = F.pad(x, (left, right, top, bottom), mode="replicate")
            break
        x = F.pad(x, step, mode="reflect")
        left, right, top, bottom = (left - step[0], right - step[1], top - step[2], bottom - step[3])
    return x


def tiler(net: nn.Module) -> Tiler | None:
    """Overlapping, blended tiles (the family's tiling hook; see the module docstring)."""
    if not isinstance(net, UnetGenerator):
        return None
    multiple = net.multiple

    def run(x01: torch.Tensor, tile: int | None) -> torch.Tensor:
        side = max(multiple, -(-(tile or 2 * multiple) // multiple) * multiple)  # a multiple
        overlap = min(multiple // 2, side // 2)
        return blended(lambda part: translate(net, part), x01, tile=side, overlap=overlap)

    return Tiler(run, 2 * multiple, exact=False,
                 how=f"overlapping tiles of {2 * multiple} px with feathered blending (approximate)")
