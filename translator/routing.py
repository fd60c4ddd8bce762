"""Which queue a job goes to, and which jobs this process's worker may take (config/queues.py
names the queues: the kind of work, then the device class it needs)."""
from django.conf import settings

from config import queues

from .models import SLOW_FAMILIES, DeviceClass


def version_device_class(version):
    """What a conversion with `version` needs: the version's own class, else its family's default
    (RESTYLE_FAMILY_DEVICE_CLASSES), else a CPU."""
    if version.device_class:
        return version.device_class
    return settings.RESTYLE_FAMILY_DEVICE_CLASSES.get(version.art_model.family, DeviceClass.CPU)


def conversion_queue(*, art_model, version):
    kind = "slow" if art_model.family in SLOW_FAMILIES else "conversions"
    return queues.queue_name(kind, version_device_class(version))


def generation_queue(*, version):
    """A generated image is one pass of the network (a second on a CPU), not an optimisation: it
    goes to the conversions queue of its version's device class, even for a family whose photo
    projections are slow jobs."""
    return queues.queue_name("conversions", version_device_class(version))


def training_queue(*, device_class):
    return queues.queue_name("training", device_class)


def needs_gpu(queue):
    return queues.device_class_of_queue(queue) == queues.GPU


def runnable_queues():
    """The queues whose jobs this worker may claim, by its device: a CPU worker never claims a
    job that asked for a GPU, even when a message for one reaches it (a worker started with -Q)."""
    return queues.queues_served_by(settings.RESTYLE_WORKER_DEVICE)
