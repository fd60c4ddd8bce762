"""Atomic file writes: readers see the old file or the new one, never half of one.

The bytes go to a temporary file in the destination's folder (``.NAME.<random>.tmp``: hidden
and with a suffix no reader looks for), are flushed and fsynced, and the file then takes its
real name with ``os.replace``. A process killed at any point leaves the previous file intact;
at worst a stray temporary file stays behind (``remove_stale_temp_files`` clears them).
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

__all__ = ["atomic_write", "atomic_write_bytes", "atomic_write_json", "is_temp_file",
           "remove_stale_temp_files"]

log = logging.getLogger(__name__)

_TEMP_SUFFIX = ".tmp"


def atomic_write(path: str | os.PathLike, write: Callable[[BinaryIO], None]) -> Path:
    """Call ``write(handle)`` on a temporary file, then move it to ``path``; returns ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}{_TEMP_SUFFIX}")
    try:
        # Plain open() so the file gets the usual umask permissions (mkstemp makes 0600 files a
        # web server may not be able to read).
        with open(tmp, "xb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())  # on disk before it takes the real name
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_folder(path.parent)
    return path


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    return atomic_write(path, lambda handle: handle.write(data))


def atomic_write_json(path: str | os.PathLike, data: Any) -> Path:
    text = json.dumps(data, indent=2, sort_keys=True) + "\n"
    return atomic_write_bytes(path, text.encode("utf-8"))


def is_temp_file(path: str | os.PathLike) -> bool:
    name = Path(path).name
    return name.startswith(".") and name.endswith(_TEMP_SUFFIX)


def remove_stale_temp_files(folder: str | os.PathLike) -> list[Path]:
    """Delete temporary files left in ``folder`` by a killed writer. Call it only when no other
    process writes there (a run folder is used by one trainer at a time)."""
    folder = Path(folder)
    removed = [p for p in folder.glob(f".*{_TEMP_SUFFIX}") if p.is_file()] if folder.is_dir() else []
    for stale in removed:
        stale.unlink(missing_ok=True)
        log.info("removed %s, left by an interrupted write", stale)
    return removed


def _fsync_folder(folder: Path) -> None:
    # Makes the rename itself durable; not every platform can open a folder, which is fine.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
