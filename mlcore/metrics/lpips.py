"""LPIPS-VGG16 (Zhang et al. 2018, v0.1) and the labelled fallback distance of projection.

    distance, label = projection_distance()       # LPIPS when its weights are here, else the fallback
    d = distance(images01, targets01)             # N distances, differentiable in both inputs

LPIPS: VGG16's relu1_2, relu2_2, relu3_3, relu4_3 and relu5_3 activations of both images, each
unit-normalised over channels, their squared difference weighted per channel by the learned 1x1
"lin" layers, averaged over space and summed over the five layers. The lpips project scales its
-1..1 input with ``(x - shift) / scale`` (shift -0.030, -0.088, -0.188; scale 0.458, 0.448, 0.450):
for a 0..1 image that is exactly ImageNet's mean/std normalisation (shift = 2 mean - 1,
scale = 2 std), which ``mlcore.vgg.VGGFeatures`` applies, so the backbone is the project's one VGG
loader with its one setting (``RESTYLE_VGG16_WEIGHTS``, torchvision's ``vgg16-397923af.pth``).

Why our own module and not the ``lpips`` package: it builds its VGG16 through torchvision's
deprecated ``pretrained=True`` download (no local file), prints on construction, needs scipy at
import and has not been released since 2021. The math is the dozen lines below.

The lin weights are the lpips project's ``weights/v0.1/vgg.pth`` (BSD 2-clause, 7 KB; five
tensors ``lin{k}.model.1.weight`` of shape 1 x C x 1 x 1), found as ``weights_files`` says
(``RESTYLE_LPIPS_WEIGHTS``). The lpips wheel on PyPI carries the same file:
``pip download lpips==0.1.4 --no-deps`` and unzip ``lpips/weights/v0.1/vgg.pth``.

``FallbackDistance`` is what projection uses when LPIPS cannot be had. It is not perceptual and
says so in its ``label``; nothing may present its numbers as LPIPS.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from mlcore.metrics.weights_files import (
    MetricUnavailable,
    PublishedWeights,
    find_weights,
)
from mlcore.vgg import MissingVGGWeightsError, VGGFeatures, load_vgg

__all__ = [
    "FALLBACK_LABEL",
    "LPIPS",
    "LPIPS_LAYERS",
    "LPIPS_WEIGHTS",
    "FallbackDistance",
    "load_lpips",
    "projection_distance",
]

log = logging.getLogger(__name__)

LPIPS_LAYERS = ("relu1_2", "relu2_2", "relu3_3", "relu4_3", "relu5_3")
LPIPS_CHANNELS = (64, 128, 256, 512, 512)
FALLBACK_LABEL = "fallback: multi-scale pixel distance (LPIPS-VGG16 weights unavailable)"

LPIPS_WEIGHTS = PublishedWeights(
    what="the LPIPS-VGG16 v0.1 linear weights",
    url="https://github.com/richzhang/PerceptualSimilarity/raw/master/lpips/weights/v0.1/vgg.pth",
    env_var="RESTYLE_LPIPS_WEIGHTS",
    sha256="a78928a0af1e5f0fcb1f3b9e8f8c3a2a5a3de244d830ad5c1feddc79b8432868",  # of the file in lpips 0.1.4
    cache_name="lpips-v0.1-vgg.pth",
    also_from="or from PyPI: pip download lpips==0.1.4 --no-deps, then unzip lpips/weights/v0.1/vgg.pth",
)


class LPIPS(nn.Module):
    """LPIPS-VGG16 distance between two batches of images in [0, 1]: ``lpips(x, y) -> N``."""

    def __init__(self, vgg: VGGFeatures, lin_weights: dict[str, torch.Tensor], *, lin_source: str = "") -> None:
        super().__init__()
        if vgg.arch != "vgg16":
            raise ValueError(f"LPIPS-VGG16 needs a vgg16 backbone; got {vgg.arch}")
        self.vgg = vgg
        self.lins = nn.ParameterList()
        for k, channels in enumerate(LPIPS_CHANNELS):
            key = f"lin{k}.model.1.weight"
            weight = lin_weights.get(key)
            if weight is None or tuple(weight.shape) != (1, channels, 1, 1):
                got = "missing" if weight is None else f"shape {tuple(weight.shape)}"
                raise ValueError(f"LPIPS lin weights: {key} must be 1 x {channels} x 1 x 1 ({got})")
            self.lins.append(nn.Parameter(weight.detach().float().clone(), requires_grad=False))
        self.lin_source = lin_source
        self.eval()

    @property
    def label(self) -> str:
        if self.vgg.is_random:
            return "LPIPS-VGG16 with a random VGG16 (test only, not a perceptual distance)"
        return f"LPIPS-VGG16 v0.1 (lin {self.lin_source}, {self.vgg.label})"

    def train(self, mode: bool = True) -> LPIPS:
        return super().train(False)

    def forward(self, images01: torch.Tensor, others01: torch.Tensor) -> torch.Tensor:
        if images01.shape != others01.shape:
            raise ValueError(f"LPIPS compares images of one shape; got {tuple(images01.shape)} and {tuple(others01.shape)}")
        feats_a = self.vgg(images01, LPIPS_LAYERS)
        feats_b = self.vgg(others01, LPIPS_LAYERS)
        total = images01.new_zeros(images01.shape[0])
        for layer, lin in zip(LPIPS_LAYERS, self.lins):
            diff = (_unit_channels(feats_a[layer]) - _unit_channels(feats_b[layer])) ** 2
            total = total + F.conv2d(diff, lin.to(diff.dtype)).mean(dim=(1, 2, 3))
        return total


def _unit_channels(features: torch.Tensor, eps: float = 1e-10) -> torch.Tensor:
    # lpips' normalize_tensor: eps added to the norm (not under the root), as the published weights expect
    return features / (features.pow(2).sum(dim=1, keepdim=True).sqrt() + eps)


def load_lpips(
    vgg16_weights: str | os.PathLike | None = None, lin_weights: str | os.PathLike | None = None, *,
    download: bool = True, downloader: Callable[[str, str], None] | None = None,
    device: str | torch.device = "cpu",
) -> LPIPS:
    """LPIPS-VGG16 from the VGG16 ImageNet weights (``vgg16_weights`` or ``RESTYLE_VGG16_WEIGHTS``,
    as ``mlcore.vgg.load_vgg`` finds them) and the lin weights (``lin_weights`` or
    ``RESTYLE_LPIPS_WEIGHTS``). ``MetricUnavailable`` naming every missing file otherwise."""
    problems: list[str] = []
    vgg = lin_file = None
    try:
        vgg = load_vgg("vgg16", path=vgg16_weights, download=download, downloader=downloader, device=device)
    except (MissingVGGWeightsError, ValueError) as exc:
        problems.append(str(exc))
    try:
        lin_file = find_weights(LPIPS_WEIGHTS, path=lin_weights, download=download, downloader=downloader)
    except MetricUnavailable as exc:
        problems.append(str(exc))
    if vgg is None or lin_file is None:
        raise MetricUnavailable("LPIPS-VGG16 is unavailable: " + " Also: ".join(problems))
    return LPIPS(vgg, _read_lin_weights(lin_file), lin_source=lin_file.name).to(device)


def _read_lin_weights(file: Path) -> dict[str, torch.Tensor]:
    try:
        state = torch.load(file, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise MetricUnavailable(f"{file}: cannot read LPIPS lin weights ({type(exc).__name__}: {exc}); "
                                f"{LPIPS_WEIGHTS.how_to()}") from exc
    if not isinstance(state, dict):
        raise MetricUnavailable(f"{file}: not a state dict; {LPIPS_WEIGHTS.how_to()}")
    return state


class FallbackDistance(nn.Module):
    """Not LPIPS: mean squared pixel and gradient differences over an image pyramid.

    Each of ``scales`` levels halves the image (area average) from at most ``max_size`` px;
    the coarse levels give projection a signal about layout and colour when fine detail still
    differs, the gradient term one about edges. Zero only for identical images; differentiable.
    """

    label = FALLBACK_LABEL

    def __init__(self, *, scales: int = 4, max_size: int = 256, gradient_weight: float = 1.0) -> None:
        super().__init__()
        self.scales, self.max_size, self.gradient_weight = scales, max_size, gradient_weight

    def forward(self, images01: torch.Tensor, others01: torch.Tensor) -> torch.Tensor:
        if images01.shape != others01.shape:
            raise ValueError(f"the fallback distance compares images of one shape; got "
                             f"{tuple(images01.shape)} and {tuple(others01.shape)}")
        a, b = _shrink_to(images01, self.max_size), _shrink_to(others01, self.max_size)
        total = a.new_zeros(a.shape[0])
        levels = 0
        for _ in range(self.scales):
            total = total + (a - b).pow(2).mean(dim=(1, 2, 3))
            if self.gradient_weight and min(a.shape[-2:]) > 1:
                total = total + self.gradient_weight * _gradient_distance(a, b)
            levels += 1
            if min(a.shape[-2:]) < 2:
                break
            a, b = F.avg_pool2d(a, 2), F.avg_pool2d(b, 2)
        return total / levels


def _shrink_to(images: torch.Tensor, max_size: int) -> torch.Tensor:
    h, w = images.shape[-2:]
    if max(h, w) <= max_size:
        return images
    scale = max_size / max(h, w)
    return F.interpolate(images, size=(max(1, round(h * scale)), max(1, round(w * scale))), mode="area")


def _gradient_distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    dx = (a[..., :, 1:] - a[..., :, :-1]) - (b[..., :, 1:] - b[..., :, :-1])
    dy = (a[..., 1:, :] - a[..., :-1, :]) - (b[..., 1:, :] - b[..., :-1, :])
    return dx.pow(2).mean(dim=(1, 2, 3)) + dy.pow(2).mean(dim=(1, 2, 3))


def projection_distance(
    prefer: str = "lpips", *, vgg16_weights: str | os.PathLike | None = None,
    lin_weights: str | os.PathLike | None = None, download: bool = True,
    downloader: Callable[[str, str], None] | None = None, device: str | torch.device = "cpu",
) -> tuple[Callable[[torch.Tensor, torch.Tensor], torch.Tensor], str]:
    """The distance projection minimises and its label: LPIPS-VGG16 when ``prefer="lpips"`` and
    its weights can be had, else ``FallbackDistance`` (with a warning saying why)."""
    if prefer not in ("lpips", "fallback"):
        raise ValueError(f"prefer must be 'lpips' or 'fallback'; got {prefer!r}")
    if prefer == "lpips":
        try:
            lpips = load_lpips(vgg16_weights, lin_weights, download=download, downloader=downloader, device=device)
            return lpips, lpips.label
        except MetricUnavailable as exc:
            log.warning("projection uses the %s: %s", FALLBACK_LABEL, exc)
    return FallbackDistance().to(device), FALLBACK_LABEL
