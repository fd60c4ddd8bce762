"""Import pytorch/examples ``fast_neural_style`` models (``candy.pth``, ``mosaic.pth``, ...).

Those files are plain state dicts of ``TransformerNet``. Files saved by old PyTorch versions
also carry ``inN.running_mean`` / ``inN.running_var`` buffers that InstanceNorm no longer
has; pytorch/examples drops them when loading and so do we. Loading uses
``torch.load(weights_only=True)``, which refuses anything but tensors and plain containers.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Any

import torch

from mlcore.checkpoint import save_model
from mlcore.fast_style.config import FastStyleConfig
from mlcore.fast_style.networks import TransformerNet
from mlcore.importers.errors import ImporterError
from mlcore.importers.torch_files import check_state_dict, is_state_dict, load_torch_file

__all__ = ["import_pytorch_examples"]

log = logging.getLogger(__name__)

_STALE_KEY = re.compile(r"(^|\.)in\d+\.(running_mean|running_var|num_batches_tracked)$")
_RESIDUAL_KEY = re.compile(r"^res(\d+)\.")


def import_pytorch_examples(
    pth_path: str | os.PathLike,
    out_path: str | os.PathLike,
    *,
    name: str | None = None,
    meta: dict[str, Any] | None = None,
) -> Path:
    """Convert a pytorch/examples ``.pth`` into a ``fast_style`` / ``johnson`` checkpoint."""
    pth_path = Path(pth_path)
    loaded = load_torch_file(pth_path)
    if not is_state_dict(loaded):
        raise ImporterError(f"{pth_path}: expected a state dict (a mapping of names to tensors)")

    state_dict = {k: v for k, v in loaded.items() if not _STALE_KEY.search(k)}
    config = _infer_config(state_dict, pth_path)
    expected = TransformerNet(config.channels, config.num_residual_blocks).state_dict()
    state_dict = check_state_dict(state_dict, expected, source=pth_path,
                                  needs="a pytorch/examples TransformerNet state dict", network="TransformerNet")

    full_meta: dict[str, Any] = {
        "name": name or pth_path.stem,
        "source": "pytorch/examples fast_neural_style",
    }
    full_meta.update(meta or {})
    if name:
        full_meta["name"] = name
    path = save_model(
        out_path, family="fast_style", config=config, state_dict=state_dict, meta=full_meta
    )
    log.info("imported pytorch/examples model %s into %s", pth_path, path)
    return path


def _infer_config(state_dict: dict[str, torch.Tensor], src: Path) -> FastStyleConfig:
    """Channel widths and residual block count read off the weights (defaults if absent)."""
    try:
        channels = tuple(int(state_dict[f"conv{i}.conv2d.weight"].shape[0]) for i in (1, 2, 3))
    except KeyError:
        channels = FastStyleConfig().channels  # the key check that follows names what is missing
    blocks = {int(m.group(1)) for k in state_dict if (m := _RESIDUAL_KEY.match(k))}
    return FastStyleConfig(
        variant="johnson", channels=channels, num_residual_blocks=max(blocks, default=5)
    )
