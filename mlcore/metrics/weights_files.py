"""Finding a metric network's published weights file: a local file, torch hub's cache, a download.

The same order as ``mlcore.vgg`` uses for the VGG weights, first found wins:
1. a path given by the caller, or the file's environment variable (``RESTYLE_..._WEIGHTS``);
2. torch hub's cache (``$TORCH_HOME/hub/checkpoints/<name>``), under any of the names the file
   is published as;
3. a download of the published URL into that cache, unless ``download=False`` or
   ``RESTYLE_OFFLINE=1``.
When none works, ``MetricUnavailable`` says which file to fetch, from where, and which variable
to point at it, in one line. A metric is never computed from anything else.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

__all__ = ["MetricUnavailable", "PublishedWeights", "find_weights", "hub_checkpoints"]

log = logging.getLogger(__name__)


class MetricUnavailable(RuntimeError):
    """A metric's network weights are neither on this machine nor downloadable: no number."""


@dataclass(frozen=True)
class PublishedWeights:
    """One published weights file and how mlcore finds it."""

    what: str  # for messages: "the FID Inception weights"
    url: str  # where a download fetches it from
    env_var: str  # the local-file setting
    sha256: str  # the published file's SHA-256, or a prefix of it (torch hub's file-name convention)
    cache_name: str  # the name in torch hub's cache
    other_names: tuple[str, ...] = ()  # other published names of the same file, also looked for in the cache
    also_from: str = ""  # another way to get it, for the message

    def how_to(self) -> str:
        other = f" ({self.also_from})" if self.also_from else ""
        return (f"download {self.url}{other} on a machine that is online and name the file with the "
                f"environment variable {self.env_var} (or the loader's argument), or put it in "
                f"{hub_checkpoints() / self.cache_name}")


def hub_checkpoints() -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints"


def find_weights(
    source: PublishedWeights, *, path: str | os.PathLike | None = None, download: bool = True,
    downloader: Callable[[str, str], None] | None = None,
) -> Path:
    """The local file of ``source`` (see the module docstring), or ``MetricUnavailable``."""
    for given, origin in ((path, "the given path"), (os.environ.get(source.env_var), source.env_var)):
        if given:
            file = Path(given).expanduser()
            if not file.is_file():
                raise MetricUnavailable(
                    f"{source.what}: {origin} names {file}, which is not a file; {source.how_to()}")
            return file
    for name in (source.cache_name, *source.other_names):
        cached = hub_checkpoints() / name
        if cached.is_file():
            return cached
    cached = hub_checkpoints() / source.cache_name
    if not download or os.environ.get("RESTYLE_OFFLINE", "") not in ("", "0"):
        why = "downloads are switched off" + (" (RESTYLE_OFFLINE)" if download else "")
    else:
        try:
            why = _download(source, cached, downloader)
        except Exception as exc:  # offline, proxy, disk: all mean "not here", said below
            why = f"the download failed ({type(exc).__name__}: {exc})"
        if not why:
            return cached
    raise MetricUnavailable(
        f"{source.what} ({source.cache_name}) are not on this machine and {why}; {source.how_to()}")


def _download(source: PublishedWeights, cached: Path, downloader: Callable[[str, str], None] | None) -> str:
    """Fetch ``source`` into ``cached``; '' when it is there and verified, else why not."""
    cached.parent.mkdir(parents=True, exist_ok=True)
    partial = cached.with_name(cached.name + ".partial")
    log.info("downloading %s to %s", source.url, cached)
    (downloader or torch.hub.download_url_to_file)(source.url, str(partial))
    if not partial.is_file():
        return "the download produced no file"
    digest = _sha256(partial)
    if not digest.startswith(source.sha256):
        partial.unlink()
        return f"the downloaded file is not the published one (SHA-256 {digest[:12]}..., expected {source.sha256[:12]}...)"
    os.replace(partial, cached)  # only a verified file ever carries the cache name
    return ""


def _sha256(file: Path) -> str:
    h = hashlib.sha256()
    with open(file, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
