"""The Restyle model checkpoint: one self-describing safetensors file for every family.

Layout: a standard ``.safetensors`` file. Its tensors are the network's state dict; its
metadata (safetensors allows str -> str) says what the tensors are:

    format          "restyle.model"
    format_version  "1"
    family          registry name, e.g. "fast_style"
    config          JSON of the family's config (an mlcore.config.Config)
    meta            JSON object of free metadata: name, style, source, license, attribution...
    mlcore_version  the mlcore version that wrote the file

No pickle is involved in reading or writing, so loading a file from a stranger cannot run
code. Files from other projects are converted by ``mlcore.importers``. Writes go to a temporary
file in the destination folder and are moved into place with ``os.replace``, so readers never
see a half-written checkpoint.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file
from safetensors.torch import save as serialise

from mlcore import __version__
from mlcore.fileio import atomic_write_bytes
from mlcore.registry import UnknownFamilyError, get_family

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "CheckpointError",
    "ModelCheckpoint",
    "save_model",
    "load_model",
    "read_header",
]

log = logging.getLogger(__name__)

FORMAT = "restyle.model"
FORMAT_VERSION = 1

# A safetensors header is a few kB per hundred tensors; anything near this is not one.
_MAX_HEADER_BYTES = 100 * 1024 * 1024


class CheckpointError(ValueError):
    """The file is not a (readable) Restyle model checkpoint."""


@dataclass(frozen=True)
class ModelCheckpoint:
    """A loaded checkpoint. ``state_dict`` is empty when only the header was read."""

    family: str
    config: Any  # an instance of the family's config class (mlcore.config.Config)
    state_dict: dict[str, torch.Tensor] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    mlcore_version: str = ""

    def header_dict(self) -> dict[str, Any]:
        """The header as plain JSON-ready data (used by ``python -m mlcore info``)."""
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "family": self.family,
            "config": json.loads(self.config.to_json()),
            "meta": self.meta,
            "mlcore_version": self.mlcore_version,
        }


def save_model(
    path: str | os.PathLike,
    *,
    family: str,
    config: Any,
    state_dict: dict[str, torch.Tensor],
    meta: dict[str, Any] | None = None,
) -> Path:
    """Write a checkpoint atomically; returns the path written."""
    path = Path(path)
    family_record = get_family(family)
    if not isinstance(config, family_record.config_class):
        raise TypeError(
            f"config for family {family!r} must be a {family_record.config_class.__name__}, "
            f"got {type(config).__name__}"
        )
    try:
        meta_json = json.dumps(meta or {}, sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"checkpoint meta must be JSON-serialisable: {exc}") from exc
    metadata = {
        "format": FORMAT,
        "format_version": str(FORMAT_VERSION),
        "family": family,
        "config": config.to_json(),
        "meta": meta_json,
        "mlcore_version": __version__,
    }
    tensors = _standalone_tensors(state_dict)

    atomic_write_bytes(path, serialise(tensors, metadata=metadata))
    log.info("saved %s checkpoint %s (%d tensors)", family, path, len(tensors))
    return path


def _standalone_tensors(state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Detached, contiguous CPU tensors that own their storage (safetensors refuses shared ones)."""
    seen: set[int] = set()
    out: dict[str, torch.Tensor] = {}
    for name, tensor in state_dict.items():
        if not isinstance(tensor, torch.Tensor):
            raise TypeError(f"state dict entry {name!r} is a {type(tensor).__name__}, not a tensor")
        t = tensor.detach().to("cpu").contiguous()
        storage = t.untyped_storage()
        if storage.data_ptr() in seen or storage.nbytes() != t.numel() * t.element_size():
            t = t.clone()
            storage = t.untyped_storage()
        seen.add(storage.data_ptr())
        out[name] = t
    return out


def read_header(path: str | os.PathLike) -> ModelCheckpoint:
    """Read a checkpoint's family, config and meta without loading the weights."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            prefix = handle.read(8)
            if len(prefix) < 8:
                raise CheckpointError(f"{path}: not a Restyle checkpoint (too short for safetensors)")
            header_len = int.from_bytes(prefix, "little")
            if header_len < 2 or header_len > _MAX_HEADER_BYTES:
                raise CheckpointError(f"{path}: not a Restyle checkpoint (not a safetensors file)")
            raw = handle.read(header_len)
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot read checkpoint: {exc.strerror or exc}") from exc
    if not raw.startswith(b"{"):
        raise CheckpointError(f"{path}: not a Restyle checkpoint (not a safetensors file)")
    if len(raw) < header_len:
        raise CheckpointError(f"{path}: checkpoint is truncated (header cut short)")
    try:
        header = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{path}: not a Restyle checkpoint (unreadable header: {exc})") from exc
    if not isinstance(header, dict):
        raise CheckpointError(f"{path}: not a Restyle checkpoint (not a safetensors file)")

    metadata = header.pop("__metadata__", None) or {}
    if metadata.get("format") != FORMAT:
        raise CheckpointError(
            f"{path}: not a Restyle checkpoint (a safetensors file without Restyle metadata; "
            "convert foreign weights with `python -m mlcore import ...`)"
        )
    try:
        version = int(metadata.get("format_version", ""))
    except ValueError:
        raise CheckpointError(
            f"{path}: bad format_version {metadata.get('format_version')!r}"
        ) from None
    if version > FORMAT_VERSION:
        raise CheckpointError(
            f"{path}: checkpoint format_version {version} is newer than this mlcore "
            f"({__version__}) reads (up to {FORMAT_VERSION}); upgrade mlcore"
        )

    try:
        data_end = max((int(t["data_offsets"][1]) for t in header.values()), default=0)
    except (TypeError, KeyError, IndexError, ValueError):
        raise CheckpointError(f"{path}: corrupt safetensors header (bad tensor entries)") from None
    if size < 8 + header_len + data_end:
        raise CheckpointError(
            f"{path}: checkpoint is truncated ({size} bytes, the header describes "
            f"{8 + header_len + data_end})"
        )

    family_name = metadata.get("family", "")
    try:
        family = get_family(family_name)
    except UnknownFamilyError as exc:
        raise CheckpointError(f"{path}: {exc}") from None
    try:
        config = family.config_class.from_json(metadata.get("config", ""))
        meta = json.loads(metadata.get("meta") or "{}")
    except (ValueError, TypeError) as exc:
        raise CheckpointError(f"{path}: bad {family_name} config or meta: {exc}") from exc
    return ModelCheckpoint(
        family=family_name,
        config=config,
        meta=meta,
        mlcore_version=metadata.get("mlcore_version", ""),
    )


def load_model(path: str | os.PathLike, *, device: str | torch.device = "cpu") -> ModelCheckpoint:
    """Load a checkpoint's header and weights; tensors are placed on ``device``."""
    header = read_header(path)
    try:
        state_dict = load_file(str(path), device=str(device))
    except (SafetensorError, OSError) as exc:
        raise CheckpointError(f"{path}: cannot load checkpoint weights: {exc}") from exc
    return dataclasses.replace(header, state_dict=state_dict)
