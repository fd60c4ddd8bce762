"""Faster runtimes for ``Inferer`` on CPU: the family's whole translate path exported to ONNX
and run by ONNX Runtime.

``Inferer(backend="auto")`` (the default) uses ``OnnxTranslator`` on CPU in fp32 when
onnxruntime imports and the network passes a parity probe against eager torch; otherwise it
runs eager torch. It exports only for work that comes again: the first picture of a kind
(``work_key``) runs eager. ``graph`` exports a family's translate path (ONNX bytes, TorchScript);
``onnx_session`` makes ONNX Runtime sessions with thread settings that suit a shared worker.
"""

from mlcore.runtime.backend import (
    BACKENDS,
    MAX_SESSIONS,
    MIN_AUTO_PIXELS,
    PARITY_MAE,
    PROBE_SHAPE,
    BackendUnavailable,
    OnnxTranslator,
    onnxruntime_available,
    work_key,
)

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
