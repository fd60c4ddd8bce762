"""Import ml5.js style transfer checkpoints (Engstrom's network, deeplearn.js layout).

An ml5.js style folder holds ``manifest.json`` (variable name -> {filename, shape}) and one
raw little-endian float32 file per TensorFlow variable (``Variable``, ``Variable_1``, ...).
Variable ``N`` (``Variable`` is 0) belongs to the layer whose conv weight is variable ``id``:

- conv weight ``Variable_{id}`` [k, k, in, out]; its instance norm shift ``Variable_{id+1}``
  and scale ``Variable_{id+2}``;
- transposed conv weights (ids 39 and 42 in the standard net) are [k, k, out, in].

Both weight layouts become torch's by ``permute(3, 2, 0, 1)``: Conv2d wants [out, in, k, k]
and ConvTranspose2d wants [in, out, k, k].
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import shutil
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import torch

from mlcore.checkpoint import save_model
from mlcore.fast_style.config import FastStyleConfig
from mlcore.fast_style.networks import EngstromNet
from mlcore.importers.errors import ImporterError

__all__ = ["import_ml5", "fetch_ml5_style", "read_ml5_variables", "ML5_COMMIT", "ML5_RAW_BASE"]

log = logging.getLogger(__name__)

ML5_REPOSITORY = "https://github.com/ml5js/ml5-data-and-models"
ML5_RAW_BASE = "https://raw.githubusercontent.com/ml5js/ml5-data-and-models"
# The commit our copies in the shared data folder were taken from.
ML5_COMMIT = "0612a3e7c51cbffdc5db701dff49d16d1ac26fa8"

_ENGSTROM = {
    "attribution": "Logan Engstrom, fast-style-transfer "
    "(https://github.com/lengstrom/fast-style-transfer)",
    "license": "free for research use with attribution; commercial use needs the author's permission",
}
_ML5_TEAM = {
    "attribution": "ml5.js team, ml5-data-and-models",
    "license": "MIT (ml5-data-and-models repository)",
}
# Provenance of the styles published in ml5-data-and-models/models/style-transfer.
KNOWN_STYLES: dict[str, dict[str, str]] = {
    **{s: _ENGSTROM for s in ("la_muse", "rain_princess", "scream", "udnie", "wave", "wreck")},
    **{s: _ML5_TEAM for s in ("mathura", "matilde_perez", "matta")},
}

_VARIABLE_NAME = re.compile(r"^Variable(?:_(\d+))?$")
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")

Opener = Callable[..., BinaryIO]


def import_ml5(
    src_dir: str | os.PathLike,
    out_path: str | os.PathLike,
    *,
    name: str | None = None,
    meta: dict[str, Any] | None = None,
) -> Path:
    """Convert an ml5.js style folder into a ``fast_style`` / ``engstrom`` checkpoint."""
    src_dir = Path(src_dir)
    variables = read_ml5_variables(src_dir)
    config, state_dict = _to_engstrom_state_dict(variables, src_dir)

    style = src_dir.resolve().name
    full_meta: dict[str, Any] = {"name": name or style, "style": style, "source": "ml5.js"}
    if style in KNOWN_STYLES:
        full_meta.update(KNOWN_STYLES[style])
        full_meta["source_url"] = f"{ML5_REPOSITORY}/tree/{ML5_COMMIT}/models/style-transfer/{style}"
    full_meta.update(meta or {})
    if name:
        full_meta["name"] = name
    path = save_model(
        out_path, family="fast_style", config=config, state_dict=state_dict, meta=full_meta
    )
    log.info("imported ml5.js style %s from %s into %s", style, src_dir, path)
    return path


def read_ml5_variables(src_dir: str | os.PathLike) -> dict[int, np.ndarray]:
    """Variable id -> float32 array in TF layout, every file checked against its shape."""
    src_dir = Path(src_dir)
    manifest = _read_manifest(src_dir / "manifest.json")
    variables: dict[int, np.ndarray] = {}
    for var_name, entry in manifest.items():
        match = _VARIABLE_NAME.match(var_name)
        if match is None:
            raise ImporterError(f"{src_dir}: unexpected variable {var_name!r} in manifest.json")
        shape, filename = _manifest_entry(src_dir, var_name, entry)
        file_path = src_dir / filename
        expected = 4 * math.prod(shape)
        try:
            actual = file_path.stat().st_size
        except FileNotFoundError:
            raise ImporterError(f"{src_dir}: variable file {filename!r} is missing") from None
        if actual != expected:
            raise ImporterError(
                f"{src_dir}: variable file {filename!r} holds {actual} bytes; "
                f"its shape {list(shape)} needs {expected} (float32)"
            )
        array = np.fromfile(file_path, dtype="<f4").reshape(shape)
        variables[int(match.group(1) or 0)] = array
    return variables


def _read_manifest(path: Path) -> dict[str, Any]:
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ImporterError(
            f"{path.parent}: no manifest.json (an ml5.js style folder holds manifest.json "
            "and Variable_N files)"
        ) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ImporterError(f"{path}: not valid JSON: {exc}") from exc
    if not isinstance(manifest, dict) or not manifest:
        raise ImporterError(f"{path}: expected an object mapping variable names to files")
    return manifest


def _manifest_entry(src: object, var_name: str, entry: Any) -> tuple[tuple[int, ...], str]:
    try:
        shape = tuple(int(d) for d in entry["shape"])
        filename = str(entry["filename"])
    except (TypeError, KeyError, ValueError):
        raise ImporterError(
            f"{src}: manifest entry for {var_name!r} lacks a shape or filename"
        ) from None
    if not _SAFE_NAME.match(filename) or any(d < 0 for d in shape):
        raise ImporterError(f"{src}: manifest entry for {var_name!r} is invalid: {entry!r}")
    return shape, filename


def _engstrom_layout(num_blocks: int) -> list[tuple[str, str, int]]:
    """(conv parameter prefix, its instance norm prefix, conv variable id) for EngstromNet."""
    layers = [("conv1", "in1", 0), ("conv2", "in2", 3), ("conv3", "in3", 6)]
    for b in range(1, num_blocks + 1):
        base = 9 + 6 * (b - 1)
        layers.append((f"res{b}.conv1", f"res{b}.in1", base))
        layers.append((f"res{b}.conv2", f"res{b}.in2", base + 3))
    tail = 9 + 6 * num_blocks
    layers += [("deconv1", "in4", tail), ("deconv2", "in5", tail + 3), ("deconv3", "in6", tail + 6)]
    return layers


def _to_engstrom_state_dict(
    variables: dict[int, np.ndarray], src: Path
) -> tuple[FastStyleConfig, dict[str, torch.Tensor]]:
    count = len(variables)
    if sorted(variables) != list(range(count)) or (count - 18) % 6 or count < 18:
        raise ImporterError(
            f"{src}: expected variables 0..N-1 with N = 18 + 6 x residual blocks "
            f"(48 for the standard network); found ids {sorted(variables)}"
        )
    for var_id in (0, 3, 6):
        if variables[var_id].ndim != 4:
            raise ImporterError(f"{src}: variable {var_id} should be a conv weight [k, k, in, out]")
    config = FastStyleConfig(
        variant="engstrom",
        channels=tuple(int(variables[i].shape[3]) for i in (0, 3, 6)),
        num_residual_blocks=(count - 18) // 6,
    )
    state_dict: dict[str, torch.Tensor] = {}
    for conv, norm, var_id in _engstrom_layout(config.num_residual_blocks):
        weight = variables[var_id]
        if weight.ndim != 4:
            raise ImporterError(
                f"{src}: variable {var_id} ({conv}) should be 4-d, is {list(weight.shape)}"
            )
        # conv [k,k,in,out] -> [out,in,k,k]; transposed [k,k,out,in] -> [in,out,k,k]: same permute.
        state_dict[f"{conv}.weight"] = torch.from_numpy(weight).permute(3, 2, 0, 1).contiguous()
        state_dict[f"{norm}.bias"] = torch.from_numpy(variables[var_id + 1].copy())  # TF shift
        state_dict[f"{norm}.weight"] = torch.from_numpy(variables[var_id + 2].copy())  # TF scale

    expected = EngstromNet(config.channels, config.num_residual_blocks).state_dict()
    for key, tensor in expected.items():
        if state_dict[key].shape != tensor.shape:
            raise ImporterError(
                f"{src}: {key} has shape {list(state_dict[key].shape)} after conversion, "
                f"the network needs {list(tensor.shape)}"
            )
    return config, state_dict


def fetch_ml5_style(
    style: str,
    dest_dir: str | os.PathLike,
    *,
    base_url: str = ML5_RAW_BASE,
    commit: str = ML5_COMMIT,
    opener: Opener | None = None,
    timeout: float = 60.0,
) -> Path:
    """Download one style folder from ml5-data-and-models into ``dest_dir/<style>``.

    For machines that are online; tests pass ``opener`` (called as ``opener(url,
    timeout=...)`` and returning a readable binary file object) to serve local files. The
    folder appears only once every file has arrived with the size its shape needs.
    """
    if not _SAFE_NAME.match(style):
        raise ImporterError(f"invalid style name {style!r}")
    open_url = opener or urllib.request.urlopen
    dest_dir = Path(dest_dir)
    target = dest_dir / style
    if target.exists():
        raise ImporterError(f"{target} already exists")
    base = f"{base_url.rstrip('/')}/{commit}/models/style-transfer/{style}/"

    manifest_bytes = _download(open_url, base + "manifest.json", timeout)
    try:
        manifest = json.loads(manifest_bytes)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ImporterError(f"{base}manifest.json is not valid JSON: {exc}") from exc
    if not isinstance(manifest, dict) or not manifest:
        raise ImporterError(f"{base}manifest.json does not list any variables")

    dest_dir.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f".{style}.", suffix=".partial", dir=dest_dir))
    try:
        (partial / "manifest.json").write_bytes(manifest_bytes)
        for var_name, entry in manifest.items():
            shape, filename = _manifest_entry(base, var_name, entry)
            data = _download(open_url, base + filename, timeout)
            if len(data) != 4 * math.prod(shape):
                raise ImporterError(
                    f"{base}{filename}: got {len(data)} bytes, its shape {list(shape)} "
                    f"needs {4 * math.prod(shape)}"
                )
            (partial / filename).write_bytes(data)
        os.replace(partial, target)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    log.info("fetched ml5.js style %s (%d variables) into %s", style, len(manifest), target)
    return target


def _download(open_url: Opener, url: str, timeout: float) -> bytes:
    log.debug("downloading %s", url)
    try:
        with open_url(url, timeout=timeout) as response:
            return response.read()
    except (urllib.error.URLError, OSError) as exc:
        raise ImporterError(f"could not download {url}: {getattr(exc, 'reason', exc)}") from exc
