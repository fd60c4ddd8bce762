"""The sweeper: a thread in every worker's main process and every web process that settles
what faults leave behind (in the web too, so that jobs end even when no worker is left).

Every RESTYLE_SWEEP_SECONDS it calls services.sweep(): jobs whose lease ran out go back to the
queue (or fail after their last attempt), waiting jobs whose message may be lost get a new one.
Every step is a conditional UPDATE, so any number of sweepers (one per worker, on any host) can
run at once without settling a job twice. It runs once at start, so jobs a crash left behind are
settled as soon as a worker is back.
"""
import logging
import threading

from celery.signals import worker_ready, worker_shutdown
from django.conf import settings
from django.db import close_old_connections, connection

log = logging.getLogger(__name__)

_stop = threading.Event()


def sweep_forever():
    from . import services

    while not _stop.is_set():
        try:
            close_old_connections()
            counts = services.sweep()
            settled = {kind: {k: v for k, v in c.items() if v} for kind, c in counts.items()}
            if any(settled.values()):
                log.info("sweep: %s", {k: v for k, v in settled.items() if v})
        except Exception:  # the database may be away for a moment: try again next time
            log.warning("sweep failed", exc_info=True)
        finally:
            connection.close()
        _stop.wait(settings.RESTYLE_SWEEP_SECONDS)


@worker_ready.connect
def start(sender=None, **kwargs):
    """Start sweeping in this process (a Celery worker when it is ready; gunicorn's
    post_worker_init hook for the web processes)."""
    if settings.RESTYLE_SWEEP_SECONDS <= 0:
        return
    _stop.clear()
    threading.Thread(target=sweep_forever, name="sweeper", daemon=True).start()
    log.info("sweeper started (every %g s)", settings.RESTYLE_SWEEP_SECONDS)


@worker_shutdown.connect
def stop(sender=None, **kwargs):
    _stop.set()
