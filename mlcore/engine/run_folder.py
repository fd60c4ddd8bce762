"""The files of a training run folder, and how each is written.

    run_dir/
      run.json                 what the run is and where it stands (RUN_FILE, below)
      metrics.jsonl            one JSON object per logged step
      samples/step_000100.jpg  the sample grid on the fixed probe images; latest.jpg = newest
      checkpoints/step_000100.pt  training checkpoints (mlcore.engine.checkpoints)
      model.safetensors        the exported model (mlcore.checkpoint), once the run completes

run.json holds everything needed to resume the run from the folder alone: family, training
config, inputs (paths), total_steps, seed, device, precision, data workers and the logging,
sample and checkpoint intervals, plus status ("created", "running", "stopped", "completed",
"failed"), step, error and the paths (relative to the folder) of the newest checkpoint, sample
and model. Every file but metrics.jsonl is replaced atomically; metrics.jsonl is appended to
and trimmed back to the checkpoint's step when a run resumes.
"""

from __future__ import annotations

import io
import json
import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlcore import __version__
from mlcore.fileio import atomic_write, atomic_write_bytes, atomic_write_json

if TYPE_CHECKING:
    import torch

__all__ = [
    "RUN_FILE",
    "METRICS_FILE",
    "MODEL_FILE",
    "RUN_FORMAT",
    "RunFolderError",
    "read_run",
    "write_run",
    "read_metrics",
    "MetricsLog",
    "write_sample_grid",
]

log = logging.getLogger(__name__)

RUN_FILE = "run.json"
METRICS_FILE = "metrics.jsonl"
MODEL_FILE = "model.safetensors"
SAMPLES_DIR = "samples"
CHECKPOINTS_DIR = "checkpoints"
RUN_FORMAT = "restyle.run"
RUN_FORMAT_VERSION = 1


class RunFolderError(ValueError):
    """A folder is not (or already is) a training run folder."""


def read_run(run_dir: str | os.PathLike) -> dict[str, Any]:
    """The run.json of ``run_dir`` as a dict (see the module docstring for its keys)."""
    path = Path(run_dir) / RUN_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunFolderError(f"{run_dir}: not a training run folder (no {RUN_FILE})") from None
    except (OSError, ValueError) as exc:
        raise RunFolderError(f"{path}: unreadable ({exc})") from exc
    if not isinstance(data, dict) or data.get("format") != RUN_FORMAT:
        raise RunFolderError(f"{path}: not a Restyle run description")
    if int(data.get("format_version", 0)) > RUN_FORMAT_VERSION:
        raise RunFolderError(f"{path}: written by a newer mlcore than this one ({__version__})")
    return data


def write_run(run_dir: str | os.PathLike, data: dict[str, Any]) -> None:
    record = {**data, "format": RUN_FORMAT, "format_version": RUN_FORMAT_VERSION,
              "mlcore_version": __version__, "updated_at": time.time()}
    atomic_write_json(Path(run_dir) / RUN_FILE, record)


def read_metrics(run_dir: str | os.PathLike) -> list[dict[str, Any]]:
    """Every complete line of metrics.jsonl (a line cut short by a killed process is skipped)."""
    path = Path(run_dir) / METRICS_FILE
    if not path.is_file():
        return []
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            records.append(record)
    return records


class MetricsLog:
    """Appends one JSON line per logged step to metrics.jsonl."""

    def __init__(self, run_dir: str | os.PathLike) -> None:
        self.path = Path(run_dir) / METRICS_FILE

    def trim_after(self, step: int) -> None:
        """Drop records of steps after ``step``: they belong to work a resumed run redoes."""
        if not self.path.is_file():
            return
        kept = [r for r in read_metrics(self.path.parent) if int(r.get("step", 0)) <= step]
        data = "".join(json.dumps(r, sort_keys=True) + "\n" for r in kept).encode("utf-8")
        atomic_write_bytes(self.path, data)

    def append(self, record: dict[str, Any]) -> None:
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record, sort_keys=True) + "\n")


def write_sample_grid(
    run_dir: str | os.PathLike,
    step: int,
    images: torch.Tensor,
    *,
    per_row: int,
    labels: Sequence[str] = (),
) -> Path:
    """Save ``images`` (N x 3 x H x W in [0, 1]) as a grid JPEG; returns samples/step_N.jpg.

    ``labels`` (e.g. "random VGG (test only...)") are written on a banner above the grid and
    into the JPEG comment, so the picture cannot be mistaken for a real result.
    """
    from PIL import Image, ImageDraw
    from torchvision.utils import make_grid

    from mlcore.images import tensor_to_pil

    grid = make_grid(images.detach().float().cpu().clamp(0, 1), nrow=max(1, per_row), padding=2, pad_value=1.0)
    picture = tensor_to_pil(grid)
    if labels:
        text = " | ".join(labels)
        draw = ImageDraw.Draw(picture)
        left, top, right, bottom = draw.textbbox((0, 0), text)
        banner_height = bottom - top + 8
        canvas = Image.new("RGB", (max(picture.width, right - left + 8), picture.height + banner_height),
                           (160, 0, 0))
        canvas.paste(picture, (0, banner_height))
        ImageDraw.Draw(canvas).text((4, 4 - top), text, fill=(255, 255, 255))
        picture = canvas

    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=90, comment=" | ".join(labels).encode("utf-8") if labels else b"")
    data = buffer.getvalue()
    samples = Path(run_dir) / SAMPLES_DIR
    path = atomic_write(samples / f"step_{step:06d}.jpg", lambda handle: handle.write(data))
    atomic_write(samples / "latest.jpg", lambda handle: handle.write(data))
    return path
