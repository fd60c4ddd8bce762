"""Celery tasks: thin, idempotent, given ids. The work is in services and mlcore."""
import logging
import time

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from . import inference, services
from .models import Conversion

log = logging.getLogger(__name__)


@shared_task(name="translator.tasks.run_conversion", soft_time_limit=600, time_limit=660)
def run_conversion(conversion_id):
    # mlcore (and torch) load in the worker only; the web process never pays for them.
    from mlcore.checkpoint import CheckpointError
    from mlcore.images import open_image

    worker = run_conversion.request.hostname or ""
    if not services.claim_conversion(conversion_id=conversion_id, worker=worker):
        log.info("conversion %s was already claimed or removed; nothing to do", conversion_id)
        return
    try:
        conversion = Conversion.objects.select_related("model_version", "photo").get(id=conversion_id)
        inferer, load_seconds = inference.inferer_for(conversion.model_version)
        with conversion.photo.image.open("rb") as fh:
            image = open_image(fh)
        started = time.perf_counter()
        result = inferer.translate(image)
        run_seconds = time.perf_counter() - started
        result_bytes, ext = inference.encode_result(result)
        services.finish_conversion(
            conversion_id=conversion_id,
            result_bytes=result_bytes,
            result_ext=ext,
            thumbnail_bytes=inference.encode_thumbnail(result),
            load_seconds=load_seconds,
            run_seconds=run_seconds,
        )
        log.info("conversion %s done in %.2f s (load %.2f s)", conversion_id, run_seconds, load_seconds)
    except Conversion.DoesNotExist:
        log.info("conversion %s was deleted while running", conversion_id)
    except SoftTimeLimitExceeded:
        services.fail_conversion(
            conversion_id=conversion_id, reason="The conversion took too long and was stopped."
        )
    except MemoryError:
        services.fail_conversion(
            conversion_id=conversion_id,
            reason="The image is too large for the worker's memory. Try a smaller photo.",
        )
    except CheckpointError:
        log.exception("conversion %s: the model file did not load", conversion_id)
        services.fail_conversion(
            conversion_id=conversion_id,
            reason="The conversion failed: this model's network file could not be loaded. "
            "Please choose another model; an administrator has to reinstall this one.",
        )
    except Exception as exc:
        # The details (paths, tracebacks) go to the log, not to the user.
        log.exception("conversion %s failed", conversion_id)
        services.fail_conversion(
            conversion_id=conversion_id,
            reason=f"The conversion failed unexpectedly ({type(exc).__name__}). Please try again.",
        )
