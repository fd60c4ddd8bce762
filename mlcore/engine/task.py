"""``TrainingTask``: what a model family writes to be trained by ``mlcore.engine.Trainer``.

A family subclasses ``TrainingTask`` (as ``trainer.Task``) and, in ``setup()``, builds its
networks, optimisers, schedulers, losses and dataset from ``self.config``, ``self.inputs`` and
``self.seed``, putting the trainable pieces into ``self.networks``, ``self.optimizers`` and
``self.schedulers`` (dicts by name: their state is checkpointed from there). It then implements:

- ``dataset``: a map-style dataset indexed by ``(epoch, index)`` keys (mlcore.data); the
  trainer batches and loads it, resumably;
- ``probe_batch()``: fixed inputs for the sample grid;
- ``train_step(batch) -> dict[str, float]``: one iteration on a batch already on the device,
  run inside autocast; backward and optimiser steps go through ``self.optimizer_step`` so that
  precision (fp16 scaling) is handled in one place; schedulers are stepped here too;
- ``sample(probe) -> tensor``: images in the mlcore convention (N x 3 x H x W in [0, 1]) laid
  out as grid rows of ``len(probe)`` images (e.g. the probe row, then the output row);
- ``export_model() -> ExportedModel``: the inference checkpoint's family, architecture config,
  weights and meta.

In a run of several processes (torchrun, mlcore.engine.distributed) the trainer wraps each
network that has trainable parameters in ``DistributedDataParallel`` and puts the wrappers in
``self.step_networks`` (the same dict as ``self.networks`` in a single process), so
``train_step`` calls its networks from there: their gradients are then averaged over the
processes in backward. Everything else keeps using ``self.networks``, the unwrapped modules:
their state dicts (checkpoints, export), ``sample`` (rank 0 alone), ``set_training``, freezing
and clipping (the wrapper shares the module's parameters). ``train_step`` gets this rank's
part of the global batch (``batch_size / processes`` samples); a family whose networks leave
parameters without a gradient in some step names them in ``unused_parameters``.

Everything else (loop, device moves, precision, logging, samples, checkpoints, resume) is the
trainer's. ``labels`` lists warnings every artefact of the run must carry (a random loss
network, say).

Optional evaluation: a task whose ``evaluate_every`` is N > 0 has ``evaluate(step) -> dict``
called by the trainer on rank 0 after every N-th step and after the last one, with the networks
in eval mode, no gradients and no autocast; its numbers (e.g. ``fid``) join that step's metrics record, which
is then written even when it is not a logging step. The default is 0 (never). ``evaluate`` must
leave the global random state alone, or a resumed run would no longer match a straight one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.utils.data import Dataset

from mlcore.engine.precision import Precision

__all__ = ["TrainingTask", "ExportedModel"]


@dataclass(frozen=True)
class ExportedModel:
    """What ``mlcore.checkpoint.save_model`` needs for the run's final ``model.safetensors``."""

    family: str
    config: Any  # the family's architecture config (its registry config_class)
    state_dict: dict[str, torch.Tensor]
    meta: dict[str, Any] = field(default_factory=dict)


class TrainingTask:
    """Base of every family's training task; see the module docstring."""

    # Networks that leave some trainable parameter without a gradient in a step that uses them
    # (DistributedDataParallel must then search the graph for them, at a cost, every step).
    unused_parameters: frozenset[str] = frozenset()

    def __init__(self, config: Any, inputs: dict[str, str], *, device: str | torch.device,
                 precision: Precision, seed: int = 0) -> None:
        self.config = config
        self.inputs = dict(inputs)  # the run's inputs by name (paths), as its TrainInputs say
        self.seed = seed
        self.device = torch.device(device)
        self.precision = precision
        self.networks: dict[str, nn.Module] = {}
        self.step_networks: dict[str, nn.Module] = {}  # what train_step calls; see the module doc
        self.optimizers: dict[str, torch.optim.Optimizer] = {}
        self.schedulers: dict[str, Any] = {}  # torch.optim.lr_scheduler objects
        self.setup()
        self.step_networks = dict(self.networks)

    # --- what a family implements ----------------------------------------------------------

    def setup(self) -> None:
        """Build the networks, optimisers, schedulers and dataset (called by __init__)."""
        raise NotImplementedError

    @property
    def dataset(self) -> Dataset:
        raise NotImplementedError

    @property
    def batch_size(self) -> int:
        return int(self.config.batch_size)

    @property
    def labels(self) -> tuple[str, ...]:
        return ()

    @property
    def evaluate_every(self) -> int:
        """Call ``evaluate`` every this many steps (and at the end); 0: never."""
        return 0

    def evaluate(self, step: int) -> dict[str, float]:
        """Evaluation numbers for ``step`` (see the module docstring); none by default."""
        return {}

    def probe_batch(self) -> Any:
        raise NotImplementedError

    def train_step(self, batch: Any) -> dict[str, float]:
        raise NotImplementedError

    def sample(self, probe: Any) -> torch.Tensor:
        raise NotImplementedError

    def export_model(self) -> ExportedModel:
        raise NotImplementedError

    # --- provided --------------------------------------------------------------------------

    def optimizer_step(self, loss: torch.Tensor, optimizer: torch.optim.Optimizer, **options: Any) -> None:
        """zero_grad, backward and step of ``optimizer``, with the run's precision (options:
        ``clip_grad_norm``, ``retain_graph``; see Precision.backward_step)."""
        self.precision.backward_step(loss, optimizer, **options)

    def distribute(self, wrap: Callable[[nn.Module, bool], nn.Module]) -> None:
        """Fill ``step_networks`` with ``wrap(network, find_unused_parameters)`` of each network
        (the trainer calls it once, after restoring a checkpoint, when several processes train)."""
        self.step_networks = {name: wrap(net, name in self.unused_parameters) for name, net in self.networks.items()}

    def set_training(self, training: bool) -> None:
        for net in self.networks.values():
            net.train(training)

    def learning_rates(self) -> dict[str, float]:
        return {name: float(opt.param_groups[0]["lr"]) for name, opt in self.optimizers.items()}

    def state_dict(self) -> dict[str, Any]:
        """Everything trainable: networks, optimisers, schedulers (tensors and primitives only)."""
        return {
            "networks": {name: net.state_dict() for name, net in self.networks.items()},
            "optimizers": {name: opt.state_dict() for name, opt in self.optimizers.items()},
            "schedulers": {name: sched.state_dict() for name, sched in self.schedulers.items()},
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for kind, owners in (("networks", self.networks), ("optimizers", self.optimizers),
                             ("schedulers", self.schedulers)):
            saved = state.get(kind, {})
            if set(saved) != set(owners):
                raise ValueError(
                    f"checkpoint {kind} {sorted(saved)} do not match this task's {sorted(owners)}"
                )
            for name, owner in owners.items():
                owner.load_state_dict(saved[name])
