"""The bound on a worker's cache (RESTYLE_WORKER_CACHE_DIR, at most RESTYLE_WORKER_CACHE_MAX_GB).

The cache holds model checkpoints fetched from the storage (`sha256/<hash>.<suffix>`, one file
each) and uploaded datasets unpacked from their archives (`datasets/<name>/`, one folder each).
Every use of an entry sets its modification time, so the oldest is the least recently used.
After each fetch or unpack `trim` removes the least recently used entries until the cache is
under its bound again, except:

- the entry just fetched (`keep`): the job that fetched it is about to use it;
- an entry some job of this machine is using (`in_use`), in this process or another: a
  training run reads its dataset's folder for hours, and its data loader's processes open the
  files one by one, so the folder must stay whole for as long as the run lasts. (An open file
  would survive its unlinking on Linux, but a folder is read file by file, and a checkpoint is
  looked up by name before it is opened.)

`in_use` takes a shared flock on the entry's lock file (`locks/<kind>-<name>.lock`) for as long
as the job uses it; `trim` removes an entry only when it gets that lock exclusively without
waiting. flock rather than the entry's modification time: a time says only that an entry was
used a while ago, not whether a run that began then is still reading it, and a lock goes with
the process that held it, so a killed job never pins an entry for ever. Each open of the lock
file is its own flock, so two jobs of one process (the threads pool) exclude a trim just as two
processes do. (Linux and other POSIX systems, as the workers are.)
"""
import fcntl
import logging
import os
import shutil
import uuid
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings

log = logging.getLogger(__name__)

KINDS = ("sha256", "datasets")  # the cache's folders of entries
GB = 10**9


def root():
    return Path(settings.RESTYLE_WORKER_CACHE_DIR)


def lock_file(entry):
    entry = Path(entry)
    return root() / "locks" / f"{entry.parent.name}-{entry.name}.lock"


@contextmanager
def in_use(entry):
    """Hold `entry` (a cache entry's path, which may not exist yet) for the block: no trim
    removes it meanwhile. Take it before looking the entry up, so it cannot go in between."""
    path = lock_file(entry)
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(fd, fcntl.LOCK_SH)
        # A trim removes the lock file with the entry; a lock taken on a file no longer at the
        # path protects nothing, so take the one that is there now.
        try:
            if os.path.samestat(os.fstat(fd), os.stat(path)):
                break
        except FileNotFoundError:
            pass
        os.close(fd)
    try:
        yield Path(entry)
    finally:
        os.close(fd)  # releases the lock


def touch(entry):
    """Record a use of `entry` (its modification time is its last use)."""
    try:
        os.utime(entry)
    except FileNotFoundError:
        pass


def entries():
    """[(last use, bytes, path)] of every complete entry. Names starting with a dot are fetches
    and unpacks in progress (renamed into place whole when done): not entries yet."""
    found = []
    for kind in KINDS:
        folder = root() / kind
        if not folder.is_dir():
            continue
        for path in folder.iterdir():
            if path.name.startswith("."):
                continue
            try:
                found.append((path.stat().st_mtime, _size(path), path))
            except FileNotFoundError:  # removed by another process meanwhile
                continue
    return found


def _size(path):
    if not path.is_dir():
        return path.stat().st_size
    total = 0
    for dirpath, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(dirpath, name)).st_size
            except FileNotFoundError:
                continue
    return total


def trim(*, keep=()):
    """Remove least recently used entries until the cache holds at most
    RESTYLE_WORKER_CACHE_MAX_GB; never one in `keep` nor one in use. Returns the removed paths."""
    bound = settings.RESTYLE_WORKER_CACHE_MAX_GB * GB
    for kind in KINDS:  # what a removal killed halfway left behind
        for leftover in (root() / kind).glob(".removing-*"):
            shutil.rmtree(leftover, ignore_errors=True)
    kept = {Path(p).resolve() for p in keep}
    found = entries()
    total = sum(size for _, size, _ in found)
    removed = []
    for _, size, path in sorted(found, key=lambda e: e[0]):
        if total <= bound:
            break
        if path.resolve() in kept or not _remove_unless_in_use(path):
            continue
        total -= size
        removed.append(path)
        log.info("worker cache: removed %s (%.1f MB, least recently used)", path.name, size / 2**20)
    if total > bound:
        log.warning("worker cache holds %.2f GB, over RESTYLE_WORKER_CACHE_MAX_GB (%g): the rest is in use "
                    "or just fetched", total / GB, settings.RESTYLE_WORKER_CACHE_MAX_GB)
    return removed


def _remove_unless_in_use(path):
    lock = lock_file(path)
    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        if path.is_dir():
            # Renamed first, so no one finds a half-removed folder under the entry's name.
            doomed = path.with_name(f".removing-{path.name}-{uuid.uuid4().hex[:8]}")
            path.rename(doomed)
            shutil.rmtree(doomed, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        lock.unlink(missing_ok=True)  # while still held: see in_use
        return True
    except FileNotFoundError:  # another trim removed it first
        return False
    finally:
        os.close(fd)
