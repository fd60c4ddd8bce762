"""``OnnxTranslator``: a family's translate path run by ONNX Runtime, one session per input shape.

Why a session per shape: the exported graph is traced, so Python-computed paddings are baked
into it (see mlcore.runtime.graph); it is exported with a static shape and is right for that
shape only. Sessions are kept in a small LRU (``MAX_SESSIONS``), so a worker that meets the
same few shapes (the site's default output size, tiles) exports each once; a new shape costs an
export and a session (a few seconds on two cores, logged), once.

The translator is trusted only after a parity probe: a random ``PROBE_SHAPE`` picture (odd and
non-square sides) through both ONNX Runtime and eager torch, whose mean absolute difference
must stay within ``PARITY_MAE`` (1/255, one grey level).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from typing import Any

import torch
from torch import nn

from mlcore.registry import Family
from mlcore.runtime.graph import onnx_bytes
from mlcore.runtime.onnx_session import make_session, run_session

__all__ = [
    "BACKENDS",
    "MAX_SESSIONS",
    "MIN_AUTO_PIXELS",
    "PARITY_MAE",
    "PROBE_SHAPE",
    "BackendUnavailable",
    "OnnxTranslator",
    "onnxruntime_available",
]

log = logging.getLogger(__name__)

BACKENDS = ("auto", "torch", "onnxruntime")
PARITY_MAE = 1.0 / 255.0
PROBE_SHAPE = (1, 3, 67, 90)  # odd height, even width, not square: parity-dependent pads meet both
MAX_SESSIONS = 4
# In "auto", smaller pictures run eager: their eager time (tens of ms) is below what a first
# export of their shape costs (seconds), and thumbnails and test pictures come in many sizes.
MIN_AUTO_PIXELS = 128 * 128


class BackendUnavailable(RuntimeError):
    """The asked-for backend cannot run this model here; the message says why."""


def onnxruntime_available() -> str | None:
    """None when onnxruntime imports, else why not (in words)."""
    try:
        import onnxruntime  # noqa: F401
    except ImportError as exc:
        return f"onnxruntime is not installed ({exc})"
    return None


class OnnxTranslator:
    """``translate(x01)`` of one network through ONNX Runtime on the CPU."""

    def __init__(self, family: Family, net: nn.Module, *, max_sessions: int = MAX_SESSIONS,
                 threads: int | None = None) -> None:
        self._family, self._net = family, net
        self._max_sessions, self._threads = max_sessions, threads
        self._sessions: OrderedDict[tuple[int, ...], Any] = OrderedDict()
        # Shapes whose export or session failed, with the error: not tried again.
        self._failed: dict[tuple[int, ...], str] = {}
        self._lock = threading.Lock()
        self.probe_mae: float | None = None
        self.probe_max_abs: float | None = None

    @property
    def shapes(self) -> list[tuple[int, ...]]:
        """The input shapes that have a session now, least recently used first."""
        return list(self._sessions)

    def check_parity(self, shape: tuple[int, ...] = PROBE_SHAPE) -> float:
        """Translate a seeded random picture of ``shape`` both ways; its MAE (0..1 units).
        ``BackendUnavailable`` when the export, the session or the run fails, or the MAE is
        above ``PARITY_MAE``."""
        probe = torch.rand(shape, generator=torch.Generator().manual_seed(0))
        try:
            got = self.translate(probe)
            with torch.inference_mode():
                want = self._family.translate(self._net, probe).float()
            diff = (got - want).abs()
        except Exception as exc:  # whatever the exporter or the runtime raises, in its words
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise BackendUnavailable(f"{self._family.name}: ONNX export or run failed: {first}") from exc
        self.probe_mae, self.probe_max_abs = diff.mean().item(), diff.max().item()
        log.info("%s ONNX Runtime parity on a %s probe: MAE %.2e, max %.2e (0..1 units)",
                 self._family.name, "x".join(map(str, shape)), self.probe_mae, self.probe_max_abs)
        if not self.probe_mae <= PARITY_MAE:  # also refuses NaN
            raise BackendUnavailable(
                f"{self._family.name}: ONNX Runtime differs from eager torch by MAE "
                f"{self.probe_mae * 255:.3f}/255 on the probe (allowed: {PARITY_MAE * 255:.0f}/255)")
        return self.probe_mae

    def translate(self, x01: torch.Tensor) -> torch.Tensor:
        """``N x C x H x W`` float in [0, 1] on the CPU -> the translation, float32 on the CPU."""
        return run_session(self._session(tuple(x01.shape)), x01)

    def _session(self, shape: tuple[int, ...]) -> Any:
        with self._lock:
            session = self._sessions.get(shape)
            if session is not None:
                self._sessions.move_to_end(shape)
                return session
            if shape in self._failed:
                raise RuntimeError(self._failed[shape])
            started = time.perf_counter()
            try:
                model = onnx_bytes(self._family, self._net, torch.zeros(shape))
                exported = time.perf_counter()
                session = make_session(model, threads=self._threads)
            except Exception as exc:
                self._failed[shape] = f"{type(exc).__name__}: {exc}"
                raise
            log.info("%s: ONNX Runtime session for %s built in %.2fs (export %.2fs, session %.2fs)",
                     self._family.name, "x".join(map(str, shape)), time.perf_counter() - started,
                     exported - started, time.perf_counter() - exported)
            self._sessions[shape] = session
            while len(self._sessions) > self._max_sessions:
                self._sessions.popitem(last=False)
            return session
