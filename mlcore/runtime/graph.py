"""A family's translate path as one graph: ONNX bytes or a TorchScript module.

The graph is ``family.translate(net, x)`` traced whole, so every pre- and post-processing step
of the family (x * 255, [-1, 1] mapping, padding to a multiple, crops, clamps) is inside it,
whatever the family's translate does today. Input ``N x C x H x W`` float32 in [0, 1], output
the same shape in [0, 1].

The ONNX graph comes from ``torch.export`` (the exporter's ``dynamo=True`` path), in one of
two ways. With symbolic sides (``min_side``) when the family's size arithmetic is plain
integer arithmetic on the sides: one graph for every picture size, which
mlcore.runtime.backend checks at several sizes before trusting it. Otherwise at the example's
static shape: every size the Python code computes (Pix2Pix's pad to a multiple of 256 by
repeated reflections, say) is then an exact Python integer baked into the graph, which is
right for that input shape and says so (a static input shape), so ONNX Runtime refuses any
other rather than computing a wrong picture. Exporting runs on fake tensors, so it costs the
same at any picture size.

Not the TorchScript-based exporter (``dynamo=False``): it records sizes as graph values and
turned U-GAT-IT's ``-(-side // 4) * 4`` into a truncating ONNX ``Div`` (67 rows padded to 64,
not 68), and its constant folding followed by its merging of equal initializers dropped one of
two equal parameters while a node still read it ("Node input 'UpBlock1_1.norm2.rho' is not a
graph input, initializer, or output of a previous node"; all AdaLIN rho are 0.9 in a fresh
network).
"""

from __future__ import annotations

import contextlib
import io
import logging
import warnings

import torch
from torch import nn

from mlcore.registry import Family

__all__ = ["TranslatePath", "onnx_bytes", "torchscript_module", "ONNX_OPSET"]

log = logging.getLogger(__name__)

ONNX_OPSET = 18  # the torch.export-based exporter's own opset; onnxruntime 1.31 runs it
MAX_SIDE = 16384  # the largest side a graph with symbolic sides takes


class TranslatePath(nn.Module):
    """``family.translate(net, x)`` as a module, for tracing."""

    def __init__(self, family: Family, net: nn.Module) -> None:
        super().__init__()
        self.family = family
        self.net = net

    def forward(self, x01: torch.Tensor) -> torch.Tensor:
        return self.family.translate(self.net, x01)


def onnx_bytes(family: Family, net: nn.Module, example: torch.Tensor, *, min_side: int | None = None) -> bytes:
    """The translate path at ``example``'s shape as an ONNX model (input ``x``, output ``y``).

    With ``min_side``, height and width are symbolic (any side from ``min_side`` up) where the
    family's arithmetic on sizes allows it; ``torch.export`` raises when a size decides a
    branch. Whether the graph is then right at every size is for the caller to check.
    """
    path = TranslatePath(family, net).eval()
    dynamic = None
    if min_side is not None:
        height = torch.export.Dim("height", min=min_side, max=MAX_SIDE)
        width = torch.export.Dim("width", min=min_side, max=MAX_SIDE)
        dynamic = ({2: height, 3: width},)
    chatter = io.StringIO()
    # The exporter and its optimiser print their progress, and onnx_ir/onnxscript log every
    # pass at INFO (hundreds of lines a model): kept out of a worker's log.
    with torch.no_grad(), warnings.catch_warnings(), contextlib.redirect_stdout(chatter), _quiet("onnx_ir", "onnxscript"):
        warnings.simplefilter("ignore")
        program = torch.onnx.export(
            path, (example,), None, dynamo=True, opset_version=ONNX_OPSET,
            input_names=["x"], output_names=["y"], verbose=False, optimize=True, dynamic_shapes=dynamic,
        )
    if chatter.getvalue().strip():
        log.debug("ONNX exporter: %s", chatter.getvalue().strip())
    return program.model_proto.SerializeToString()


@contextlib.contextmanager
def _quiet(*names: str):
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(max(logger.getEffectiveLevel(), logging.WARNING))
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


def torchscript_module(family: Family, net: nn.Module, example: torch.Tensor) -> torch.jit.ScriptModule:
    """The translate path traced at ``example``'s shape as TorchScript (right at that shape only)."""
    path = TranslatePath(family, net).eval()
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torch.jit.trace(path, (example,), check_trace=False)
