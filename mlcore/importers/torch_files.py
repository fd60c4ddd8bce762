"""What every ``.pth``/``.pt`` importer does the same way: load without unpickling code, and
check a state dict against the network it must fill, saying in words what does not fit."""

from __future__ import annotations

import os
import pickle
import re
from pathlib import Path
from typing import Any

import torch

from mlcore.importers.errors import ImporterError

__all__ = ["load_torch_file", "check_state_dict", "is_state_dict"]

_LISTED = 8  # keys named in an error before "and N more"


def load_torch_file(path: str | os.PathLike) -> Any:
    """``torch.load(weights_only=True)`` with the reason in one line when it refuses."""
    path = Path(path)
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise ImporterError(f"{path}: no such file") from None
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError) as exc:
        raise ImporterError(
            f"{path}: not a loadable PyTorch file ({_refusal(exc)}); files holding"
            " pickled objects are never loaded"
        ) from exc


def _refusal(exc: Exception) -> str:
    """The reason in torch's long refusal, which also suggests weights_only=False: the global
    it refused where it names one (torch 2.6+ words it "unsupported GLOBAL posix.system"),
    else its older "WeightsUnpickler error: ..." line, else the message's first line."""
    message = str(exc)
    refused = re.search(r"GLOBAL ([\w.]+)", message)
    if refused:
        return f"it asks for {refused.group(1)}, which could run code"
    reason = re.search(r"WeightsUnpickler error:\s*(.+?)(?:\. |\n|$)", message)
    return reason.group(1) if reason else message.splitlines()[0]


def is_state_dict(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(v, torch.Tensor) for v in value.values())


def check_state_dict(
    state_dict: dict[str, torch.Tensor],
    expected: dict[str, torch.Tensor],
    *,
    source: str | os.PathLike,
    needs: str,
    network: str,
    name: str = "",
) -> dict[str, torch.Tensor]:
    """``state_dict`` with exactly ``expected``'s keys and shapes, cast to its dtypes; else an
    ImporterError in words: "<source>: [<name>] not <needs>; missing keys: ...; unexpected keys:
    ...", or "<source>: <name.key> has shape [..], <network> needs [..]". ``name`` is the state
    dict's name inside the file, when the file holds several."""
    missing = sorted(set(expected) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(expected))
    if missing or unexpected:
        raise ImporterError(f"{source}: {name + ' is ' if name else ''}not {needs}; "
                            f"missing keys: {_listed(missing)}; unexpected keys: {_listed(unexpected)}")
    for key, tensor in expected.items():
        if state_dict[key].shape != tensor.shape:
            raise ImporterError(f"{source}: {name + '.' if name else ''}{key} has shape "
                                f"{list(state_dict[key].shape)}, {network} needs {list(tensor.shape)}")
    return {key: state_dict[key].to(tensor.dtype) for key, tensor in expected.items()}


def _listed(keys: list[str]) -> str:
    if not keys:
        return "none"
    more = f" and {len(keys) - _LISTED} more" if len(keys) > _LISTED else ""
    return ", ".join(keys[:_LISTED]) + more
