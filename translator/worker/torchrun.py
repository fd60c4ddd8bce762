"""A run on several GPUs of this worker: `torchrun --standalone --nproc-per-node N -m mlcore train
<family> --run-dir DIR --resume` as a subprocess of the training task, in a process group of its
own. (A prefork Celery worker cannot fork multiprocessing children; a subprocess is fine.)

The run folder is made (or pulled from the storage) in this process first, so the subprocess
only resumes it. Rank 0 writes run.json and metrics.jsonl; this process reads them for the run's
progress while it waits, and polls `should_stop` (an admin's stop, a lost lease, the time limit):
a stop ends the whole process group (SIGTERM, then SIGKILL), and the run resumes from its last
checkpoint. A subprocess that exits with an error fails the attempt with the tail of its output.
"""
import logging
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings

log = logging.getLogger("translator.training")

POLL_SECONDS = 0.5
STOP_GRACE_SECONDS = 10
TAIL_LINES = 20


class TrainingProcessesFailed(RuntimeError):
    """The torchrun subprocess exited with an error; the message ends with its output's tail."""


def command(run, *, device, inputs=None):
    """The torchrun command line. `inputs` (the worker's own paths of the run's inputs, e.g. a
    dataset unpacked in this host's cache) are given again, so a run resumed on another host
    reads them where they are here."""
    from mlcore.registry import get_family

    moved = [part for name, path in (inputs or {}).items() for part in ("--" + name.replace("_", "-"), str(path))]
    return [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", str(run.processes),
        "-m", "mlcore", "-v", "train", get_family(run.family).cli_name, "--run-dir", str(run.run_dir), "--resume",
        "--device", device, "--workers", str(settings.RESTYLE_TRAINING_DATA_WORKERS), *moved,
    ]


def environment(run, *, device):
    """This worker's environment, with mlcore importable from the project and, on GPUs, only the
    first N of the worker's GPUs visible (rank r trains on cuda:r of those)."""
    env = dict(os.environ)
    root = str(settings.BASE_DIR)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    env["TQDM_DISABLE"] = "1"  # the log file wants lines, not a redrawn progress bar
    env.setdefault("OMP_NUM_THREADS", "1")
    if device == "cuda":
        visible = [d for d in env.get("CUDA_VISIBLE_DEVICES", "").split(",") if d.strip()]
        env["CUDA_VISIBLE_DEVICES"] = ",".join((visible or [str(i) for i in range(run.processes)])[: run.processes])
    return env


def check_device(run, *, device):
    """Refuse (in words) a run that asks for more GPUs than this worker has, or several
    processes on the CPU where no test allowed it."""
    if device == "cuda":
        import torch

        have = torch.cuda.device_count()
        if have < run.processes:
            raise TrainingProcessesFailed(f"the run asks for {run.processes} GPUs; this worker has {have}")
    elif not settings.RESTYLE_TRAINING_ALLOW_CPU_PROCESSES:
        raise TrainingProcessesFailed(
            f"the run asks for {run.processes} processes but this worker trains on the CPU ({settings.RESTYLE_WORKER_DEVICE})"
        )


