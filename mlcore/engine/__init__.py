"""The training engine shared by every model family.

Public surface (what the CLI and the web app's Celery tasks call):

- ``start(run_dir, family=, config=, inputs=, steps=, seed=, device=, precision=, num_workers=,
  log_every=, sample_every=, checkpoint_every=, keep_checkpoints=, on_progress=, should_stop=)``
  -> ``RunResult``: create a run folder and train;
- ``resume(run_dir, on_progress=, should_stop=, device=, num_workers=, inputs=)`` -> ``RunResult``:
  continue a run from its folder alone (after a stop, a crash or a dead worker);
- ``Trainer.create(...)`` / ``Trainer.open(run_dir)`` and ``trainer.run(...)``: the same in two
  steps (create writes run.json at once, so a caller can record the run before it trains);
- ``read_run(run_dir)`` (run.json as a dict) and ``read_metrics(run_dir)`` (metrics.jsonl);
- ``Progress`` (passed to ``on_progress``), ``RunResult``;
- ``trainer.make_task()``, ``trainer.first_batch(task)`` and ``run_step(task, precision, batch)``:
  the run's task, first batch and step, for a tool that drives the step itself (mlcore.bench);
- for families: ``TrainingTask``, ``ExportedModel``, ``Precision``;
- ``mlcore.engine.distributed``: training under ``torchrun --nproc-per-node N`` (each rank's
  ``World``; ``shutdown()`` when a process is done training). The trainer joins the process
  group by itself when torchrun's environment is set.

See mlcore.engine.trainer for the loop, mlcore.engine.run_folder for the folder layout,
mlcore.engine.checkpoints for what a training checkpoint holds.
"""

import importlib

# Reading a run folder (run.json, metrics.jsonl) needs no torch, and the web's run page does only
# that: these names load at once; the rest (the trainer, checkpoints, precision) on first use.
from mlcore.engine.run_folder import RunFolderError, read_metrics, read_run

_LAZY = {
    "start": "trainer", "resume": "trainer", "run_step": "trainer", "Trainer": "trainer", "RunSpec": "trainer", "Progress": "trainer",
    "RunResult": "trainer", "TrainingTask": "task", "ExportedModel": "task", "Precision": "precision",
    "PRECISIONS": "precision", "TrainingCheckpointError": "checkpoints", "list_checkpoints": "checkpoints",
    "load_training_checkpoint": "checkpoints",
}


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module 'mlcore.engine' has no attribute {name!r}")
    return getattr(importlib.import_module(f"mlcore.engine.{_LAZY[name]}"), name)


__all__ = ["read_run", "read_metrics", "RunFolderError", *_LAZY]
