"""``Trainer``: the one training loop every model family uses.

    from mlcore import engine

    result = engine.start(run_dir, family="fast_style", config=FastStyleTrainConfig.preset("tiny"),
                          inputs={"style": "wave.jpg", "content": "photos/"},
                          device="cuda", precision="bf16",
                          on_progress=show, should_stop=cancelled)
    result = engine.resume(run_dir, on_progress=show, should_stop=cancelled)  # another process

The trainer owns the loop: device and precision, data loading (mlcore.data, resumable),
``should_stop()`` polled before every step, metrics to metrics.jsonl every ``log_every`` steps,
a sample grid every ``sample_every`` steps, the task's own evaluation (``evaluate``, e.g. FID)
every ``task.evaluate_every`` steps on rank 0, an atomic training checkpoint every
``checkpoint_every`` steps (and when stopped), and at the end the exported
``model.safetensors``. ``on_progress(Progress)`` is called on every step that logs, samples or
checkpoints, and once more when the run stops or completes; both callbacks run in the training
thread, so keep them cheap (a caller that asks a database whether to stop should cache the
answer for a second or so). The run folder layout is in mlcore.engine.run_folder; one process
at a time may train in a folder (the caller makes sure of that, e.g. by claiming the job).

Resume restores weights, optimisers, schedulers, the fp16 scaler, the step, the torch/numpy/
Python RNG states and the data position, so on the same device (CPU at least) a run stopped at
step k and resumed ends bit-identical to one that never stopped. Timings (time, images per
second) are the only fields of metrics.jsonl that differ.

Several processes (``torchrun --nproc-per-node N -m mlcore train ...``; mlcore.engine.distributed):
every rank builds the same task from the same seed, restores the same checkpoint, and trains
its networks wrapped in DistributedDataParallel on its slice of each global batch (the config's
``batch_size``, which must divide by N: rank r gets samples r*B/N .. (r+1)*B/N - 1 of the one-
process stream). The metrics are averaged over the ranks before they are logged, a stop asked
of any rank stops all of them after the same step, and rank 0 alone writes the run folder
(run.json, metrics.jsonl, samples, checkpoints, the model); the others wait for it where they
must (after creating the folder, at the end). run.json's ``world_size`` is the number of
processes of the latest attempt. Checkpoints hold the unwrapped networks, rank 0's RNG state as
``rng`` and every rank's as ``rng_by_rank``, so a checkpoint loads in one process too. Resumed
on N processes again, a run ends bit-identical to one that never stopped. Resumed on another
number of processes, the weights, optimisers, schedulers, step and data position carry over
exactly (the global sample stream does not depend on N); the random state carries over for the
ranks the checkpoint has, and a new rank starts from a seed made from (seed, step, rank). The
random state matters only to a family that draws random numbers in its step (pix2pix's dropout);
rank r > 0 of a new run starts from such a seed too, so that ranks draw different noise.
"""

from __future__ import annotations

import dataclasses
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mlcore.checkpoint import save_model
from mlcore.data import make_loader
from mlcore.engine import distributed
from mlcore.engine.checkpoints import (
    capture_rng,
    checkpoint_path,
    latest_training_checkpoint,
    list_checkpoints,
    restore_rng,
    save_training_checkpoint,
)
from mlcore.engine.precision import PRECISIONS, Precision
from mlcore.engine.run_folder import (
    CHECKPOINTS_DIR,
    MODEL_FILE,
    RUN_FILE,
    SAMPLES_DIR,
    MetricsLog,
    RunFolderError,
    read_run,
    write_run,
    write_sample_grid,
)
from mlcore.engine.task import TrainingTask
from mlcore.fileio import remove_stale_temp_files
from mlcore.registry import Family, get_family

__all__ = ["Trainer", "RunSpec", "Progress", "RunResult", "start", "resume", "run_step"]

log = logging.getLogger(__name__)

# Keys of a metrics.jsonl record that the trainer writes; a task's metrics may not use them.
_RESERVED = frozenset({"step", "time", "elapsed", "images_per_second", "epoch", "lr"})


