"""Model checkpoints on the worker's own disk.

mlcore loads a checkpoint from a file. With the local storage the stored file is that file. With
an object store (RESTYLE_STORAGE=s3) the worker fetches it once into RESTYLE_WORKER_CACHE_DIR,
named by the SHA-256 of its bytes, and every later job (in any process of this machine) loads
that copy: a checkpoint is never changed once stored (a new version is a new object), so a copy
named by its content never goes stale, and two versions with the same weights share one file.
The cache keeps to its bound (RESTYLE_WORKER_CACHE_MAX_GB, translator.worker.cache): a copy is
held while a job loads it, and the least recently used go after each fetch.
What is fetched is checked against the hash recorded when the checkpoint was stored; a row from
before the hash was recorded gets it from its first fetch.
"""
import hashlib
import logging
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from django.conf import settings

from . import cache

log = logging.getLogger(__name__)

CHUNK = 1 << 20


class StoredFileCorrupt(Exception):
    """The bytes fetched from the storage are not the ones that were stored."""


@contextmanager
def local_checkpoint(version):
    """A path on this machine holding `version`'s checkpoint, for the block: a cached copy stays
    until the block ends, whatever trims the cache meanwhile (translator.worker.cache)."""
    field = version.checkpoint
    try:
        path = Path(field.path)  # the storage is a folder of this machine: read it where it lies
    except NotImplementedError:
        pass
    else:
        yield path
        return
    with cached_copy(field, sha256=version.checkpoint_sha256) as (path, sha256):
        if not version.checkpoint_sha256:
            from ..services.catalogue import record_checkpoint_sha256

            record_checkpoint_sha256(version=version, sha256=sha256)
        yield path


def cache_folder():
    return Path(settings.RESTYLE_WORKER_CACHE_DIR) / "sha256"


@contextmanager
def cached_copy(field, *, sha256=""):
    """(path, sha256), for the block: the cached copy of stored file `field`, fetched first if this
    machine has none (and the cache trimmed to its bound after). With `sha256` known, a cached copy
    is used without asking the storage anything."""
    folder = cache_folder()
    suffix = PurePosixPath(field.name).suffix
    if sha256:
        cached = folder / f"{sha256}{suffix}"
        with cache.in_use(cached):
            if cached.is_file():
                cache.touch(cached)  # its last use, for the trim
                yield cached, sha256
                return
            fetched = _fetch(field, folder, suffix, sha256)
            cache.trim(keep=[fetched])
            yield fetched, sha256
        return
    # The name is the hash, known once the bytes are here: fetched, then held under that name.
    partial, actual = _download(field, folder, suffix)
    cached = folder / f"{actual}{suffix}"
    try:
        with cache.in_use(cached):
            os.replace(partial, cached)
            log.info("fetched %s from storage into the worker cache as %s", field.name, cached.name)
            cache.trim(keep=[cached])
            yield cached, actual
    finally:
        Path(partial).unlink(missing_ok=True)


def _fetch(field, folder, suffix, sha256):
    partial, actual = _download(field, folder, suffix)
    try:
        if actual != sha256:
            raise StoredFileCorrupt(f"{field.name} in storage has SHA-256 {actual}, not the stored {sha256}")
        cached = folder / f"{actual}{suffix}"
        os.replace(partial, cached)
    finally:
        Path(partial).unlink(missing_ok=True)
    log.info("fetched %s from storage into the worker cache as %s", field.name, cached.name)
    return cached


def _download(field, folder, suffix):
    """(partial path, its SHA-256): the stored bytes in a file beside their final place. Renamed
    into place whole after: a job in another process never loads half a file, and two processes
    fetching at once both end with the same complete one."""
    folder.mkdir(parents=True, exist_ok=True)
    fd, partial = tempfile.mkstemp(dir=folder, prefix=".fetching-", suffix=suffix)
    try:
        digest = hashlib.sha256()
        with os.fdopen(fd, "wb") as out, field.storage.open(field.name, "rb") as src:
            while chunk := src.read(CHUNK):
                digest.update(chunk)
                out.write(chunk)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    return partial, digest.hexdigest()


def file_sha256(fileobj):
    """The SHA-256 (hex) of an open binary file from its start; it is left at its start again."""
    fileobj.seek(0)
    digest = hashlib.sha256()
    while chunk := fileobj.read(CHUNK):
        digest.update(chunk)
    fileobj.seek(0)
    return digest.hexdigest()
