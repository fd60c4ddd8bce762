"""Import pix2pix generators trained with junyanz/pytorch-CycleGAN-and-pix2pix.

Their ``latest_net_G.pth`` (or ``<epoch>_net_G.pth``) is a plain state dict of
``UnetGenerator``; mlcore.pix2pix.networks reproduces that module tree, so the keys carry over
unchanged. What differs between files, and is smoothed here:

- a ``module.`` prefix on every key (a network saved while wrapped in ``DataParallel``);
- batch norm ``num_batches_tracked`` counters, which files from PyTorch < 0.4 lack (added as 0;
  they only matter for momentum=None, which pix2pix does not use);
- instance norm ``running_mean``/``running_var``/``num_batches_tracked`` buffers, which old
  junyanz versions kept (``track_running_stats=True``) and the current one does not; they are
  dropped, as junyanz's own ``__patch_instance_norm_state_dict`` does.

The architecture (``arch``, ``norm``, ``ngf``) is not in the file and must be given as it was
for training (junyanz's pix2pix default: unet_256, batch, 64); the input and output channel
counts are read off the weights. Inference uses each image's own batch norm statistics by
default (``test_norm="image"``): junyanz's ``test.py`` runs the generator in training mode
unless given ``--eval``, as the paper does (``test_norm="running"`` matches ``--eval``).
Dropout, on in their default test, is off here: a conversion must give the same picture twice.

Loading uses ``torch.load(weights_only=True)``, which refuses anything but tensors and plain
containers.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Any

import torch

from mlcore.checkpoint import save_model
from mlcore.importers.errors import ImporterError
from mlcore.importers.torch_files import check_state_dict, is_state_dict, load_torch_file
from mlcore.pix2pix.config import GENERATORS, Pix2PixConfig
from mlcore.pix2pix.networks import build as build_generator

__all__ = ["import_junyanz", "JUNYANZ_REPOSITORY"]

log = logging.getLogger(__name__)

JUNYANZ_REPOSITORY = "https://github.com/junyanz/pytorch-CycleGAN-and-pix2pix"

_IN_WEIGHT = "model.model.0.weight"  # outermost down-convolution: [ngf, in_channels, 4, 4]
_OUT_WEIGHT = "model.model.3.weight"  # outermost up-convolution: [2 ngf, out_channels, 4, 4]
_BLOCK = re.compile(r"^model\.model\.1((?:\.model\.3)*)\.model\.\d+\.")  # keys of the inner blocks
_RUNNING = ("running_mean", "running_var", "num_batches_tracked")


def import_junyanz(
    pth_path: str | os.PathLike,
    out_path: str | os.PathLike,
    *,
    name: str | None = None,
    meta: dict[str, Any] | None = None,
    arch: str | None = None,
    norm: str = "batch",
    ngf: int | None = None,
    test_norm: str = "image",
) -> Path:
    """Convert a junyanz pix2pix ``UnetGenerator`` state dict into a ``pix2pix`` checkpoint.

    ``arch`` (the U-Net depth) and ``ngf`` (its width) are read off the file when not given;
    given, they must match it."""
    pth_path = Path(pth_path)
    if arch is not None and arch not in GENERATORS:
        raise ImporterError(f"arch must be one of {', '.join(GENERATORS)}; got {arch!r}")
    state_dict = _load_state_dict(pth_path)
    if state_dict and all(key.startswith("module.") for key in state_dict):
        state_dict = {key[len("module."):]: value for key, value in state_dict.items()}
    arch = arch or _depth_name(state_dict) or "unet_256"
    if ngf is None:
        weight = state_dict.get(_IN_WEIGHT)
        ngf = int(weight.shape[0]) if weight is not None and weight.dim() == 4 else 64
    _check_depth_and_width(state_dict, pth_path, arch, ngf)

    in_channels = _channels(state_dict, _IN_WEIGHT, 1)
    out_channels = _channels(state_dict, _OUT_WEIGHT, 1)
    for what, channels in (("input", in_channels), ("output", out_channels)):
        if channels not in (1, 3):
            raise ImporterError(f"{pth_path}: the generator has {channels} {what} channels; mlcore "
                                "translates pictures with 1 (grey) or 3 (RGB)")
    try:
        config = Pix2PixConfig(generator=arch, ngf=ngf, norm=norm, in_channels=in_channels,
                               out_channels=out_channels, test_norm=test_norm)
    except ValueError as exc:
        raise ImporterError(f"{pth_path}: {exc}") from None
    expected = build_generator(config).state_dict()
    state_dict = _patch_norm_buffers(state_dict, expected)

    state_dict = check_state_dict(
        state_dict, expected, source=pth_path,
        needs=f"a junyanz {arch} UnetGenerator state dict with {norm} norm",
        network=f"a {arch} U-Net with ngf={ngf}",
    )

    full_meta: dict[str, Any] = {
        "name": name or pth_path.stem,
        "source": f"junyanz/pytorch-CycleGAN-and-pix2pix ({JUNYANZ_REPOSITORY})",
        "imported_from": pth_path.name,
    }
    full_meta.update(meta or {})
    if name:
        full_meta["name"] = name
    path = save_model(out_path, family="pix2pix", config=config, state_dict=state_dict, meta=full_meta)
    log.info("imported junyanz pix2pix generator %s into %s", pth_path, path)
    return path


def _load_state_dict(pth_path: Path) -> dict[str, torch.Tensor]:
    loaded = load_torch_file(pth_path)
    if not is_state_dict(loaded):
        raise ImporterError(f"{pth_path}: expected a state dict (a mapping of names to tensors)")
    return dict(loaded)


def _channels(state_dict: dict[str, torch.Tensor], key: str, dim: int) -> int:
    tensor = state_dict.get(key)
    return int(tensor.shape[dim]) if tensor is not None and tensor.dim() == 4 else 3


def _depth(state_dict: dict[str, torch.Tensor]) -> int | None:
    depths = [2 + len(m.group(1)) // len(".model.3") for key in state_dict if (m := _BLOCK.match(key))]
    return max(depths) if depths and _IN_WEIGHT in state_dict else None


def _depth_name(state_dict: dict[str, torch.Tensor]) -> str | None:
    names = [n for n, downs in GENERATORS.items() if downs == _depth(state_dict)]
    return names[0] if names else None


def _check_depth_and_width(state_dict: dict[str, torch.Tensor], src: Path, arch: str, ngf: int) -> None:
    """Say plainly when the file is another U-Net depth or width than the one asked for."""
    found = _depth(state_dict)
    if found is not None:
        if found != GENERATORS[arch]:
            names = [n for n, downs in GENERATORS.items() if downs == found]
            hint = f" (that is {names[0]}; pass arch={names[0]!r})" if names else ""
            raise ImporterError(f"{src}: the file holds a U-Net with {found} levels{hint}, "
                                f"{arch} has {GENERATORS[arch]}")
    weight = state_dict.get(_IN_WEIGHT)
    if weight is not None and weight.dim() == 4 and weight.shape[0] != ngf:
        raise ImporterError(f"{src}: the file's generator has ngf={weight.shape[0]} filters in its first "
                            f"layer, not {ngf}; pass ngf={weight.shape[0]}")


def _patch_norm_buffers(state_dict: dict[str, torch.Tensor], expected: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Add batch norm counters old files lack; drop instance norm statistics old files carry."""
    patched = dict(state_dict)
    for key, tensor in expected.items():
        if key.endswith(".num_batches_tracked") and key not in patched \
                and key.replace("num_batches_tracked", "running_mean") in patched:
            patched[key] = torch.zeros_like(tensor)
    for key in state_dict:
        module, _, leaf = key.rpartition(".")
        # Running statistics of a layer without parameters (junyanz's instance norm has
        # affine=False) where this network keeps none.
        if leaf in _RUNNING and key not in expected and f"{module}.weight" not in state_dict:
            del patched[key]
    return patched
