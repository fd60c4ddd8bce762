"""The device this worker runs networks on (RESTYLE_WORKER_DEVICE), checked when it starts.

A worker told `cuda` on a machine where PyTorch sees no GPU, or told `cuda:2` where there are two,
refuses to start and says why, instead of failing every job it takes (or, worse, taking GPU jobs
it would run on nothing). A worker whose queues hold jobs its device cannot run (a `.gpu` queue on
a CPU worker, named with `-Q`) refuses too: a job that asked for a GPU never runs on a CPU.
"""
import functools
import logging
import sys

from celery.signals import worker_init
from django.conf import settings

from config import queues

log = logging.getLogger(__name__)


class DeviceUnavailable(Exception):
    """The configured device is not there; the message says what to change."""


def check_device(device, *, cuda=None):
    """Raise DeviceUnavailable unless `device` can be used here. `cuda` is torch.cuda (a test
    may pass a stand-in for a machine it is not on)."""
    if not device.startswith("cuda"):
        return
    if cuda is None:
        import torch

        cuda = torch.cuda
    if not cuda.is_available():
        raise DeviceUnavailable(
            f"RESTYLE_WORKER_DEVICE is {device!r}, but PyTorch sees no CUDA GPU on this machine "
            f"(torch.cuda.is_available() is False). Run this worker on a GPU host, or set "
            f"RESTYLE_WORKER_DEVICE=cpu to serve the CPU queues."
        )
    index = int(device.split(":")[1]) if ":" in device else 0
    count = cuda.device_count()
    if index >= count:
        raise DeviceUnavailable(
            f"RESTYLE_WORKER_DEVICE is {device!r}, but this machine has {count} CUDA GPU(s) "
            f"(cuda:0 to cuda:{count - 1}). Name one of them."
        )


def check_queues(consumed, device):
    """Raise DeviceUnavailable if any queue in `consumed` is unknown or needs a device class
    that `device` lacks."""
    served = queues.queues_served_by(device)
    for name in consumed:
        if name not in queues.QUEUES:
            raise DeviceUnavailable(
                f"This worker was told to consume {name!r}, which is not a Restyle queue "
                f"({', '.join(queues.QUEUES)}). Name its queues with RESTYLE_WORKER_QUEUES rather than -Q."
            )
        if name not in served:
            raise DeviceUnavailable(
                f"{name} holds jobs that need a GPU, and this worker's device is {device} "
                "(RESTYLE_WORKER_DEVICE). Serve it from a worker with a GPU."
            )


@functools.cache
def description():
    """What a job's page says it ran on: `cpu`, or `cuda:0 (NVIDIA H200)`."""
    device = settings.RESTYLE_WORKER_DEVICE
    if not device.startswith("cuda"):
        return device
    import torch

    index = int(device.split(":")[1]) if ":" in device else torch.cuda.current_device()
    return f"cuda:{index} ({torch.cuda.get_device_name(index)})"


@worker_init.connect
def refuse_a_device_it_lacks(sender=None, **kwargs):
    """Runs as the worker starts, once its queues are chosen (RESTYLE_WORKER_QUEUES or -Q)."""
    device = settings.RESTYLE_WORKER_DEVICE
    consumed = sorted(sender.app.amqp.queues.consume_from) if sender is not None else []
    try:
        check_device(device)
        check_queues(consumed, device)
    except DeviceUnavailable as exc:
        log.critical("the worker does not start: %s", exc)
        # SystemExit passes through Celery's signal dispatch (which logs and swallows Exceptions).
        sys.exit(f"celery worker: {exc}")
    log.info("worker device %s, queues %s", description(), ", ".join(consumed))
