"""``OnnxTranslator``: a family's translate path run by ONNX Runtime.

One graph with symbolic sides serves every picture of at least ``DYNAMIC_MIN_SIDE`` on each
side, for networks that say their translate path exports that way (``onnx_symbolic_sides``:
TransformerNet), once it gives eager torch's pictures at the ``DYNAMIC_PROBES`` sizes (odd and
even sides, not square: a size baked into the graph by mistake shows there). An export costs
seconds on two cores, so one graph per network (and batch size) is what makes the runtime pay
on a site whose photos come in every size. The other families' graphs came out wrong at some
sizes (the Engstrom network's at the probes; Pix2Pix's at 64 x 97, where its pad to a multiple
of 256 mirrors more than once), so they are not tried.

Otherwise (a family whose size arithmetic decides branches, or a small picture) a session per
input shape: the graph is exported at a static shape, with the Python-computed paddings baked
in (see mlcore.runtime.graph), and is right for that shape only. Those sessions are kept in a
small LRU (``MAX_SESSIONS``); a new shape costs an export and a session (logged), once.

``Inferer``'s "auto" asks for a graph only when work comes again (``work_key``): a one-off
picture (a preview, a test, the first photo of its shape) runs eager, where an export would
cost more than the runtime saves on it.

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
    "work_key",
]

log = logging.getLogger(__name__)

BACKENDS = ("auto", "torch", "onnxruntime")
PARITY_MAE = 1.0 / 255.0
PROBE_SHAPE = (1, 3, 67, 90)  # odd height, even width, not square: parity-dependent pads meet both
MAX_SESSIONS = 4
# Symbolic sides from this size up; the probes check such a graph at sides of both parities
# and residues mod 4 (TensorFlow 'SAME' pads of stride-2 layers depend on them).
DYNAMIC_MIN_SIDE = 64
DYNAMIC_EXAMPLE = (160, 224)
DYNAMIC_PROBES = ((131, 190), (202, 129))
# In "auto", smaller pictures run eager: their eager time (tens of ms) is below what a first
# export of their shape costs (seconds), and thumbnails and test pictures come in many sizes.
MIN_AUTO_PIXELS = 128 * 128


def work_key(net: nn.Module, shape: tuple[int, ...]) -> tuple:
    """What one export serves: every picture of a batch size (sides of ``DYNAMIC_MIN_SIDE`` and
    more) for a network whose graph has symbolic sides, else one input shape."""
    if getattr(net, "onnx_symbolic_sides", False) and min(shape[-2:]) >= DYNAMIC_MIN_SIDE:
        return ("any size", shape[0])
    return tuple(shape)


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
        # Batch size -> the session of the graph with symbolic sides; None once it failed.
        self._dynamic: dict[int, Any] = {}
        self.dynamic_refusal: str | None = (
            None if getattr(net, "onnx_symbolic_sides", False) else f"{type(net).__name__} is exported per picture shape"
        )
        self._lock = threading.Lock()
        self.probe_mae: float | None = None
        self.probe_max_abs: float | None = None

    @property
    def shapes(self) -> list[tuple[int, ...]]:
        """The input shapes that have a session now, least recently used first."""
        return list(self._sessions)

    @property
    def dynamic(self) -> bool:
        """Whether pictures of ``DYNAMIC_MIN_SIDE`` and more run on one graph with symbolic sides."""
        return self.dynamic_refusal is None and any(session is not None for session in self._dynamic.values())

    def check_parity(self, shape: tuple[int, ...] | None = None) -> float:
        """Translate a seeded random picture both ways; its MAE (0..1 units). Without ``shape``:
        the graph with symbolic sides at the ``DYNAMIC_PROBES`` sizes when the family exports
        that way, else a ``PROBE_SHAPE`` picture through a static graph. ``BackendUnavailable``
        when the export, the session or the run fails, or the MAE is above ``PARITY_MAE``."""
        if shape is None:
            if self._dynamic_session(1) is not None:
                return self.probe_mae
            shape = PROBE_SHAPE
        probe = torch.rand(shape, generator=torch.Generator().manual_seed(0))
        try:
            got = self.translate(probe)
            diff = (got - self._eager(probe)).abs()
        except Exception as exc:  # whatever the exporter or the runtime raises, in its words
            raise BackendUnavailable(f"{self._family.name}: ONNX export or run failed: {_first_line(exc)}") from exc
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
        if min(x01.shape[-2:]) >= DYNAMIC_MIN_SIDE:
            session = self._dynamic_session(x01.shape[0])
            if session is not None:
                return run_session(session, x01)
        return run_session(self._session(tuple(x01.shape)), x01)

    def _eager(self, x01: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode():
            return self._family.translate(self._net, x01).float()

    def _dynamic_session(self, batch: int) -> Any:
        """The session of the graph with symbolic sides for ``batch`` pictures, exported and
        checked at the probe sizes on first use; None when the family's graph cannot be one
        (``dynamic_refusal`` says why; not tried again)."""
        with self._lock:
            if self.dynamic_refusal is not None:
                return None
            if batch in self._dynamic:
                return self._dynamic[batch]
            started = time.perf_counter()
            try:
                model = onnx_bytes(self._family, self._net, torch.zeros(batch, 3, *DYNAMIC_EXAMPLE),
                                   min_side=DYNAMIC_MIN_SIDE)
                session = make_session(model, threads=self._threads)
                worst = (0.0, 0.0)
                for height, width in DYNAMIC_PROBES:
                    probe = torch.rand(batch, 3, height, width, generator=torch.Generator().manual_seed(height))
                    diff = (run_session(session, probe) - self._eager(probe)).abs()
                    worst = max(worst, (diff.mean().item(), diff.max().item()))
                if not worst[0] <= PARITY_MAE:
                    raise ValueError(f"at the probe sizes it differs from eager torch by MAE {worst[0] * 255:.3f}/255")
            except Exception as exc:  # the exporter's guards, the runtime, or the probes
                self.dynamic_refusal = _first_line(exc)
                log.info("%s: no ONNX graph with symbolic sides (%s); a session per picture shape instead",
                         self._family.name, self.dynamic_refusal)
                return None
            self.probe_mae, self.probe_max_abs = worst
            self._dynamic[batch] = session
            log.info("%s: ONNX Runtime graph for any %d x 3 x H x W (sides >= %d) built and checked in %.2fs; "
                     "MAE %.2e, max %.2e (0..1 units)", self._family.name, batch, DYNAMIC_MIN_SIDE,
                     time.perf_counter() - started, *worst)
            return session

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


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