def train(run, *, on_progress, should_stop, inputs=None):
    """Train `run` (its folder already made) in run.processes processes. Returns an
    mlcore.engine.RunResult: "completed", or "stopped" at the step of its last checkpoint."""
    from mlcore import engine

    device = "cuda" if str(settings.RESTYLE_WORKER_DEVICE).startswith("cuda") else "cpu"
    check_device(run, device=device)
    log_path = run.run_dir / "train.log"
    offset = log_path.stat().st_size if log_path.exists() else 0
    start_step = int(engine.read_run(run.run_dir).get("step", 0))  # where this attempt resumes
    argv = command(run, device=device, inputs=inputs)
    log.info("run %s: %d processes: %s", run.pk, run.processes, " ".join(argv))
    with open(log_path, "ab") as output:
        proc = subprocess.Popen(
            argv, cwd=str(settings.BASE_DIR), env=environment(run, device=device), stdin=subprocess.DEVNULL,
            stdout=output, stderr=subprocess.STDOUT, start_new_session=True,  # its own process group
        )
    reported, stopped = start_step, False
    try:
        while proc.poll() is None:
            time.sleep(POLL_SECONDS)
            reported = _report(run, reported, start_step, on_progress)
            if should_stop():
                stopped = True
                log.info("run %s: stopping its %d training processes", run.pk, run.processes)
                _end_group(proc)
                break
    except BaseException:
        _end_group(proc)  # never leave the processes training on their own
        raise
    _report(run, reported, start_step, on_progress)
    state = engine.read_run(run.run_dir)
    if not stopped and proc.returncode != 0:
        raise TrainingProcessesFailed(
            f"the {run.processes} training processes exited with code {proc.returncode}:\n{_tail(log_path, offset)}"
        )
    if not stopped and state.get("status") != "completed":
        raise TrainingProcessesFailed(f"the training processes ended with the run {state.get('status')}")
    return _result(run, state, completed=not stopped)


def _end_group(proc):
    """SIGTERM to the whole group (torchrun passes it to every rank), SIGKILL if it lingers."""
    for sig, wait in ((signal.SIGTERM, STOP_GRACE_SECONDS), (signal.SIGKILL, 5)):
        if proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
    # The group leader is gone; reap any rank that outlived it.
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _report(run, reported, start_step, on_progress):
    """Pass on the newest metrics record rank 0 wrote (once per step)."""
    from mlcore import engine

    try:
        records = engine.read_metrics(run.run_dir)
    except (OSError, ValueError):
        return reported
    if not records or records[-1].get("step", 0) <= reported:
        return reported
    latest = records[-1]
    step = int(latest["step"])
    metrics = {k: float(v) for k, v in latest.items()
               if k not in ("step", "time", "elapsed", "images_per_second", "epoch", "lr") and isinstance(v, (int, float))}
    speed = float(latest.get("images_per_second") or 0.0)
    elapsed = float(latest.get("elapsed") or 0.0)
    # "elapsed" counts from this attempt's start, at start_step.
    eta = (run.total_steps - step) * elapsed / (step - start_step) if step > start_step and elapsed else None
    on_progress(_Progress(step=step, total_steps=run.total_steps, images_per_second=speed, eta_seconds=eta,
                          metrics=metrics, labels=()))
    return step


class _Progress:
    """What on_progress reads of an mlcore Progress, made from a metrics record."""

    def __init__(self, **fields):
        self.__dict__.update(fields)


def _result(run, state, *, completed):
    from mlcore import engine

    def path(name):
        return str(run.run_dir / name) if name else None

    return engine.RunResult(
        run_dir=str(run.run_dir), status="completed" if completed else "stopped", step=int(state.get("step", 0)),
        total_steps=run.total_steps, checkpoint_path=path(state.get("checkpoint")),
        model_path=path(state.get("model")) if completed else None, sample_path=path(state.get("sample")),
        labels=tuple(state.get("labels") or ()),
    )


# A rank's own words: mlcore's "error: ..." or a Python exception (not torchrun's ChildFailedError).
_EXCEPTION_LINE = re.compile(r"^(\[rank\d+\]:\s*)?(error: |(?!torch\.distributed\.)[A-Za-z_][\w.]*(Error|Exception): )")


def _tail(path: Path, offset):
    """The last lines the subprocess wrote, led by the last exception a rank raised (torchrun's
    own summary, which ends the output, does not say it)."""
    with open(path, "rb") as fh:
        fh.seek(offset)
        lines = fh.read().decode("utf-8", "replace").splitlines()
    raised = [line for line in lines if _EXCEPTION_LINE.match(line)]
    return "\n".join(raised[-1:] + lines[-TAIL_LINES:])
