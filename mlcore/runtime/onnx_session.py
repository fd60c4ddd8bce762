"""ONNX Runtime sessions on the CPU, set up for a worker that shares its machine."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import torch

__all__ = ["make_session", "run_session"]

log = logging.getLogger(__name__)


def make_session(model: bytes, *, threads: int | None = None) -> Any:
    """An ``onnxruntime.InferenceSession`` on the CPU execution provider.

    ``threads`` (default: ``torch.get_num_threads()``, which the worker sets from
    RESTYLE_WORKER_TORCH_THREADS) intra-op threads, one inter-op thread, and no spinning:
    a spinning pool keeps its cores busy between jobs and between ops, which steals them from
    the other workers on the host.
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or torch.get_num_threads()
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    options.log_severity_level = 3  # errors only: its warnings are about graph details, not faults
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def _run_options() -> Any:
    import onnxruntime as ort

    options = ort.RunOptions()
    # Give the arena's memory back after each run: a session per shape would otherwise each
    # keep its largest run's activations (hundreds of MiB at 1024 x 1024) for ever.
    options.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")
    return options


def run_session(session: Any, x01: torch.Tensor) -> torch.Tensor:
    """Run ``session`` on a CPU float32 batch; the output as a torch tensor."""
    array = np.ascontiguousarray(x01.detach().to(device="cpu", dtype=torch.float32).numpy())
    (y,) = session.run(["y"], {"x": array}, _run_options())
    return torch.from_numpy(y)
