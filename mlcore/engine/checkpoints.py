"""Training checkpoints: everything a run needs to continue bit for bit.

A training checkpoint is ``run_dir/checkpoints/step_000100.pt``, a dict written with
``torch.save`` and read back with ``torch.load(weights_only=True)``, so it holds only tensors,
numbers, strings, lists and dicts (no pickled objects, nothing that runs code on load):

    format          "restyle.training"
    format_version  1
    family, config  the family name and its training config as JSON
    step            optimisation steps done
    samples_seen    the data position (step * batch size)
    task            TrainingTask.state_dict(): networks, optimisers, schedulers
    precision       the fp16 GradScaler's state ({} otherwise)
    rng             torch (and CUDA), numpy and Python random states, as tensors
    mlcore_version

Files are written atomically (mlcore.fileio), so a process killed mid-write leaves the
previous checkpoint as it was. The file name shows the step to people; the engine reads a
checkpoint's step from the checkpoint itself (memory-mapped, so listing costs no tensor reads).
"""

from __future__ import annotations

import logging
import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mlcore import __version__
from mlcore.fileio import atomic_write

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "TrainingCheckpointError",
    "checkpoint_path",
    "list_checkpoints",
    "save_training_checkpoint",
    "load_training_checkpoint",
    "latest_training_checkpoint",
    "capture_rng",
    "restore_rng",
]

log = logging.getLogger(__name__)

FORMAT = "restyle.training"
FORMAT_VERSION = 1


class TrainingCheckpointError(ValueError):
    """A file is not a readable training checkpoint."""


def checkpoint_path(folder: str | os.PathLike, step: int) -> Path:
    return Path(folder) / f"step_{step:06d}.pt"


def list_checkpoints(folder: str | os.PathLike) -> list[tuple[int, Path]]:
    """(step, path) of every readable checkpoint in ``folder``, oldest first, each step as the
    checkpoint records it; temporary files and unreadable files are left out."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = []
    for path in folder.glob("*.pt"):
        step = read_step(path)
        if step is not None:
            found.append((step, path))
    return sorted(found)


def read_step(path: str | os.PathLike) -> int | None:
    """The step a training checkpoint records, or None when it is not a readable one. Memory-
    mapped: the tensors are not read, so this is quick even for checkpoints of gigabytes."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except Exception:  # a temporary or truncated file, not a torch file
        return None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        return None
    return int(state["step"])


def save_training_checkpoint(path: str | os.PathLike, state: dict[str, Any]) -> Path:
    """Write ``state`` (plus format and version fields) atomically."""
    record = {"format": FORMAT, "format_version": FORMAT_VERSION, "mlcore_version": __version__, **state}
    return atomic_write(path, lambda handle: torch.save(record, handle))


def load_training_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # truncated zip, not a torch file, a pickled object...
        raise TrainingCheckpointError(f"{path}: not a readable training checkpoint ({exc})") from exc
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise TrainingCheckpointError(f"{path}: not a Restyle training checkpoint")
    if int(state.get("format_version", 0)) > FORMAT_VERSION:
        raise TrainingCheckpointError(
            f"{path}: training checkpoint format_version {state['format_version']} is newer than "
            f"this mlcore ({__version__}) reads"
        )
    return state


def latest_training_checkpoint(folder: str | os.PathLike) -> tuple[Path, dict[str, Any]] | None:
    """The newest checkpoint in ``folder`` that loads (older ones are tried if it does not)."""
    for step, path in reversed(list_checkpoints(folder)):
        try:
            return path, load_training_checkpoint(path)
        except TrainingCheckpointError as exc:
            log.warning("skipping unreadable checkpoint %s: %s", path, exc)
    return None


# --- random number generator states ----------------------------------------------------------


def capture_rng(device: torch.device | None = None) -> dict[str, Any]:
    """torch, numpy and Python RNG states as tensors and numbers (weights_only-loadable)."""
    numpy_state = np.random.get_state(legacy=True)
    python_version, python_state, python_gauss = random.getstate()
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": {
            "algorithm": str(numpy_state[0]),
            "keys": torch.from_numpy(numpy_state[1].astype(np.int64)),
            "pos": int(numpy_state[2]),
            "has_gauss": int(numpy_state[3]),
            "cached_gaussian": float(numpy_state[4]),
        },
        "python": {
            "version": int(python_version),
            "state": torch.tensor(python_state, dtype=torch.int64),
            "gauss_next": python_gauss,
        },
    }
    if device is not None and device.type == "cuda" and torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: dict[str, Any], device: torch.device | None = None) -> None:
    torch.set_rng_state(state["torch"])
    numpy_state = state["numpy"]
    np.random.set_state((
        numpy_state["algorithm"],
        numpy_state["keys"].numpy().astype(np.uint32),
        numpy_state["pos"],
        numpy_state["has_gauss"],
        numpy_state["cached_gaussian"],
    ))
    python_state = state["python"]
    random.setstate((
        python_state["version"],
        tuple(int(v) for v in python_state["state"].tolist()),
        python_state["gauss_next"],
    ))
    if "cuda" in state and device is not None and device.type == "cuda" and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
