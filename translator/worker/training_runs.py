"""What a training task runs: opening or creating a run's mlcore folder, a log file per run, a
heartbeat while it trains, the stop poll (an admin's stop or the time limit) and its progress
reports; and what the admin's live page reads back from the folder (metrics, the log's tail)."""
import logging
import time
from contextlib import contextmanager

from django.conf import settings

from .. import services
from ..services.datasets import dataset_in_use, local_dataset_folder
from . import run_files

log = logging.getLogger("translator.training")

HEARTBEAT_SECONDS = 20
STOP_POLL_SECONDS = 1.0
LOG_FILE = "train.log"


def trainer_for(run):
    """The mlcore Trainer of `run`: resumed from its folder when it has one (here, or in the
    storage from an attempt on another host), else created."""
    from mlcore import engine
    from mlcore.registry import get_family

    training = get_family(run.family).training
    inputs = training.dataset_inputs(str(local_dataset_folder(run.dataset)))  # this machine's copy
    if (run.run_dir / "run.json").exists() or run_files.pull(run):
        # run.json names the paths of the host the run began on; this worker's copy of the dataset
        # (its RESTYLE_WORKER_CACHE_DIR) and weights may lie elsewhere: the same files, moved.
        recorded = engine.read_run(run.run_dir).get("inputs") or {}
        if "vgg_weights" in recorded and settings.RESTYLE_VGG16_WEIGHTS:
            inputs["vgg_weights"] = settings.RESTYLE_VGG16_WEIGHTS
        # Resumed on this worker's device, whichever device the run began on.
        return engine.Trainer.open(
            run.run_dir, device=settings.RESTYLE_WORKER_DEVICE, num_workers=settings.RESTYLE_TRAINING_DATA_WORKERS,
            inputs={name: path for name, path in inputs.items() if name in recorded},
        )
    if run.family == "fast_style" and settings.RESTYLE_VGG16_WEIGHTS:
        inputs["vgg_weights"] = settings.RESTYLE_VGG16_WEIGHTS
    total = run.total_steps
    return engine.Trainer.create(
        run.run_dir,
        family=run.family,
        config=training.config_class.from_dict(run.config),
        inputs=inputs,
        seed=run.seed,
        device=settings.RESTYLE_WORKER_DEVICE,  # the worker's own: the run asked only for its class
        precision=run.precision,
        num_workers=settings.RESTYLE_TRAINING_DATA_WORKERS,
        # About 500 metric points, 50 sample grids and 20 checkpoints over a run, within bounds.
        log_every=max(1, min(10, total // 500)),
        sample_every=max(1, min(500, total // 50)),
        checkpoint_every=max(1, min(1000, total // 20)),
    )


def train(run, *, on_progress, should_stop):
    """Train (or resume) `run`: in this process, or in run.processes processes under torchrun
    (translator.worker.torchrun) when it asked for more than one. Returns an mlcore RunResult."""
    with dataset_in_use(run.dataset):  # this host's copy of the dataset stays for the whole run
        trainer = trainer_for(run)  # made (or pulled) here, so the processes only resume it
        if run.processes <= 1:
            return trainer.run(on_progress=on_progress, should_stop=should_stop)
        inputs = dict(trainer.spec.inputs)  # this host's paths, which trainer_for put in place
        del trainer
        from . import torchrun

        return torchrun.train(run, on_progress=on_progress, should_stop=should_stop, inputs=inputs)


class StopPoll:
    """should_stop for the engine: true once an admin asked to stop or the run is no longer this
    worker's (checked at most once a second), its lease was lost, or it has used up its time
    limit in this attempt."""

    def __init__(self, claim, lease_lost):
        self.claim = claim
        self.lease_lost = lease_lost
        self.deadline = time.monotonic() + settings.RESTYLE_TRAINING_TIME_LIMIT_HOURS * 3600
        self.timed_out = False
        self._checked_at, self._answer = 0.0, False

    def __call__(self):
        now = time.monotonic()
        if now >= self.deadline:
            self.timed_out = True
            return True
        if self.lease_lost.is_set():
            return True
        if now - self._checked_at >= STOP_POLL_SECONDS:
            self._checked_at, self._answer = now, services.stop_requested(claim=self.claim)
        return self._answer


@contextmanager
def heartbeat(claim):
    """Tell the database every few seconds that this run's worker is alive, even during a
    step that takes minutes; a run whose heartbeat stops is failed by the sweeper (resumable).
    Yields an Event set once the run is no longer this worker's. When the attempt ends, what it
    left goes to the storage, for the live page and whichever worker resumes the run."""
    with services.keep_lease(lambda: services.beat(claim=claim), every=HEARTBEAT_SECONDS) as lease_lost:
        try:
            yield lease_lost
        finally:
            push_files(claim, force=True)


def push_files(claim, *, force):
    try:
        run_files.push(claim, force=force)
    except Exception:  # the run goes on (or has ended); the next push tries again
        log.exception("run %s: pushing its files to the storage failed", claim.pk)


@contextmanager
def run_log(run):
    """Everything this run's code logs (mlcore and ours) also goes to the run folder's
    train.log, which the admin page shows the tail of."""
    run.run_dir.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(run.run_dir / LOG_FILE, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    loggers = [logging.getLogger("mlcore"), log]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(logging.INFO)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.removeHandler(handler)
            lg.setLevel(level)
        handler.close()


def run_metrics(run):
    """Every metrics record the run has logged so far (none before it starts)."""
    return run_files.read_metrics(run)


def log_tail(run, lines=40):
    data = run_files.read(run, LOG_FILE, tail=64 * 1024)
    if not data:
        return ""
    return "\n".join(data.decode("utf-8", "replace").splitlines()[-lines:])


def latest_sample(run):
    """The JPEG bytes of the run's latest sample grid, or None before the first."""
    return run_files.read(run, "samples/latest.jpg")


def has_sample(run):
    return run_files.exists(run, "samples/latest.jpg")


def report_progress(claim):
    def on_progress(progress):
        services.record_run_progress(claim=claim, progress=progress)
        push_files(claim, force=False)
        losses = " ".join(f"{k}={v:.4g}" for k, v in sorted(progress.metrics.items()))
        log.info("step %d/%d %s %.2f img/s", progress.step, progress.total_steps, losses, progress.images_per_second)

    return on_progress
