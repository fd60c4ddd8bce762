"""The training engine shared by every model family.

Public surface (what the CLI and the web app's Celery tasks call):

- ``start(run_dir, family=, config=, inputs=, steps=, seed=, device=, precision=, num_workers=,
  log_every=, sample_every=, checkpoint_every=, keep_checkpoints=, on_progress=, should_stop=)``
  -> ``RunResult``: create a run folder and train;
- ``resume(run_dir, on_progress=, should_stop=, device=, num_workers=)`` -> ``RunResult``:
  continue a run from its folder alone (after a stop, a crash or a dead worker);
- ``Trainer.create(...)`` / ``Trainer.open(run_dir)`` and ``trainer.run(...)``: the same in two
  steps (create writes run.json at once, so a caller can record the run before it trains);
- ``read_run(run_dir)`` (run.json as a dict) and ``read_metrics(run_dir)`` (metrics.jsonl);
- ``Progress`` (passed to ``on_progress``), ``RunResult``;
- ``trainer.make_task()``, ``trainer.first_batch(task)`` and ``run_step(task, precision, batch)``:
  the run's task, first batch and step, for a tool that drives the step itself (mlcore.bench);
- for families: ``TrainingTask``, ``ExportedModel``, ``Precision``.

See mlcore.engine.trainer for the loop, mlcore.engine.run_folder for the folder layout,
mlcore.engine.checkpoints for what a training checkpoint holds.
"""

from mlcore.engine.checkpoints import TrainingCheckpointError, list_checkpoints, load_training_checkpoint
from mlcore.engine.precision import PRECISIONS, Precision
from mlcore.engine.run_folder import RunFolderError, read_metrics, read_run
from mlcore.engine.task import ExportedModel, TrainingTask
from mlcore.engine.trainer import Progress, RunResult, RunSpec, Trainer, resume, run_step, start

__all__ = [
    "start",
    "resume",
    "run_step",
    "Trainer",
    "RunSpec",
    "Progress",
    "RunResult",
    "read_run",
    "read_metrics",
    "RunFolderError",
    "TrainingTask",
    "ExportedModel",
    "Precision",
    "PRECISIONS",
    "TrainingCheckpointError",
    "list_checkpoints",
    "load_training_checkpoint",
]
