"""Export a checkpoint's translate path to a file other runtimes load: ONNX or TorchScript.

    from mlcore.export import export_checkpoint, ExportError

    report = export_checkpoint("wave.safetensors", "wave.onnx", format="onnx", size=(512, 512))
    report.path, report.bytes, report.mae, report.max_abs, report.seconds

The file runs the family's whole translate (mlcore.runtime.graph): input ``N x 3 x H x W``
float32 RGB in [0, 1] (input name ``x`` in ONNX), output the same shape in [0, 1] (``y``), at
the exported batch and size only, since sizes the family computes in Python are baked in.
Before anything is written, the exported graph is run (ONNX Runtime, or the TorchScript module
loaded back) on a seeded random picture of that size and compared with eager torch; above
``PARITY_MAE`` (1/255) mean absolute error, ``ExportError`` and no file. The file appears
whole or not at all (written beside ``out``, then renamed). This function is the stable
surface the command line (``python -m mlcore export``) and the site call.
"""

from __future__ import annotations

import io
import logging
import os
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch

from mlcore.checkpoint import load_model
from mlcore.registry import get_family
from mlcore.runtime import PARITY_MAE
from mlcore.runtime.graph import onnx_bytes, torchscript_module

__all__ = ["FORMATS", "ExportError", "ExportReport", "export_checkpoint"]

log = logging.getLogger(__name__)

FORMATS = ("onnx", "torchscript")
DEFAULT_SIZE = (512, 512)  # (height, width) of the exported input


class ExportError(ValueError):
    """The checkpoint cannot be exported, or its export does not match eager torch; the message
    says which, in words."""


@dataclass(frozen=True)
class ExportReport:
    """What ``export_checkpoint`` wrote and how closely it matches eager torch."""

    format: str  # "onnx" or "torchscript"
    path: Path  # the file written
    bytes: int  # its size
    mae: float  # mean absolute difference from eager torch on the probe, 0..1 units
    max_abs: float  # the largest difference there
    seconds: float  # export and check together
    input_shape: tuple[int, int, int, int]  # N x 3 x H x W the file takes


def export_checkpoint(
    checkpoint: str | os.PathLike,
    out: str | os.PathLike,
    *,
    format: str,
    size: tuple[int, int] = DEFAULT_SIZE,
    batch: int = 1,
) -> ExportReport:
    """Export ``checkpoint``'s translate path for ``batch`` x 3 x ``size`` (height, width)
    inputs to ``out``; see the module docstring. ``ExportError`` for anything that stops it
    (``CheckpointError``, a ValueError too, for a file that is not a checkpoint)."""
    if format not in FORMATS:
        raise ExportError(f"unknown export format {format!r} (choose from {', '.join(FORMATS)})")
    height, width = size
    if height < 1 or width < 1 or batch < 1:
        raise ExportError(f"the exported size must be positive; got batch {batch}, {height}x{width}")
    started = time.perf_counter()
    loaded = load_model(checkpoint, device="cpu")
    family = get_family(loaded.family)
    if family.generator or not family.checkpoint:
        raise ExportError(f"{family.label} models do not convert photos with one network pass; nothing to export")
    net = family.build(loaded.config)
    net.load_state_dict(loaded.state_dict, strict=True)
    net.eval().requires_grad_(False)

    shape = (batch, 3, height, width)
    probe = torch.rand(shape, generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        want = family.translate(net, probe).float()
    try:
        data, got = _export(format, family, net, probe)
    except ExportError:
        raise
    except Exception as exc:  # the exporter's or the runtime's own words
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ExportError(f"{format} export of {family.name} failed: {first}") from exc
    diff = (got - want).abs()
    mae, max_abs = diff.mean().item(), diff.max().item()
    log.info("%s export of %s at %s: MAE %.2e, max %.2e", format, family.name, "x".join(map(str, shape)), mae, max_abs)
    if not mae <= PARITY_MAE:  # NaN refuses too
        raise ExportError(
            f"{format} export of {family.name} differs from eager torch by MAE {mae * 255:.3f}/255 "
            f"(max {max_abs * 255:.3f}/255) on a {height}x{width} probe; allowed {PARITY_MAE * 255:.0f}/255. "
            "Nothing was written")
    path = _write_whole(Path(out), data)
    return ExportReport(format=format, path=path, bytes=len(data), mae=mae, max_abs=max_abs,
                        seconds=time.perf_counter() - started, input_shape=shape)


def _export(format: str, family, net, probe: torch.Tensor) -> tuple[bytes, torch.Tensor]:
    """(the file's bytes, what the file computes on ``probe``, read back from those bytes)."""
    if format == "onnx":
        from mlcore.runtime.onnx_session import make_session, run_session

        data = onnx_bytes(family, net, probe)
        return data, run_session(make_session(data), probe)
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch.jit's deprecation notice; it still works
        torch.jit.save(torchscript_module(family, net, probe), buffer)
        data = buffer.getvalue()
        reloaded = torch.jit.load(io.BytesIO(data), map_location="cpu")
    with torch.inference_mode():
        return data, reloaded(probe).float()


def _write_whole(out: Path, data: bytes) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; an export is an ordinary file
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out
