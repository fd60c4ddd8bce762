"""Model checkpoints on the worker's own disk.

mlcore loads a checkpoint from a file. With the local storage the stored file is that file. With
an object store (RESTYLE_STORAGE=s3) the worker fetches it once into RESTYLE_WORKER_CACHE_DIR,
named by the SHA-256 of its bytes, and every later job (in any process of this machine) loads
that copy: a checkpoint is never changed once stored (a new version is a new object), so a copy
named by its content never goes stale, and two versions with the same weights share one file.
What is fetched is checked against the hash recorded when the checkpoint was stored; a row from
before the hash was recorded gets it from its first fetch.
"""
import hashlib
import logging
import os
import tempfile
from pathlib import Path, PurePosixPath

from django.conf import settings

log = logging.getLogger(__name__)

CHUNK = 1 << 20


class StoredFileCorrupt(Exception):
    """The bytes fetched from the storage are not the ones that were stored."""


def local_checkpoint(version):
    """A path on this machine holding `version`'s checkpoint."""
    field = version.checkpoint
    try:
        return Path(field.path)  # the storage is a folder of this machine: read it where it lies
    except NotImplementedError:
        pass
    path, sha256 = cached_copy(field, sha256=version.checkpoint_sha256)
    if not version.checkpoint_sha256:
        from ..services.catalogue import record_checkpoint_sha256

        record_checkpoint_sha256(version=version, sha256=sha256)
    return path


def cache_folder():
    return Path(settings.RESTYLE_WORKER_CACHE_DIR) / "sha256"


def cached_copy(field, *, sha256=""):
    """(path, sha256): the cached copy of stored file `field`, fetched first if this machine has
    none. With `sha256` known, a cached copy is used without asking the storage anything."""
    folder = cache_folder()
    suffix = PurePosixPath(field.name).suffix
    if sha256:
        cached = folder / f"{sha256}{suffix}"
        if cached.is_file():
            os.utime(cached)  # its last use, for whoever trims the cache
            return cached, sha256
    folder.mkdir(parents=True, exist_ok=True)
    # Fetched beside its final place and renamed into it whole: a job in another process never
    # loads half a file, and two processes fetching at once both end with the same complete one.
    fd, partial = tempfile.mkstemp(dir=folder, prefix=".fetching-", suffix=suffix)
    try:
        digest = hashlib.sha256()
        with os.fdopen(fd, "wb") as out, field.storage.open(field.name, "rb") as src:
            while chunk := src.read(CHUNK):
                digest.update(chunk)
                out.write(chunk)
        actual = digest.hexdigest()
        if sha256 and actual != sha256:
            raise StoredFileCorrupt(f"{field.name} in storage has SHA-256 {actual}, not the stored {sha256}")
        cached = folder / f"{actual}{suffix}"
        os.replace(partial, cached)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    log.info("fetched %s from storage into the worker cache as %s", field.name, cached.name)
    return cached, actual


def file_sha256(fileobj):
    """The SHA-256 (hex) of an open binary file from its start; it is left at its start again."""
    fileobj.seek(0)
    digest = hashlib.sha256()
    while chunk := fileobj.read(CHUNK):
        digest.update(chunk)
    fileobj.seek(0)
    return digest.hexdigest()
