"""The FID Inception network: 2048-d pool3 features of the TF Inception v3 of 2015-12-05.

    net = load_inception()            # or load_inception("/data/weights-inception-2015-12-05-6726825d.pth")
    feats = net(images01)             # N x 2048 float32, for N x 3 x H x W images in [0, 1], any H, W

FID and KID are only comparable between papers and tools when they use this one network (the
graph of TTUR's original FID code, ``inception-2015-12-05``), its input quantisation and its
resize. Its definition comes from torch-fidelity (``FeatureExtractorInceptionV3``): the TF
blocks (average pools without the padded zeros, the TF max-pool branch of the last block) and
TF 1.x's bilinear resize to 299 x 299, which torchvision's Inception and ``F.interpolate`` do not
reproduce. The images enter as 8-bit values, as NVlabs' metrics feed them
(``round(x * 255)``, the same as their ``x * 127.5 + 128`` of a -1..1 image).

The weights are the published PyTorch conversion, ``weights-inception-2015-12-05-6726825d.pth``
(torch-fidelity's release; pytorch-fid publishes a copy under the same SHA-256 prefix as
``pt_inception-2015-12-05-6726825d.pth``). ``load_inception`` finds it as
``mlcore.metrics.weights_files`` says (``RESTYLE_INCEPTION_WEIGHTS``); offline without it,
``MetricUnavailable``. The file is read with ``torch.load(weights_only=True)`` (or as
safetensors) before torch-fidelity sees it, so a file that is not plain tensors is refused.
"""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from mlcore.metrics.weights_files import (
    MetricUnavailable,
    PublishedWeights,
    find_weights,
)

__all__ = ["FEATURE_DIM", "INCEPTION_WEIGHTS", "InceptionFeatures", "inception_weights_on_disk", "load_inception"]

log = logging.getLogger(__name__)

FEATURE_DIM = 2048

INCEPTION_WEIGHTS = PublishedWeights(
    what="the FID Inception weights",
    url="https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/weights-inception-2015-12-05-6726825d.pth",
    env_var="RESTYLE_INCEPTION_WEIGHTS",
    sha256="6726825d",  # the prefix both publishers put in the name (torch hub's convention)
    cache_name="weights-inception-2015-12-05-6726825d.pth",
    other_names=("pt_inception-2015-12-05-6726825d.pth",),
    also_from="or pytorch-fid's copy, https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/"
              "pt_inception-2015-12-05-6726825d.pth",
)


class InceptionFeatures(nn.Module):
    """Frozen FID Inception: images in [0, 1] (any size) -> N x 2048 pool3 features (float32)."""

    feature_dim = FEATURE_DIM

    def __init__(self, state_dict: dict[str, torch.Tensor], *, source: str) -> None:
        super().__init__()
        from torch_fidelity.feature_extractor_inceptionv3 import (
            FeatureExtractorInceptionV3,
        )

        # torch-fidelity only loads from a path or a file object (and unpickles it freely): give
        # it a buffer holding the tensors we have already read safely, never the user's file.
        buffer = io.BytesIO()
        torch.save(state_dict, buffer)
        buffer.seek(0)
        self.net = FeatureExtractorInceptionV3("inception-v3-compat", ["2048"], feature_extractor_weights_path=buffer)
        self.weights_source = source
        self.requires_grad_(False)
        self.eval()

    @property
    def label(self) -> str:
        return f"Inception v3 2015-12-05 ({self.weights_source})"

    def train(self, mode: bool = True) -> InceptionFeatures:
        return super().train(False)  # always frozen: its batch norms use the published statistics

    @torch.no_grad()
    def forward(self, images01: torch.Tensor) -> torch.Tensor:
        if images01.dim() != 4 or images01.shape[1] != 3:
            raise ValueError(f"expected N x 3 x H x W images in [0, 1]; got shape {tuple(images01.shape)}")
        device = next(self.net.parameters()).device
        as_uint8 = (images01.detach().to(device, torch.float32) * 255 + 0.5).clamp(0, 255).to(torch.uint8)
        (features,) = self.net(as_uint8)
        return features


def load_inception(
    weights: str | os.PathLike | None = None, *, download: bool = True,
    downloader: Callable[[str, str], None] | None = None, device: str | torch.device = "cpu",
) -> InceptionFeatures:
    """The FID Inception with the published weights from ``weights`` (a local file), else
    ``RESTYLE_INCEPTION_WEIGHTS``, else torch hub's cache, else a download (see the module
    docstring). ``MetricUnavailable`` when none works or the file is not these weights.
    ``downloader(url, destination)`` replaces torch hub's download."""
    file = find_weights(INCEPTION_WEIGHTS, path=weights, download=download, downloader=downloader)
    state = _read_state_dict(file)
    try:
        net = InceptionFeatures(state, source=file.name)
    except RuntimeError as exc:  # load_state_dict's missing / unexpected keys, wrong shapes
        detail = " ".join(line.strip() for line in str(exc).strip().splitlines()[:2])[:300]
        raise MetricUnavailable(
            f"{file}: not the FID Inception weights ({detail}); "
            f"{INCEPTION_WEIGHTS.how_to()}") from exc
    log.info("loaded the FID Inception weights from %s", file)
    return net.to(device)


def inception_weights_on_disk(weights: str | os.PathLike | None = None) -> Path | None:
    """The weights file ``load_inception`` would use without downloading, or None."""
    try:
        return find_weights(INCEPTION_WEIGHTS, path=weights, download=False)
    except MetricUnavailable:
        return None


def _read_state_dict(file: Path) -> dict[str, torch.Tensor]:
    try:
        if file.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(file))
        else:
            state = torch.load(file, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise MetricUnavailable(
            f"{file}: cannot read it as weights ({type(exc).__name__}: {exc}); {INCEPTION_WEIGHTS.how_to()}") from exc
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise MetricUnavailable(f"{file}: not a state dict of tensors; {INCEPTION_WEIGHTS.how_to()}")
    return state