@dataclass(frozen=True)
class RunSpec:
    """What a run is: stored in run.json, so a new process can resume from the folder alone."""

    family: str
    config: Any  # the family's training config (Family.training.config_class)
    inputs: Mapping[str, str]  # paths the task reads, e.g. {"style": ..., "content": ...}
    total_steps: int
    seed: int = 0
    device: str = "cpu"
    precision: str = "fp32"
    num_workers: int = 2  # data loading processes (0: load in the training process)
    log_every: int = 10  # metrics.jsonl and on_progress every N steps
    sample_every: int = 500  # sample grid every N steps (0: only at the end)
    checkpoint_every: int = 1000  # training checkpoint every N steps (0: only at stop/end)
    keep_checkpoints: int = 2  # newest training checkpoints kept

    def __post_init__(self) -> None:
        for name in ("total_steps", "log_every", "keep_checkpoints"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1; got {getattr(self, name)}")
        for name in ("num_workers", "sample_every", "checkpoint_every"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative; got {getattr(self, name)}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}; got {self.precision!r}")
        object.__setattr__(self, "inputs", {k: str(v) for k, v in self.inputs.items()})
        object.__setattr__(self, "device", str(torch.device(self.device)))

    def to_dict(self) -> dict[str, Any]:
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        data["config"] = self.config.to_dict()
        data["inputs"] = dict(self.inputs)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunSpec:
        family = get_family(data["family"])
        if family.training is None:
            raise RunFolderError(f"family {family.name!r} cannot be trained by this mlcore")
        values = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
        values["config"] = family.training.config_class.from_dict(data["config"])
        return cls(**values)


@dataclass(frozen=True)
class Progress:
    """Where a run stands; passed to ``on_progress``."""

    run_dir: str
    status: str  # "running", then "stopped" or "completed" in the last call
    step: int
    total_steps: int
    images_per_second: float  # over the last logging interval
    eta_seconds: float | None  # at this process's average speed; None before the first step
    elapsed_seconds: float  # spent by this process on the run
    metrics: dict[str, float]  # the latest train_step's values
    learning_rates: dict[str, float]
    sample_path: str | None  # newest sample grid, if any
    checkpoint_path: str | None  # newest training checkpoint, if any
    labels: tuple[str, ...] = ()  # warnings that go with the run (e.g. a random loss network)


@dataclass(frozen=True)
class RunResult:
    """How ``Trainer.run`` ended: "completed" (model_path is set) or "stopped" at ``step``."""

    run_dir: str
    status: str
    step: int
    total_steps: int
    checkpoint_path: str | None
    model_path: str | None
    sample_path: str | None
    metrics: dict[str, float] = field(default_factory=dict)
    labels: tuple[str, ...] = ()


class Trainer:
    """Runs (and resumes) one training run in one folder. Use ``create`` or ``open``."""

    def __init__(self, run_dir: str | Path, spec: RunSpec, *, family: Family | None = None) -> None:
        self.run_dir = Path(run_dir)
        self.spec = spec
        self.family = family or get_family(spec.family)
        if self.family.training is None:
            raise ValueError(f"family {self.family.name!r} has no training support")
        if not isinstance(spec.config, self.family.training.config_class):
            raise TypeError(
                f"config for training {self.family.name!r} must be a "
                f"{self.family.training.config_class.__name__}, got {type(spec.config).__name__}"
            )
        self._previous: dict[str, Any] = {}  # run.json as found by open()
        self._labels: tuple[str, ...] = ()
        self._sample_path: Path | None = None
        self._checkpoint_path: Path | None = None
        self._checkpoint_step: int | None = None  # the step the checkpoint file itself records
        self._step = 0
        self._world = distributed.world(spec.device)  # this process's rank among the trainers
        self._device = self._world.device(torch.device(spec.device))  # cuda:LOCAL_RANK on GPUs

    @property
    def world(self) -> distributed.World:
        """This process's rank among the run's training processes (rank 0 of 1 without torchrun)."""
        return self._world

    # --- making one ------------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        run_dir: str | Path,
        *,
        family: str,
        config: Any,
        inputs: Mapping[str, str | Path],
        steps: int | None = None,
        seed: int = 0,
        device: str | torch.device = "cpu",
        precision: str = "fp32",
        num_workers: int = 2,
        log_every: int = 10,
        sample_every: int = 500,
        checkpoint_every: int = 1000,
        keep_checkpoints: int = 2,
    ) -> Trainer:
        """A new run in ``run_dir`` (which must not hold one); writes run.json ("created").
        ``steps`` replaces ``config.steps``, the run's length."""
        run_dir = Path(run_dir)
        world = distributed.world(device)
        taken = (run_dir / RUN_FILE).exists()
        world.barrier()  # every rank has looked before rank 0 writes run.json
        if taken:
            raise RunFolderError(f"{run_dir} already holds a training run; resume it or choose another folder")
        family_record = get_family(family)
        training = family_record.training
        if training is None:
            raise ValueError(f"family {family!r} has no training support")
        missing = [i.name for i in training.inputs if i.required and not inputs.get(i.name)]
        unknown = sorted(set(inputs) - {i.name for i in training.inputs})
        if missing or unknown:
            raise ValueError(
                f"training {family} needs inputs {', '.join(i.name for i in training.inputs)}"
                + (f"; missing: {', '.join(missing)}" if missing else "")
                + (f"; unknown: {', '.join(unknown)}" if unknown else "")
            )
        if steps is not None:
            config = config.replace(steps=steps)
        spec = RunSpec(
            family=family,
            config=config,
            inputs={k: str(Path(v).expanduser().resolve()) for k, v in inputs.items() if v},
            total_steps=int(config.steps),
            seed=seed,
            device=str(device),
            precision=precision,
            num_workers=num_workers,
            log_every=log_every,
            sample_every=sample_every,
            checkpoint_every=checkpoint_every,
            keep_checkpoints=keep_checkpoints,
        )
        trainer = cls(run_dir, spec, family=family_record)
        if trainer._world.is_main:
            run_dir.mkdir(parents=True, exist_ok=True)
            trainer._write_status("created", step=0)
        world.barrier()  # run.json exists for every rank from here on
        return trainer

    @classmethod
    def open(
        cls,
        run_dir: str | Path,
        *,
        device: str | torch.device | None = None,
        num_workers: int | None = None,
        inputs: Mapping[str, str | Path] | None = None,
    ) -> Trainer:
        """The run described by ``run_dir/run.json``; ``device``/``num_workers`` may change
        (bit-identity with an uninterrupted run holds on the same device only). ``inputs``
        replaces recorded input paths, by the names run.json records (another name is refused):
        the same files found elsewhere, e.g. the dataset unpacked at another path on another
        host. The attempt records the new paths in run.json when it starts; the files must be
        the same for the run to stay the same run (nothing here can tell)."""
        data = read_run(run_dir)
        spec = RunSpec.from_dict(data)
        changes: dict[str, Any] = {}
        if device is not None:
            changes["device"] = str(device)
        if num_workers is not None:
            changes["num_workers"] = num_workers
        if inputs:
            changes["inputs"] = _replaced_inputs(run_dir, spec.inputs, inputs)
        if changes:
            spec = dataclasses.replace(spec, **changes)
        trainer = cls(run_dir, spec)
        trainer._previous = data
        trainer._labels = tuple(data.get("labels") or ())
        trainer._sample_path = trainer.run_dir / data["sample"] if data.get("sample") else None
        return trainer

    # --- running ---------------------------------------------------------------------------

    def run(
        self,
        *,
        on_progress: Callable[[Progress], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> RunResult:
        """Train from the newest checkpoint (or from scratch) to ``total_steps`` or a stop."""
        spec, world, device = self.spec, self._world, self._device
        if world.is_main:
            for folder in (self.run_dir, self.run_dir / CHECKPOINTS_DIR, self.run_dir / SAMPLES_DIR):
                remove_stale_temp_files(folder)
        step = 0
        try:
            task, precision = self.make_task()
            if task.batch_size % world.size:
                raise ValueError(f"batch_size {task.batch_size} does not split evenly over {world.size} "
                                 "training processes: choose a multiple of their number")
            self._labels = tuple(task.labels)
            found = latest_training_checkpoint(self.run_dir / CHECKPOINTS_DIR)
            if found is not None:
                path, state = found
                step = self._restore(task, precision, path, state, device)
                self._checkpoint_path, self._checkpoint_step = path, step
            elif world.rank > 0:
                _seed_everything(distributed.rank_seed(spec.seed, 0, world.rank))  # its own noise
            # Every rank has read the same checkpoint before rank 0 may write or delete one.
            world.check_same(step, "the step to resume from")
            model = self.run_dir / MODEL_FILE
            if step >= spec.total_steps and self._previous.get("status") == "completed" and model.is_file():
                log.info("run %s is already complete", self.run_dir)
                return self._result("completed", step, {}, model)
            if world.is_main:
                MetricsLog(self.run_dir).trim_after(step)
                self._write_status("running", step=step)
            if world.distributed:
                task.distribute(lambda net, unused: world.wrap(net, device, find_unused_parameters=unused))
            try:
                return self._loop(task, precision, device, step, on_progress, should_stop)
            finally:
                # The DDP wrappers hold the process group; let them go with the run, not at some
                # later garbage collection (after distributed.shutdown() that aborts the process).
                task.step_networks = dict(task.networks)
        except BaseException as exc:
            interrupted = isinstance(exc, KeyboardInterrupt)
            if world.is_main:
                self._write_status("failed", step=max(step, self._step),
                                   error="interrupted" if interrupted else f"{type(exc).__name__}: {exc}")
            raise

    def make_task(self) -> tuple[TrainingTask, Precision]:
        """The task and precision this run trains with, built as ``run`` builds them: every RNG
        seeded with the run's seed, then the family's ``training.make_task`` (no checkpoint is
        restored). ``run`` uses it; so does a tool that drives the step itself (mlcore.bench's
        bare loop), which then trains exactly the run's networks from the same start."""
        spec, device = self.spec, self._device
        _seed_everything(spec.seed)
        precision = Precision(spec.precision, device)
        task = self.family.training.make_task(
            spec.config, dict(spec.inputs), device=device, precision=precision, seed=spec.seed
        )
        return task, precision

    def first_batch(self, task: TrainingTask) -> Any:
        """The batch this run's first step trains on, on the run's device: the engine's own
        sample stream (``make_loader`` from sample 0), loaded in this process."""
        loader = make_loader(task.dataset, batch_size=task.batch_size, seed=self.spec.seed, num_workers=0)
        return _to_device(next(iter(loader)), torch.device(self.spec.device))

    def _loop(
        self,
        task: TrainingTask,
        precision: Precision,
        device: torch.device,
        step: int,
        on_progress: Callable[[Progress], None] | None,
        should_stop: Callable[[], bool] | None,
    ) -> RunResult:
        spec, world = self.spec, self._world
        main = world.is_main  # rank 0 writes; every rank trains and joins the collectives
        self._step = step
        batch_size = task.batch_size  # the global batch; this rank loads batch_size / world.size
        dataset = task.dataset
        metrics_log = MetricsLog(self.run_dir)
        probe = _to_device(task.probe_batch(), device) if main else None
        loader = make_loader(
            dataset, batch_size=batch_size, seed=spec.seed, start=step * batch_size,
            num_workers=spec.num_workers, pin_memory=device.type == "cuda",
            rank=world.rank, world_size=world.size,
        )
        batches = iter(loader)
        started = time.perf_counter()
        interval_start, interval_steps = started, 0
        steps_here, speed = 0, 0.0
        metrics: dict[str, float] = {}
        status = "completed"
        task.set_training(True)
        try:
            while step < spec.total_steps:
                if world.any(should_stop is not None and should_stop()):
                    status = "stopped"
                    break
                batch = _to_device(next(batches), device)
                metrics = world.mean(run_step(task, precision, batch))
                step += 1
                self._step = step
                steps_here += 1
                interval_steps += 1

                every = task.evaluate_every
                evaluates = main and every > 0 and (step % every == 0 or step == spec.total_steps)
                if evaluates:
                    evaluation_started = time.perf_counter()
                    metrics = {**metrics, **self._evaluate(task, step)}
                    interval_start += time.perf_counter() - evaluation_started  # speed: training only
                logs = step % spec.log_every == 0 or step == spec.total_steps or evaluates
                samples = spec.sample_every and step % spec.sample_every == 0
                checkpoints = spec.checkpoint_every and step % spec.checkpoint_every == 0
                if logs and main:
                    now = time.perf_counter()
                    speed = interval_steps * batch_size / max(now - interval_start, 1e-9)
                    interval_start, interval_steps = now, 0
                    metrics_log.append({
                        "step": step,
                        "time": time.time(),
                        "elapsed": now - started,
                        "images_per_second": speed,
                        "epoch": step * batch_size / len(dataset),
                        "lr": task.learning_rates(),
                        **metrics,
                    })
                if main and (samples or step == spec.total_steps):
                    self._write_sample(task, probe, precision, step)
                if checkpoints:
                    self._write_checkpoint(task, precision, step, batch_size, device)
                if main and on_progress is not None and (logs or samples or checkpoints):
                    on_progress(self._progress("running", step, speed, started, steps_here, metrics, task))
        finally:
            del batches  # stops the loader's worker processes

        if self._checkpoint_step != step:
            self._write_checkpoint(task, precision, step, batch_size, device)
        model_path = self.run_dir / MODEL_FILE if status == "completed" else None
        if main:
            if model_path is not None:
                self._export(task, step)
            self._write_status(status, step=step)
        world.barrier()  # the other ranks return once the folder holds the outcome
        if main and on_progress is not None:
            on_progress(self._progress(status, step, speed, started, steps_here, metrics, task))
        log.info("run %s %s at step %d of %d", self.run_dir, status, step, spec.total_steps)
        return self._result(status, step, metrics, model_path)

    # --- pieces ----------------------------------------------------------------------------

    def _restore(self, task: TrainingTask, precision: Precision, path: Path, state: dict,
                 device: torch.device) -> int:
        if state.get("family") != self.spec.family or state.get("config") != self.spec.config.to_json():
            raise RunFolderError(f"{path} belongs to another run (family or config differ from {RUN_FILE})")
        step = int(state["step"])
        if int(state["samples_seen"]) != step * task.batch_size:
            raise RunFolderError(f"{path}: data position does not match the batch size")
        task.load_state_dict(state["task"])
        precision.load_state_dict(state["precision"])
        rank, saved = self._world.rank, state.get("rng_by_rank") or [state["rng"]]
        if rank < len(saved):
            restore_rng(saved[rank], device)
        else:  # a rank the checkpoint has no random state for (resumed on more processes)
            log.info("rank %d: no random state in %s (saved by %d processes); seeding afresh",
                     rank, path.name, len(saved))
            _seed_everything(distributed.rank_seed(self.spec.seed, step, rank))
        if self._world.is_main:
            log.info("resuming %s from %s (step %d)", self.run_dir, path.name, step)
            saved_by = int(state.get("world_size", 1))
            if saved_by != self._world.size:
                log.info("the checkpoint was saved by %d training processes; %d resume it", saved_by,
                         self._world.size)
        return step

    def _write_checkpoint(self, task: TrainingTask, precision: Precision, step: int, batch_size: int,
                          device: torch.device) -> None:
        """Every rank calls it (their random states are gathered); rank 0 writes the file."""
        rng_by_rank = self._world.gather_to_main(capture_rng(device))
        folder = self.run_dir / CHECKPOINTS_DIR
        if not self._world.is_main:
            self._checkpoint_path, self._checkpoint_step = checkpoint_path(folder, step), step
            return
        state = {
            "family": self.spec.family,
            "config": self.spec.config.to_json(),
            "step": step,
            "samples_seen": step * batch_size,
            "task": task.state_dict(),  # the unwrapped networks: loadable by any number of processes
            "precision": precision.state_dict(),
            "rng": rng_by_rank[0],
        }
        if self._world.distributed:
            state["world_size"] = self._world.size
            state["rng_by_rank"] = rng_by_rank
        path = save_training_checkpoint(checkpoint_path(folder, step), state)
        self._checkpoint_path, self._checkpoint_step = path, step
        for _, old in list_checkpoints(folder)[: -self.spec.keep_checkpoints]:
            old.unlink(missing_ok=True)
        self._write_status("running", step=step)
        log.info("checkpoint %s", path)

    def _evaluate(self, task: TrainingTask, step: int) -> dict[str, float]:
        """``task.evaluate(step)`` in eval mode without gradients, checked as train_step's metrics.
        Outside the run's autocast: a measure such as FID is taken in full precision."""
        task.set_training(False)
        try:
            with torch.no_grad():
                found = _check_metrics(task.evaluate(step), source="evaluate")
        finally:
            task.set_training(True)
        log.info("step %d: %s", step, ", ".join(f"{k} {v:.6g}" for k, v in found.items()) or "no evaluation numbers")
        return found

    def _write_sample(self, task: TrainingTask, probe: Any, precision: Precision, step: int) -> None:
        task.set_training(False)
        try:
            with torch.no_grad(), precision.autocast():
                images = task.sample(probe)
        finally:
            task.set_training(True)
        per_row = len(probe) if isinstance(probe, torch.Tensor) else len(probe[0])
        self._sample_path = write_sample_grid(self.run_dir, step, images, per_row=per_row, labels=self._labels)

    def _export(self, task: TrainingTask, step: int) -> Path:
        exported = task.export_model()
        meta = dict(exported.meta)
        meta["training"] = {
            "steps": step,
            "seed": self.spec.seed,
            "device": self.spec.device,
            "world_size": self._world.size,
            "precision": self.spec.precision,
            "config": self.spec.config.to_dict(),
            "labels": list(self._labels),
        }
        return save_model(self.run_dir / MODEL_FILE, family=exported.family, config=exported.config,
                          state_dict=exported.state_dict, meta=meta)

    def _progress(self, status: str, step: int, speed: float, started: float, steps_here: int,
                  metrics: dict[str, float], task: TrainingTask) -> Progress:
        elapsed = time.perf_counter() - started
        eta = (self.spec.total_steps - step) * elapsed / steps_here if steps_here else None
        return Progress(
            run_dir=str(self.run_dir), status=status, step=step, total_steps=self.spec.total_steps,
            images_per_second=speed, eta_seconds=eta, elapsed_seconds=elapsed, metrics=dict(metrics),
            learning_rates=task.learning_rates(),
            sample_path=str(self._sample_path) if self._sample_path else None,
            checkpoint_path=str(self._checkpoint_path) if self._checkpoint_path else None,
            labels=self._labels,
        )

    def _result(self, status: str, step: int, metrics: dict[str, float], model: Path | None) -> RunResult:
        return RunResult(
            run_dir=str(self.run_dir), status=status, step=step, total_steps=self.spec.total_steps,
            checkpoint_path=str(self._checkpoint_path) if self._checkpoint_path else None,
            model_path=str(model) if model else None,
            sample_path=str(self._sample_path) if self._sample_path else None,
            metrics=dict(metrics), labels=self._labels,
        )

    def _write_status(self, status: str, *, step: int, error: str | None = None) -> None:
        def relative(path: Path | None) -> str | None:
            return path.relative_to(self.run_dir).as_posix() if path else None

        model = self.run_dir / MODEL_FILE
        write_run(self.run_dir, {
            **self.spec.to_dict(),
            "status": status,
            "step": step,
            "world_size": self._world.size,  # training processes (GPUs) of the latest attempt
            "error": error,
            "labels": list(self._labels),
            "checkpoint": relative(self._checkpoint_path),
            "sample": relative(self._sample_path),
            "model": MODEL_FILE if status == "completed" and model.is_file() else None,
        })


def start(
    run_dir: str | Path,
    *,
    family: str,
    config: Any,
    inputs: Mapping[str, str | Path],
    on_progress: Callable[[Progress], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    **settings: Any,
) -> RunResult:
    """Create a run in ``run_dir`` and train it; ``settings`` are ``Trainer.create``'s."""
    trainer = Trainer.create(run_dir, family=family, config=config, inputs=inputs, **settings)
    return trainer.run(on_progress=on_progress, should_stop=should_stop)


def resume(
    run_dir: str | Path,
    *,
    on_progress: Callable[[Progress], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    device: str | torch.device | None = None,
    num_workers: int | None = None,
    inputs: Mapping[str, str | Path] | None = None,
) -> RunResult:
    """Continue the run in ``run_dir`` from its newest checkpoint (from step 0 if it has none).
    A completed run returns at once. ``inputs``: recorded input paths moved (``Trainer.open``)."""
    trainer = Trainer.open(run_dir, device=device, num_workers=num_workers, inputs=inputs)
    return trainer.run(on_progress=on_progress, should_stop=should_stop)


def _replaced_inputs(run_dir: str | Path, recorded: Mapping[str, str],
                    replacements: Mapping[str, str | Path]) -> dict[str, str]:
    """The recorded inputs with ``replacements``' paths (made absolute, as ``create`` records
    them). A name the run does not record, or an empty path, is refused: replacing may move an
    input, never add, drop or rename one, or the resumed run would not be the run it was."""
    unknown = sorted(set(replacements) - set(recorded))
    if unknown:
        raise ValueError(
            f"the run in {run_dir} has no input {', '.join(unknown)} to replace; "
            f"it records {', '.join(sorted(recorded)) or 'no inputs'}"
        )
    empty = sorted(name for name, path in replacements.items() if not str(path))
    if empty:
        raise ValueError(f"a replaced input needs a path; {', '.join(empty)} has none")
    inputs = dict(recorded)
    for name, path in replacements.items():
        moved = str(Path(path).expanduser().resolve())
        if moved != inputs[name]:
            log.info("run %s: input %s moved from %s to %s", run_dir, name, inputs[name], moved)
        inputs[name] = moved
    return inputs


def run_step(task: TrainingTask, precision: Precision, batch: Any) -> dict[str, float]:
    """One training step as the loop runs it: ``task.train_step(batch)`` inside the precision's
    autocast, then the fp16 scaler's update; returns the step's metrics, checked."""
    with precision.autocast():
        raw = task.train_step(batch)
    precision.update()
    return _check_metrics(raw)


def _seed_everything(seed: int) -> None:
    torch.manual_seed(seed)  # also seeds every CUDA device
    np.random.seed(seed % 2**32)
    random.seed(seed)


def _to_device(batch: Any, device: torch.device) -> Any:
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=device.type == "cuda")
    if isinstance(batch, (list, tuple)):
        return type(batch)(_to_device(b, device) for b in batch)
    if isinstance(batch, dict):
        return {k: _to_device(v, device) for k, v in batch.items()}
    return batch


def _check_metrics(raw: Any, *, source: str = "train_step") -> dict[str, float]:
    if not isinstance(raw, Mapping):
        raise TypeError(f"{source} must return a dict of floats; got {type(raw).__name__}")
    clash = _RESERVED & set(raw)
    if clash:
        raise ValueError(f"{source} metrics may not be called {', '.join(sorted(clash))}")
    return {str(k): float(v) for k, v in raw.items()}
