"""Training in several processes (``torchrun --nproc-per-node N``): who this process is, and
the few collectives the trainer needs.

torchrun starts N copies of the same command with ``WORLD_SIZE``, ``RANK`` and ``LOCAL_RANK``
in their environment (and ``MASTER_ADDR``/``MASTER_PORT`` for the rendezvous). ``world()``
reads them once, initialises the default process group (nccl for CUDA, gloo for the CPU) and
says which device this rank trains on: ``cuda:LOCAL_RANK`` for a CUDA run, the CPU otherwise.
Without those variables (or with ``WORLD_SIZE=1``) it is the single process of old and no
process group is made, so a plain ``mlcore train`` or a Celery worker behaves as before.

What each rank does is in mlcore.engine.trainer; this module only knows how to ask the others.
Every collective here must be called by every rank in the same order, or the run hangs.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch import nn

__all__ = ["World", "world", "shutdown", "launched_by_torchrun"]

log = logging.getLogger(__name__)

_ENV = ("WORLD_SIZE", "RANK", "LOCAL_RANK")


def launched_by_torchrun() -> bool:
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


@dataclass(frozen=True)
class World:
    """This process's place among the training processes (rank 0 of 1 when alone)."""

    rank: int = 0
    local_rank: int = 0
    size: int = 1
    backend: str | None = None  # "nccl" or "gloo"; None for a single process

    @property
    def distributed(self) -> bool:
        return self.size > 1

    @property
    def is_main(self) -> bool:
        """Rank 0 writes the run folder; the others only train."""
        return self.rank == 0

    def device(self, requested: torch.device) -> torch.device:
        """The device this rank trains on: each rank its own GPU (by LOCAL_RANK), else the CPU."""
        if self.distributed and requested.type == "cuda":
            return torch.device("cuda", self.local_rank)
        return requested

    # --- collectives (each a no-op for a single process) ---------------------------------

    def barrier(self) -> None:
        if self.distributed:
            dist.barrier()

    def any(self, flag: bool) -> bool:
        """True on every rank when it is true on some rank (a stop asked of one stops all)."""
        if not self.distributed:
            return flag
        value = torch.tensor([1.0 if flag else 0.0], device=self._collective_device())
        dist.all_reduce(value, op=dist.ReduceOp.MAX)
        return bool(value.item())

    def mean(self, metrics: Mapping[str, float]) -> dict[str, float]:
        """Each metric averaged over the ranks (every rank reports the same names)."""
        if not self.distributed or not metrics:
            return dict(metrics)
        names = sorted(metrics)
        values = torch.tensor([float(metrics[n]) for n in names], dtype=torch.float64,
                              device=self._collective_device())
        dist.all_reduce(values, op=dist.ReduceOp.SUM)
        values /= self.size
        return dict(zip(names, values.tolist()))

    def gather_to_main(self, obj: Any) -> list[Any] | None:
        """``obj`` of every rank, by rank, on rank 0 (None on the others)."""
        if not self.distributed:
            return [obj]
        gathered = [None] * self.size if self.is_main else None
        dist.gather_object(obj, gathered, dst=0)
        return gathered

    def check_same(self, value: Any, what: str) -> None:
        """Raise on every rank unless ``value`` (picklable) is the same on all of them."""
        if not self.distributed:
            return
        values = [None] * self.size
        dist.all_gather_object(values, value)
        if any(v != values[0] for v in values):
            raise RuntimeError(f"the training processes disagree about {what}: {values}")

    def _collective_device(self) -> torch.device:
        # nccl reduces CUDA tensors only; gloo CPU tensors.
        return torch.device("cuda", torch.cuda.current_device()) if self.backend == "nccl" else torch.device("cpu")

    # --- the networks ----------------------------------------------------------------------

    def wrap(self, module: nn.Module, device: torch.device, *, find_unused_parameters: bool = False) -> nn.Module:
        """``module`` in DistributedDataParallel (gradients averaged over the ranks in
        backward); ``module`` itself for a single process or a module with nothing to train."""
        if not self.distributed or not any(p.requires_grad for p in module.parameters()):
            return module
        from torch.nn.parallel import DistributedDataParallel

        ids = [device.index] if device.type == "cuda" else None
        return DistributedDataParallel(module, device_ids=ids, output_device=ids[0] if ids else None,
                                       find_unused_parameters=find_unused_parameters)


def rank_seed(seed: int, step: int, rank: int) -> int:
    """The torch/numpy/Python seed of ``rank`` when it has no saved random state to resume
    (every rank > 0 at the start of a run, and new ranks of a run resumed on more processes)."""
    digest = hashlib.sha256(f"restyle-rank:{seed}:{step}:{rank}".encode()).digest()
    return int.from_bytes(digest[:8], "little") % 2**63


_WORLD: World | None = None
_OWN_GROUP = False  # whether world() made the process group (so shutdown() may destroy it)


def world(device: str | torch.device = "cpu") -> World:
    """This process's World, from the torchrun environment; initialises the process group on
    the first call of a multi-process run (``device`` picks nccl or gloo)."""
    global _WORLD, _OWN_GROUP
    if dist.is_available() and dist.is_initialized():
        if _WORLD is None or _WORLD.size != dist.get_world_size():
            _WORLD = World(rank=dist.get_rank(), local_rank=int(os.environ.get("LOCAL_RANK", dist.get_rank())),
                           size=dist.get_world_size(), backend=dist.get_backend())
        return _WORLD
    if not launched_by_torchrun():
        return World()
    missing = [name for name in _ENV if name not in os.environ]
    if missing:
        raise RuntimeError(f"WORLD_SIZE is set but {', '.join(missing)} is not: start with torchrun")
    requested = torch.device(device)
    backend = "nccl" if requested.type == "cuda" else "gloo"
    local_rank = int(os.environ["LOCAL_RANK"])
    if backend == "nccl":
        if local_rank >= torch.cuda.device_count():
            raise RuntimeError(f"LOCAL_RANK {local_rank} has no GPU: this host has {torch.cuda.device_count()}")
        torch.cuda.set_device(local_rank)
        dist.init_process_group(backend, device_id=torch.device("cuda", local_rank))
    else:
        dist.init_process_group(backend)
    _OWN_GROUP = True
    _WORLD = World(rank=dist.get_rank(), local_rank=local_rank, size=dist.get_world_size(), backend=backend)
    log.info("rank %d of %d (%s, local rank %d)", _WORLD.rank, _WORLD.size, backend, local_rank)
    return _WORLD


def shutdown() -> None:
    """Destroy the process group ``world()`` made (call once, when the process is done training)."""
    global _WORLD, _OWN_GROUP
    if _OWN_GROUP and dist.is_initialized():
        # A DDP wrapper still alive in a reference cycle would reach for the destroyed group
        # when collected, and abort the process ("terminate called without an active exception").
        gc.collect()
        dist.destroy_process_group()
    _WORLD, _OWN_GROUP = None, False
