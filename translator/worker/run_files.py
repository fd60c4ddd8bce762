"""A training run's folder, seen from the storage.

A worker trains in its own run folder (RESTYLE_RUNS_ROOT on its disk, scratch). With an object
store (RESTYLE_STORAGE=s3) the web host cannot see that folder, so the worker pushes what the
admin's live page shows and what a later attempt needs to `runs/run-<id>/` in the storage while
it trains (at most every PUSH_EVERY_SECONDS, and once more when the attempt ends): run.json,
metrics.jsonl, train.log, the latest sample grid and the newest training checkpoint. The page
reads the run folder when this machine has it (the local storage is one disk for every
process), and the storage otherwise.
"""
import json
import logging
import tempfile
import time
from pathlib import Path

from django.core.files import File
from django.core.files.storage import default_storage

from ..storage_reads import read_tail

log = logging.getLogger(__name__)

PUSH_EVERY_SECONDS = 30
SHOWN = ("run.json", "metrics.jsonl", "train.log", "samples/latest.jpg")

_pushed = {}  # (run id, relative path) -> (size, mtime_ns) of the copy last pushed from this process
_last_push = {}  # run id -> monotonic time of the last push


def storage_is_local():
    """Whether the storage is a folder of this machine (every process then sees the run folder)."""
    try:
        default_storage.path("")
    except NotImplementedError:
        return False
    return True


def storage_name(run_id, relative):
    return f"runs/run-{run_id}/{relative}"


def push(claim, *, force=True):
    """Copy the files of the claimed run's folder that changed since this process last pushed
    them into the storage; without `force`, only when the last push is PUSH_EVERY_SECONDS old.
    Nothing once another attempt has claimed the run (a worker presumed dead that comes back
    must not put its older files over the new attempt's)."""
    from ..models import TrainingRun

    if storage_is_local():
        return
    run_id = claim.pk
    now = time.monotonic()
    if not force and now - _last_push.get(run_id, 0) < PUSH_EVERY_SECONDS:
        return
    _last_push[run_id] = now
    if not TrainingRun.objects.filter(pk=run_id, claim_token=claim.token).exists():
        log.warning("run %s is no longer this worker's: its files are not pushed", run_id)
        return
    run_dir = TrainingRun(pk=run_id).run_dir
    relatives = list(SHOWN)
    try:
        checkpoint = json.loads((run_dir / "run.json").read_text()).get("checkpoint")
    except (OSError, ValueError):
        checkpoint = None
    if checkpoint:
        relatives.append(checkpoint)
    for relative in relatives:
        path = run_dir / relative
        try:
            stat = path.stat()
        except FileNotFoundError:
            continue
        key = (run_id, relative)
        if _pushed.get(key) == (stat.st_size, stat.st_mtime_ns):
            continue
        name = storage_name(run_id, relative)
        default_storage.delete(name)  # names are never overwritten by a save: replace it
        with open(path, "rb") as fh:
            default_storage.save(name, File(fh))
        _pushed[key] = (stat.st_size, stat.st_mtime_ns)
    # Only the newest training checkpoint is kept in the storage.
    for earlier in [k for k in _pushed if k[0] == run_id and k[1].startswith("checkpoints/") and k[1] != checkpoint]:
        default_storage.delete(storage_name(run_id, earlier[1]))
        del _pushed[earlier]


def pull(run):
    """Fetch what the storage holds of the run (run.json, metrics, log, its newest training
    checkpoint) into this machine's empty run folder, so an attempt on another host than the
    last one resumes from that checkpoint. False when the storage has no run.json of it."""
    if storage_is_local():
        return False
    try:
        with default_storage.open(storage_name(run.pk, "run.json"), "rb") as fh:
            spec = fh.read()
    except FileNotFoundError:
        return False
    checkpoint = json.loads(spec).get("checkpoint")
    for relative in [r for r in (*SHOWN, checkpoint) if r and r not in ("run.json", "train.log")]:
        data = read(run, relative)
        if data is not None:
            (run.run_dir / relative).parent.mkdir(parents=True, exist_ok=True)
            (run.run_dir / relative).write_bytes(data)
    (run.run_dir / "run.json").write_bytes(spec)  # last: a folder with run.json is complete
    log.info("run %s: its folder was fetched from the storage (checkpoint %s)", run.pk, checkpoint)
    return True


def read(run, relative, *, tail=None):
    """The bytes of a run file (from the run folder here, else from the storage), or None;
    with `tail`, at most its last `tail` bytes."""
    local = run.run_dir / relative
    if local.is_file():
        with open(local, "rb") as fh:
            if tail:
                fh.seek(max(0, local.stat().st_size - tail))
            return fh.read()
    if storage_is_local():
        return None
    name = storage_name(run.pk, relative)
    try:
        if tail:  # the end alone crosses the network (a log grows for the whole run)
            return read_tail(default_storage, name, tail)
        with default_storage.open(name, "rb") as fh:
            return fh.read()
    except FileNotFoundError:
        return None


def exists(run, relative):
    if (run.run_dir / relative).is_file():
        return True
    return not storage_is_local() and default_storage.exists(storage_name(run.pk, relative))


def read_metrics(run):
    """The run's metrics records, read by mlcore's own reader (from a copy when they come from
    the storage)."""
    # mlcore (and torch) load only when there are metrics to read: the runs' list needs none.
    if (run.run_dir / "metrics.jsonl").is_file():
        from mlcore import engine

        return engine.read_metrics(run.run_dir)
    data = read(run, "metrics.jsonl")
    if data is None:
        return []
    from mlcore import engine

    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "metrics.jsonl").write_bytes(data)
        return engine.read_metrics(tmp)


def delete(run):
    """Remove the run's files from the storage (the run folder is removed by its owner)."""
    if storage_is_local():
        return
    prefix = f"runs/run-{run.pk}"
    folders, files = default_storage.listdir(prefix)
    for name in files:
        default_storage.delete(f"{prefix}/{name}")
    for folder in folders:
        _, inner = default_storage.listdir(f"{prefix}/{folder}")
        for name in inner:
            default_storage.delete(f"{prefix}/{folder}/{name}")
