"""The networks a worker process has loaded, kept between jobs: one cache for every kind
(Inferers for conversions, generators for generations), least recently used dropped first
beyond RESTYLE_INFERER_CACHE_SIZE, emptied whole when memory runs out."""
import threading
import time
from collections import OrderedDict

from django.conf import settings

from .checkpoints import local_checkpoint

_cache = OrderedDict()  # (kind, version id, checkpoint name) -> loaded network
_lock = threading.Lock()


def loaded(version, *, kind, load):
    """The network of a ModelVersion loaded by `load(local path)`, and the seconds loading took
    (0 when it was cached). `kind` keeps different loads of one version apart."""
    key = (kind, version.pk, version.checkpoint.name)
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key], 0.0
        started = time.perf_counter()
        with local_checkpoint(version) as path:  # held in the worker cache while it loads
            network = load(path)
        _cache[key] = network
        while len(_cache) > max(1, settings.RESTYLE_INFERER_CACHE_SIZE):
            _cache.popitem(last=False)
        return network, time.perf_counter() - started


def forget_all():
    """Drop every loaded network (after a failed allocation, and between tests)."""
    with _lock:
        _cache.clear()
