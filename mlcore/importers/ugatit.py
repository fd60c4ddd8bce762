"""Import znxlwm/UGATIT-pytorch checkpoints (``<dataset>_params_0100000.pt``, ``..._latest.pt``).

Those files are ``torch.save({'genA2B': ..., 'genB2A': ..., 'disGA': ..., ...})``: one state
dict per network. A Restyle model is one generator, so ``direction`` picks ``genA2B`` or
``genB2A``; the keys are the same as our ``ResnetGenerator``'s (mlcore.ugatit.networks copies
their layout). The architecture is read off the shapes:

- ``ngf``: ``DownBlock.1.weight`` is [ngf, in_channels, 7, 7]; output channels from the last
  conv of ``UpBlock2``;
- ``n_res``: the number of ``UpBlock1_<i>`` blocks;
- light or full: ``FC.0.weight`` is [4 ngf, in_features] with in_features = 4 ngf (light) or
  (img_size / 4)^2 * 4 ngf (full), which also gives a full model's ``img_size``.
A light model's ``img_size`` (its training size, informative only: it translates any size)
cannot be read off and is taken from ``img_size`` (default 256). Arguments that are given are
checked against the weights. Loading uses ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import logging
import math
import os
import re
from pathlib import Path
from typing import Any

import torch

from mlcore.checkpoint import save_model
from mlcore.importers.errors import ImporterError
from mlcore.importers.torch_files import check_state_dict, is_state_dict, load_torch_file
from mlcore.ugatit.config import DIRECTIONS, UGATITConfig
from mlcore.ugatit.networks import build as build_generator

__all__ = ["import_ugatit", "infer_ugatit_config"]

log = logging.getLogger(__name__)

_UP_BLOCK = re.compile(r"^UpBlock1_(\d+)\.")
_DEFAULT_LIGHT_SIZE = 256


def import_ugatit(
    pt_path: str | os.PathLike,
    out_path: str | os.PathLike,
    *,
    direction: str = "A2B",
    light: bool | None = None,
    img_size: int | None = None,
    ngf: int | None = None,
    n_res: int | None = None,
    name: str | None = None,
    meta: dict[str, Any] | None = None,
) -> Path:
    """Convert one generator of a znxlwm/UGATIT-pytorch ``.pt`` into a ``ugatit`` checkpoint."""
    pt_path = Path(pt_path)
    if direction not in DIRECTIONS:
        raise ImporterError(f"direction must be one of {', '.join(DIRECTIONS)}; got {direction!r}")
    loaded = load_torch_file(pt_path)
    key = f"gen{direction}"
    if not isinstance(loaded, dict) or key not in loaded:
        found = ", ".join(sorted(map(str, loaded))) if isinstance(loaded, dict) else type(loaded).__name__
        raise ImporterError(
            f"{pt_path}: not a UGATIT-pytorch checkpoint (expected a dict with 'genA2B' and 'genB2A' "
            f"state dicts; found {found or 'an empty dict'})"
        )
    state_dict = loaded[key]
    if not is_state_dict(state_dict):
        raise ImporterError(f"{pt_path}: {key} is not a state dict (a mapping of names to tensors)")

    config = infer_ugatit_config(state_dict, light=light, img_size=img_size, ngf=ngf, n_res=n_res,
                                 where=f"{pt_path}: {key}")
    expected = build_generator(config).state_dict()
    weights = check_state_dict(state_dict, expected, source=pt_path, name=key,
                               needs="a UGATIT-pytorch ResnetGenerator state dict", network="the generator")

    source, target = direction[0], direction[2]
    full_meta: dict[str, Any] = {
        "name": name or f"{pt_path.stem} {source} to {target}",
        "direction": direction,
        "source": "znxlwm/UGATIT-pytorch checkpoint",
    }
    full_meta.update(meta or {})
    if name:
        full_meta["name"] = name
    path = save_model(out_path, family="ugatit", config=config, state_dict=weights, meta=full_meta)
    log.info("imported UGATIT-pytorch %s (%s, %s) into %s", key, "light" if config.light else "full",
             f"{config.img_size}px", path)
    return path


def infer_ugatit_config(
    state_dict: dict[str, torch.Tensor],
    *,
    light: bool | None = None,
    img_size: int | None = None,
    ngf: int | None = None,
    n_res: int | None = None,
    where: str = "generator",
) -> UGATITConfig:
    """The ``UGATITConfig`` a znxlwm generator state dict was built with (see the module doc)."""
    def shape(key: str, dims: int) -> tuple[int, ...]:
        tensor = state_dict.get(key)
        if tensor is None:
            raise ImporterError(f"{where}: no {key} (not a UGATIT-pytorch ResnetGenerator state dict)")
        if tensor.dim() != dims:
            raise ImporterError(f"{where}: {key} has shape {list(tensor.shape)}; expected {dims} dimensions")
        return tuple(tensor.shape)

    found_ngf, in_channels = shape("DownBlock.1.weight", 4)[:2]
    up_convs = sorted((k for k in state_dict if re.match(r"^UpBlock2\.\d+\.weight$", k)),
                      key=lambda k: int(k.split(".")[1]))
    if not up_convs:
        raise ImporterError(f"{where}: no UpBlock2 convolutions (not a UGATIT-pytorch ResnetGenerator state dict)")
    out_channels = shape(up_convs[-1], 4)[0]
    found_n_res = max((int(m.group(1)) for k in state_dict if (m := _UP_BLOCK.match(k))), default=0)
    bottleneck = 4 * found_ngf
    fc_out, fc_in = shape("FC.0.weight", 2)

    for label, given, found in (("ngf", ngf, found_ngf), ("n_res", n_res, found_n_res)):
        if given is not None and given != found:
            raise ImporterError(f"{where}: the weights have {label}={found}, not {given}")
    if fc_out != bottleneck:
        raise ImporterError(f"{where}: FC.0.weight has shape {[fc_out, fc_in]}; with ngf={found_ngf} "
                            f"its first dimension must be {bottleneck}")
    found_light = fc_in == bottleneck
    if found_light:
        size = img_size or _DEFAULT_LIGHT_SIZE
    else:
        side = math.isqrt(fc_in // bottleneck) if fc_in % bottleneck == 0 else 0
        if side * side * bottleneck != fc_in:
            raise ImporterError(
                f"{where}: FC.0.weight takes {fc_in} features, neither {bottleneck} (light) nor "
                f"(img_size/4)^2 * {bottleneck} (full) for any img_size"
            )
        size = 4 * side
        if img_size is not None and img_size != size:
            raise ImporterError(f"{where}: the weights are a full model for {size}x{size} images, not {img_size}")
    if light is not None and light != found_light:
        raise ImporterError(
            f"{where}: the weights are a {'light' if found_light else 'full'} model "
            f"(FC.0.weight takes {fc_in} features), not a {'light' if light else 'full'} one"
        )
    try:
        return UGATITConfig(light=found_light, ngf=found_ngf, n_res=found_n_res, img_size=size,
                            in_channels=in_channels, out_channels=out_channels)
    except ValueError as exc:
        raise ImporterError(f"{where}: unsupported generator: {exc}") from None
