"""Running a U-GAT-IT generator on images in the mlcore convention (see mlcore.images).

The generator works on [-1, 1] images. A light generator is fully convolutional: any size is
translated as it is, after reflection-padding to a multiple of 4 (the two stride-2 convs) and
at least 8 pixels, and the result is cropped back. A full generator's gamma/beta MLP reads the
whole flattened feature map, so it only takes its training size: the picture is resized to
``img_size`` x ``img_size``, translated and resized back to its own size.

The attention map is the generator's CAM ``heatmap`` (the fused feature map summed over the
channels) at a quarter of the input size: it is scaled to 0..1 per image (min to max, as
their ``cam`` helper does), resized to the picture's size and coloured with the jet colour map
(blue = least attention, red = most), the way the paper and znxlwm/UGATIT-pytorch show it.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["translate", "attention", "translate_with_heatmap", "heatmap_to_unit", "jet", "to_channels"]

_MULTIPLE = 4  # two stride-2 convs
_MIN_SIDE = 8  # the bottleneck must be 2 pixels wide for its reflection padding


def translate(net: nn.Module, x01: torch.Tensor) -> torch.Tensor:
    """``N x 3 x H x W`` RGB in [0, 1] in, the translation (same shape, [0, 1]) out."""
    return translate_with_heatmap(net, x01)[0]


def attention(net: nn.Module, x01: torch.Tensor) -> torch.Tensor:
    """The attention heat map of each picture as an RGB picture of its size, in [0, 1]."""
    return jet(translate_with_heatmap(net, x01)[1])


def translate_with_heatmap(net: nn.Module, x01: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(translation ``N x 3 x H x W`` in [0, 1], heat map ``N x 1 x H x W`` in [0, 1]).

    Runs in ``x01``'s dtype and device; ``x01`` is not modified.
    """
    if x01.dim() != 4:
        raise ValueError(f"expected an N x C x H x W batch, got shape {tuple(x01.shape)}")
    height, width = x01.shape[-2:]
    x = to_channels(x01, net.input_nc) * 2 - 1
    if net.light:
        x = _pad(x)
        out, _, heat = net(x)
        heat = F.interpolate(heat.float(), size=x.shape[-2:], mode="bilinear", align_corners=False)
        out, heat = out[..., :height, :width], heat[..., :height, :width]
    else:
        size = (net.img_size, net.img_size)
        resized = (height, width) != size
        out, _, heat = net(_resize(x, size) if resized else x)
        if resized:
            out = _resize(out, (height, width))
        heat = F.interpolate(heat.float(), size=(height, width), mode="bilinear", align_corners=False)
    y01 = ((to_channels(out, 3) + 1) / 2).clamp(0.0, 1.0)
    return y01, heatmap_to_unit(heat)


def _pad(x: torch.Tensor) -> torch.Tensor:
    """Pad right and bottom to a multiple of 4 and at least 8, by reflection where the picture
    is large enough to reflect (else by repeating the edge)."""
    height, width = x.shape[-2:]
    target = [max(_MIN_SIDE, -(-side // _MULTIPLE) * _MULTIPLE) for side in (height, width)]
    pad_h, pad_w = target[0] - height, target[1] - width
    if not pad_h and not pad_w:
        return x
    mode = "reflect" if pad_h < height and pad_w < width else "replicate"
    return F.pad(x, (0, pad_w, 0, pad_h), mode=mode)


def _resize(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Bilinear resize (antialiased when shrinking), computed in float32."""
    shrinking = size[0] < x.shape[-2] or size[1] < x.shape[-1]
    resized = F.interpolate(x.float(), size=size, mode="bilinear", align_corners=False, antialias=shrinking)
    return resized.to(x.dtype)


def heatmap_to_unit(heat: torch.Tensor) -> torch.Tensor:
    """Each image's heat map scaled from its minimum (0) to its maximum (1), float32."""
    heat = heat.float()
    low = heat.amin(dim=(1, 2, 3), keepdim=True)
    span = heat.amax(dim=(1, 2, 3), keepdim=True) - low
    return torch.where(span > 0, (heat - low) / span.clamp_min(1e-12), torch.zeros_like(heat))


def jet(unit: torch.Tensor) -> torch.Tensor:
    """``N x 1 x H x W`` values in [0, 1] -> ``N x 3 x H x W`` RGB in [0, 1] (jet colour map:
    dark blue, blue, cyan, yellow, red, dark red)."""
    v = unit.float().clamp(0.0, 1.0)
    channels = [(1.5 - (4 * v - centre).abs()).clamp(0.0, 1.0) for centre in (3.0, 2.0, 1.0)]
    return torch.cat(channels, dim=1)


def to_channels(x: torch.Tensor, channels: int) -> torch.Tensor:
    """An image batch with ``channels`` channels: RGB -> grey by ITU-R 601 luma, grey -> RGB
    by repetition; unchanged when it already has them."""
    have = x.shape[1]
    if have == channels:
        return x
    if have == 3 and channels == 1:
        weights = torch.tensor([0.299, 0.587, 0.114], dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
        return (x * weights).sum(dim=1, keepdim=True)
    if have == 1 and channels == 3:
        return x.expand(-1, 3, -1, -1)
    raise ValueError(f"cannot turn {have}-channel images into {channels}-channel images")
