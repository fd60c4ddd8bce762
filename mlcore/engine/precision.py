"""Numeric precision of a training run: autocast and, for fp16, gradient scaling.

The trainer runs each ``train_step`` inside ``precision.autocast()`` and calls
``precision.update()`` after it; a task only calls ``precision.backward_step(loss, optimizer)``
(through ``TrainingTask.optimizer_step``), which scales the loss for fp16, runs backward outside
autocast (as torch recommends), optionally clips gradients, and steps the optimiser unless the
fp16 gradients overflowed.

- fp32: no autocast, no scaling.
- bf16: autocast to bfloat16; bf16 has fp32's range, so no scaling.
- fp16: autocast to float16 and a ``torch.amp.GradScaler`` (its state is checkpointed).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

import torch
from torch import nn

__all__ = ["PRECISIONS", "Precision"]

PRECISIONS: dict[str, torch.dtype] = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


class Precision:
    """Autocast and loss scaling for one device; see the module docstring."""

    def __init__(self, name: str = "fp32", device: str | torch.device = "cpu") -> None:
        if name not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}; got {name!r}")
        self.name = name
        self.dtype = PRECISIONS[name]
        self.device_type = torch.device(device).type
        self.scaler = torch.amp.GradScaler(self.device_type, enabled=name == "fp16")

    def autocast(self) -> contextlib.AbstractContextManager:
        if self.name == "fp32":
            return contextlib.nullcontext()
        return torch.autocast(self.device_type, dtype=self.dtype)

    def backward(self, loss: torch.Tensor, *, retain_graph: bool = False) -> None:
        with torch.autocast(self.device_type, enabled=False):
            self.scaler.scale(loss).backward(retain_graph=retain_graph)

    def step(
        self,
        optimizer: torch.optim.Optimizer,
        *,
        clip_grad_norm: float | None = None,
        parameters: Iterable[nn.Parameter] | None = None,
    ) -> None:
        """Step ``optimizer`` (skipped by the scaler when fp16 gradients hold inf/NaN)."""
        if clip_grad_norm is not None:
            self.scaler.unscale_(optimizer)
            params = parameters if parameters is not None else (
                p for group in optimizer.param_groups for p in group["params"])
            nn.utils.clip_grad_norm_(list(params), clip_grad_norm)
        self.scaler.step(optimizer)

    def backward_step(
        self,
        loss: torch.Tensor,
        optimizer: torch.optim.Optimizer,
        *,
        clip_grad_norm: float | None = None,
        retain_graph: bool = False,
    ) -> None:
        """Zero the gradients, backward, step: the usual three lines, precision-aware."""
        optimizer.zero_grad(set_to_none=True)
        self.backward(loss, retain_graph=retain_graph)
        self.step(optimizer, clip_grad_norm=clip_grad_norm)

    def update(self) -> None:
        """Once per training step, after every optimiser has stepped (the trainer calls it)."""
        if self.scaler.is_enabled():
            self.scaler.update()

    def state_dict(self) -> dict:
        return self.scaler.state_dict()

    def load_state_dict(self, state: dict) -> None:
        if state:
            self.scaler.load_state_dict(state)
