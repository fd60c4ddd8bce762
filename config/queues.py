"""Celery queue names: the kind of work and the device class it needs, e.g. `conversions.gpu`.

Plain Python (settings read it before Django is set up, and it imports no torch):

- device classes: `cpu` (a CPU is enough: any worker may take it) and `gpu` (needs a GPU);
- kinds: `conversions` (feed-forward networks, seconds), `slow` (Gatys optimisation and dataset
  checks, minutes on a CPU, so they never hold up conversions) and `training` (hours);
- a worker's device (`cpu`, `cuda`, `cuda:1`) decides which queues it may serve: a CPU worker
  the `.cpu` queues only, a GPU worker every queue (a job that a CPU is enough for runs on a
  GPU too), so a job asking for a GPU reaches only a worker that has one.
"""
import re

CPU, GPU = "cpu", "gpu"
DEVICE_CLASSES = (CPU, GPU)
KINDS = ("conversions", "slow", "training")
QUEUES = tuple(f"{kind}.{device_class}" for device_class in DEVICE_CLASSES for kind in KINDS)

_DEVICE = re.compile(r"^(cpu|cuda(:\d+)?)$")


def queue_name(kind, device_class):
    if kind not in KINDS:
        raise ValueError(f"unknown kind of job {kind!r}; kinds are {', '.join(KINDS)}")
    if device_class not in DEVICE_CLASSES:
        raise ValueError(f"unknown device class {device_class!r}; classes are {', '.join(DEVICE_CLASSES)}")
    return f"{kind}.{device_class}"


def device_class_of_queue(queue):
    """The device class a queue's jobs need; ValueError for a name that is not one of QUEUES."""
    if queue not in QUEUES:
        raise ValueError(f"{queue!r} is not a Restyle queue; the queues are {', '.join(QUEUES)}")
    return queue.rsplit(".", 1)[1]


def parse_device(value):
    """A worker's torch device as written in its settings: `cpu`, `cuda` or `cuda:N`."""
    device = (value or "").strip().lower()
    if not _DEVICE.match(device):
        raise ValueError(f"must be cpu, cuda or cuda:N (a GPU's index), not {value!r}")
    return device


def device_class_of_device(device):
    """`cpu` for a CPU, `gpu` for `cuda` or `cuda:N` (also accepts the class names themselves)."""
    device = (device or "").strip().lower()
    if device in DEVICE_CLASSES:
        return device
    return GPU if parse_device(device).startswith("cuda") else CPU


def classes_served_by(device):
    """The device classes a worker on `device` may run: a GPU worker runs CPU-class jobs too."""
    return DEVICE_CLASSES if device_class_of_device(device) == GPU else (CPU,)


def queues_served_by(device, kinds=KINDS):
    """Every queue of `kinds` a worker on `device` may serve."""
    return tuple(queue_name(kind, c) for c in classes_served_by(device) for kind in kinds)


def worker_queues(spec, device):
    """The queues a worker consumes, from its RESTYLE_WORKER_QUEUES (`spec`, comma-separated) and
    its device. Empty: every queue the device may serve. A bare kind (`conversions`) means that
    kind's queues of every class the device may serve; a full name (`conversions.gpu`) is taken
    as it is, and must be one the device may serve. ValueError says what is wrong."""
    names = [item.strip() for item in (spec or "").split(",") if item.strip()]
    if not names:
        return queues_served_by(device)
    queues = []
    for name in names:
        if name in KINDS:
            expanded = queues_served_by(device, kinds=(name,))
        elif name in QUEUES:
            if device_class_of_queue(name) not in classes_served_by(device):
                raise ValueError(
                    f"{name} holds jobs that need a GPU, and this worker's device is {device}; "
                    "serve it from a worker whose RESTYLE_WORKER_DEVICE is cuda"
                )
            expanded = (name,)
        else:
            raise ValueError(f"{name!r} is not a queue or a kind of job; use one of {', '.join(KINDS + QUEUES)}")
        queues += [q for q in expanded if q not in queues]
    return tuple(queues)
