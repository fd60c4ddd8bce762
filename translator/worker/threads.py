"""Torch's thread count in each worker process (RESTYLE_WORKER_TORCH_THREADS).

By default torch runs one thread per core in every process, so N workers on one host run N
threads per core and slow each other down (README: "How many conversion workers per host").
The setting is applied where the jobs run: in each prefork child as it starts
(`worker_process_init`), and in the main process for the threads and solo pools (`worker_init`),
whose jobs run there. A prefork parent runs no job and leaves torch alone, so its children start
from torch's untouched state (inter-op threads may be set once per process, before any parallel
work). OMP_NUM_THREADS and MKL_NUM_THREADS, set beside it in site/Procfile and
site/systemd/worker.env.example, make the native libraries that read them agree.
"""
import logging

from celery.signals import worker_init, worker_process_init
from django.conf import settings

log = logging.getLogger(__name__)


def apply_torch_threads(threads, *, torch=None):
    """Set torch's intra-op and inter-op threads to `threads` (None: leave torch's default) and
    return (intra-op, inter-op) as torch then reports them."""
    if torch is None:
        import torch
    if threads is not None:
        torch.set_num_threads(threads)
        if torch.get_num_interop_threads() != threads:
            try:
                torch.set_num_interop_threads(threads)
            except RuntimeError as exc:
                # Torch allows it once, before any inter-op work; a process that has done some keeps its count.
                log.warning("torch's inter-op threads stay %s: %s", torch.get_num_interop_threads(), exc)
    return torch.get_num_threads(), torch.get_num_interop_threads()


def _apply_and_log(where):
    threads = settings.RESTYLE_WORKER_TORCH_THREADS
    intra, interop = apply_torch_threads(threads)
    source = "RESTYLE_WORKER_TORCH_THREADS" if threads is not None else "torch's default"
    log.info("torch threads in this %s: %s intra-op, %s inter-op (%s)", where, intra, interop, source)


def _runs_jobs_in_main_process(worker):
    from celery.concurrency import get_implementation
    from celery.concurrency.prefork import TaskPool as PreforkPool

    pool = get_implementation(worker.pool_cls)
    return not (isinstance(pool, type) and issubclass(pool, PreforkPool))


@worker_init.connect
def set_threads_of_the_main_process(sender=None, **kwargs):
    """Threads and solo pools: the jobs run in this process."""
    if sender is not None and _runs_jobs_in_main_process(sender):
        _apply_and_log("worker process")


@worker_process_init.connect
def set_threads_of_a_pool_child(**kwargs):
    """Prefork: each child, as it starts (again, after a child is replaced)."""
    _apply_and_log("pool child")
