"""Celery tasks: thin, idempotent, given ids. The work is in services and mlcore."""
import logging
import time

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from . import inference, services
from .models import Conversion, Family

log = logging.getLogger(__name__)

CANCEL_POLL_SECONDS = 1.0


@shared_task(name="translator.tasks.run_conversion", soft_time_limit=3600, time_limit=3660)
def run_conversion(conversion_id):
    # mlcore (and torch) load in the worker only; the web process never pays for them.
    from mlcore.checkpoint import CheckpointError
    from mlcore.vgg import MissingVGGWeightsError

    worker = run_conversion.request.hostname or ""
    if not services.claim_conversion(conversion_id=conversion_id, worker=worker):
        log.info("conversion %s was already claimed, cancelled or removed; nothing to do", conversion_id)
        return
    try:
        conversion = Conversion.objects.select_related(
            "art_model", "model_version", "photo", "style_image"
        ).get(id=conversion_id)
        if conversion.art_model.family == Family.GATYS:
            outcome = inference.paint_with_gatys(
                conversion,
                report=lambda progress, detail, jpeg: services.record_progress(
                    conversion_id=conversion_id, progress=progress, detail=detail, intermediate_jpeg=jpeg
                ),
                should_stop=_cancel_poller(conversion_id),
            )
        else:
            outcome = inference.translate_photo(conversion)
        if outcome is None:
            services.mark_cancelled(conversion_id=conversion_id)
            log.info("conversion %s cancelled", conversion_id)
            return
        result_bytes, ext = inference.encode_result(outcome.image)
        services.finish_conversion(
            conversion_id=conversion_id,
            result_bytes=result_bytes,
            result_ext=ext,
            thumbnail_bytes=inference.encode_thumbnail(outcome.image),
            load_seconds=outcome.load_seconds,
            run_seconds=outcome.run_seconds,
            label=outcome.label,
        )
        log.info("conversion %s done in %.2f s (load %.2f s)", conversion_id, outcome.run_seconds, outcome.load_seconds)
    except Conversion.DoesNotExist:
        log.info("conversion %s was deleted while running", conversion_id)
    except SoftTimeLimitExceeded:
        services.fail_conversion(conversion_id=conversion_id, reason="The conversion took too long and was stopped.")
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
    except MissingVGGWeightsError:
        log.exception("conversion %s: no VGG19 weights on this worker", conversion_id)
        services.fail_conversion(
            conversion_id=conversion_id,
            reason="This model is not set up on the server yet (its VGG19 loss network is missing). "
            "An administrator has to provide RESTYLE_VGG19_WEIGHTS.",
        )
    except Exception as exc:
        # The details (paths, tracebacks) go to the log, not to the user.
        log.exception("conversion %s failed", conversion_id)
        services.fail_conversion(
            conversion_id=conversion_id,
            reason=f"The conversion failed unexpectedly ({type(exc).__name__}). Please try again.",
        )


def _cancel_poller(conversion_id):
    """should_stop for slow jobs: asks the database at most once a second."""
    last = {"at": 0.0, "answer": False}

    def should_stop():
        now = time.monotonic()
        if now - last["at"] >= CANCEL_POLL_SECONDS:
            last["at"], last["answer"] = now, services.cancel_requested(conversion_id=conversion_id)
        return last["answer"]

    return should_stop
