"""The sweeper settles what faults leave behind, every RESTYLE_SWEEP_SECONDS (services.sweep():
jobs whose lease ran out go back to the queue or fail after their last attempt; waiting jobs
whose message may be lost get a new one). Every step is a conditional UPDATE, so any number of
sweepers, on any hosts, can run at once without settling a job twice.

One runs beside every Celery worker and in every web process, so that jobs end even when no
worker of their queue is left:
- beside a worker, as a process of its own (`manage.py sweep --forever`), never as a thread in
  the worker: a prefork pool forks new children from the worker's main process at any moment
  (and a training run's data loader forks too), and a child forked while another thread holds a
  lock (SQLite's, say) waits on that lock for ever. The process ends with its worker.
- in a web process, as a thread: gunicorn forks its processes from a master that runs none.
It runs once at start, so jobs a crash left behind are settled as soon as anything is back.
"""
import logging
import os
import subprocess
import sys
import threading

from celery.signals import worker_ready, worker_shutdown
from django.conf import settings
from django.db import close_old_connections, connection

log = logging.getLogger(__name__)

_stop = threading.Event()
_process = None


def sweep_once():
    from . import services
    from .services.exports import sweep_exports

    try:
        close_old_connections()
        counts = {**services.sweep(), "exports": sweep_exports()}
        settled = {kind: {k: v for k, v in c.items() if v} for kind, c in counts.items()}
        if any(settled.values()):
            log.info("sweep: %s", {k: v for k, v in settled.items() if v})
        return counts
    except Exception:  # the database may be away for a moment: try again next time
        log.warning("sweep failed", exc_info=True)
    finally:
        connection.close()


def sweep_forever(*, alive=lambda: True):
    """Sweep until stopped, or until `alive()` says the process we serve is gone."""
    while not _stop.is_set() and alive():
        sweep_once()
        _stop.wait(settings.RESTYLE_SWEEP_SECONDS)


def start():
    """In a web process: sweep in a thread (gunicorn's post_worker_init hook calls this)."""
    if settings.RESTYLE_SWEEP_SECONDS <= 0:
        return
    _stop.clear()
    threading.Thread(target=sweep_forever, name="sweeper", daemon=True).start()
    log.info("sweeper thread started (every %g s)", settings.RESTYLE_SWEEP_SECONDS)


@worker_ready.connect
def start_beside_worker(sender=None, **kwargs):
    global _process
    if settings.RESTYLE_SWEEP_SECONDS <= 0:
        return
    _process = subprocess.Popen(
        [sys.executable, str(settings.BASE_DIR / "manage.py"), "sweep", "--forever", "--parent", str(os.getpid())],
        cwd=settings.BASE_DIR,
    )
    log.info("sweeper process %d started (every %g s)", _process.pid, settings.RESTYLE_SWEEP_SECONDS)


@worker_shutdown.connect
def stop(sender=None, **kwargs):
    _stop.set()
    if _process is not None and _process.poll() is None:
        _process.terminate()
