"""Celery tasks: thin, idempotent, given ids. The work is in services and in translator.worker
(the one package that runs mlcore)."""
import logging
import time

from celery import shared_task
from django.conf import settings
from celery.exceptions import SoftTimeLimitExceeded

from . import services, sweeper  # noqa: F401  (sweeper: starts with the worker)
from .models import Conversion
from .worker import device, generation, inference, threads, training_runs  # noqa: F401  (device, threads: act as the worker starts)

log = logging.getLogger(__name__)

CANCEL_POLL_SECONDS = 1.0


@shared_task(name="translator.tasks.run_conversion", soft_time_limit=3600, time_limit=3660)
def run_conversion(conversion_id):
    """Convert one photo. The message only wakes the worker: the job is whatever its row says,
    taken with a claim (a second message, or a second worker, finds it taken and does nothing)
    and held with a lease that a thread renews while the network runs."""
    worker = run_conversion.request.hostname or ""
    claim = services.claim_conversion(conversion_id=conversion_id, worker=worker, worker_device=device.description())
    if claim is None:
        log.info("conversion %s was already claimed, cancelled or removed; nothing to do", conversion_id)
        return
    every = settings.RESTYLE_JOB_LEASE_SECONDS / 3
    with services.keep_lease(lambda: services.renew_lease(claim=claim), every=every) as lost:
        _convert(claim, lost)


def _convert(claim, lease_lost):
    conversion_id = claim.pk
    try:
        conversion = Conversion.objects.select_related(
            "art_model", "model_version", "photo", "style_image"
        ).get(id=conversion_id)
        outcome = inference.convert(
            conversion,
            report=lambda progress, detail, jpeg: services.record_progress(
                claim=claim, progress=progress, detail=detail, intermediate_jpeg=jpeg
            ),
            should_stop=_stop_poller(claim, lease_lost),
        )
        if outcome is None:
            services.mark_cancelled(claim=claim)
            log.info("conversion %s cancelled", conversion_id)
            return
        result_bytes, ext = inference.encode_result(outcome.image)
        done = services.finish_conversion(
            claim=claim,
            result_bytes=result_bytes,
            result_ext=ext,
            thumbnail_bytes=inference.encode_thumbnail(outcome.image),
            load_seconds=outcome.load_seconds,
            run_seconds=outcome.run_seconds,
            label=outcome.label,
            latent_bytes=outcome.latent,
            result_size=outcome.image.size,
            checkpoint_sha256=outcome.checkpoint_sha256,
            run_settings=outcome.run_settings,
        )
        if done:
            log.info("conversion %s done in %.2f s (load %.2f s, attempt %d)", conversion_id,
                     outcome.run_seconds, outcome.load_seconds, claim.attempt)
        else:
            log.info("conversion %s was cancelled, deleted or taken over meanwhile; result dropped", conversion_id)
    except Conversion.DoesNotExist:
        log.info("conversion %s was deleted while running", conversion_id)
    except SoftTimeLimitExceeded:
        services.fail_conversion(claim=claim, reason="The conversion took too long and was stopped.")
    except Exception as exc:
        reason = inference.failure_reason(exc, conversion_id=conversion_id)
        if reason is None:
            # The details (paths, tracebacks) go to the log, not to the user.
            log.exception("conversion %s failed", conversion_id)
            reason = f"The conversion failed unexpectedly ({type(exc).__name__}). Please try again."
        services.fail_conversion(claim=claim, reason=reason)


def _stop_poller(claim, lease_lost):
    """should_stop for slow jobs: a lost lease at once, a cancel asked in the database at most
    once a second."""
    last = {"at": 0.0, "answer": False}

    def should_stop():
        if lease_lost.is_set():
            return True
        now = time.monotonic()
        if now - last["at"] >= CANCEL_POLL_SECONDS:
            last["at"], last["answer"] = now, services.cancel_requested(claim=claim)
        return last["answer"]

    return should_stop


@shared_task(name="translator.tasks.run_generation", soft_time_limit=600, time_limit=660)
def run_generation(generation_id):
    """Make one generated image (a seed's, or a style mix). Claimed and leased like a conversion:
    a second message or a second worker finds it taken; a worker that lost its lease stores nothing."""
    from .models import Generation

    claim = services.claim_generation(
        generation_id=generation_id, worker=run_generation.request.hostname or "", worker_device=device.description()
    )
    if claim is None:
        log.info("generation %s was already claimed or removed; nothing to do", generation_id)
        return
    every = settings.RESTYLE_JOB_LEASE_SECONDS / 3
    with services.keep_lease(lambda: services.renew_generation_lease(claim=claim), every=every):
        try:
            row = Generation.objects.select_related(
                "model_version__art_model", "source_a_generation", "source_b_generation",
                "source_a_conversion", "source_b_conversion",
            ).get(pk=generation_id)
            made = generation.make(row)
            done = services.finish_generation(
                claim=claim,
                png_bytes=generation.encode_png(made.image),
                thumbnail_bytes=inference.encode_thumbnail(made.image),
                latent_bytes=generation.encode_latent(
                    made.ws, model_version=row.model_version_id, kind=row.kind, seed=row.seed,
                    truncation=row.truncation, noise_mode=row.noise_mode, layers=row.layers,
                ),
                side=made.image.width, load_seconds=made.load_seconds, run_seconds=made.run_seconds,
            )
            if done is None:
                log.info("generation %s was cancelled, deleted or taken over meanwhile; its image is dropped", generation_id)
        except Generation.DoesNotExist:
            log.info("generation %s was deleted while running", generation_id)
        except SoftTimeLimitExceeded:
            services.fail_generation(claim=claim, reason="Making this image took too long and was stopped.")
        except Exception as exc:
            reason = generation.failure_reason(exc, generation_id=generation_id)
            if reason is None:
                log.exception("generation %s failed", generation_id)
                reason = f"Making this image failed unexpectedly ({type(exc).__name__}). Please try again."
            services.fail_generation(claim=claim, reason=reason)


@shared_task(name="translator.tasks.check_dataset")
def check_dataset(dataset_id):
    """Unpack and check a dataset (minutes for a big one): on the slow queue, under a claim."""
    from .models import Dataset

    claim = services.claim_dataset_check(dataset_id=dataset_id)
    if claim is None:
        log.info("dataset %s is not waiting for a check; nothing to do", dataset_id)
        return
    every = settings.RESTYLE_JOB_LEASE_SECONDS / 3
    with services.keep_lease(lambda: services.renew_dataset_lease(claim=claim), every=every):
        try:
            services.check_dataset(dataset_id=dataset_id, claim=claim)
        except Dataset.DoesNotExist:
            log.info("dataset %s was deleted before its check", dataset_id)
        except Exception as exc:
            log.exception("checking dataset %s failed", dataset_id)
            services.fenced(Dataset, claim, Dataset.Status.CHECKING).update(
                status=Dataset.Status.INVALID, lease_expires_at=None,
                problems=[f"The check failed unexpectedly ({type(exc).__name__}: {exc})."],
            )


@shared_task(name="translator.tasks.run_training")
def run_training(run_id):
    """Train (or resume) one run on the training queue. Idempotent: it claims the run first."""
    from .models import TrainingRun

    claim = services.claim_run(run_id=run_id, worker=run_training.request.hostname or "", worker_device=device.description())
    if claim is None:
        log.info("training run %s was already claimed, stopped or removed; nothing to do", run_id)
        return
    run = TrainingRun.objects.select_related("dataset").get(pk=run_id)
    with training_runs.run_log(run), training_runs.heartbeat(claim) as lease_lost:
        stop = training_runs.StopPoll(claim, lease_lost)
        try:
            result = training_runs.train(run, on_progress=training_runs.report_progress(claim), should_stop=stop)
            if lease_lost.is_set():
                training_runs.log.warning("run %s was taken from this worker at step %d; it writes nothing more", run_id, result.step)
            elif result.status == "completed":
                version = services.finish_run(claim=claim, result=result)
                training_runs.log.info("run %s succeeded: %s (unpublished)", run_id, version)
            elif stop.timed_out:
                services.fail_run(
                    claim=claim,
                    reason=f"The run reached its time limit ({settings.RESTYLE_TRAINING_TIME_LIMIT_HOURS:g} h) at "
                    f"step {result.step}; resume it to continue from there.",
                )
            else:
                services.run_stopped(claim=claim, step=result.step)
                training_runs.log.info("run %s stopped at step %d; checkpoint %s", run_id, result.step, result.checkpoint_path)
        except Exception as exc:
            training_runs.log.exception("run %s failed", run_id)
            services.fail_run(claim=claim, reason=f"{type(exc).__name__}: {exc}")


# --- exports of a version's network (ONNX, TorchScript) -----------------------------------------


@shared_task(name="translator.tasks.export_model_version", soft_time_limit=1800, time_limit=1860)
def export_model_version(export_id):
    """Export one version's network (the admin asked for it). Claimed and leased like a
    conversion: a second message or a second worker finds it taken; a worker that lost its lease
    stores nothing. mlcore checks the file against eager PyTorch before it is kept."""
    from .models import ModelExport
    from .services import exports
    from .worker import export

    claim = exports.claim_export(export_id=export_id, worker=export_model_version.request.hostname or "")
    if claim is None:
        log.info("export %s was already claimed or removed; nothing to do", export_id)
        return
    every = settings.RESTYLE_JOB_LEASE_SECONDS / 3
    with services.keep_lease(lambda: exports.renew_export_lease(claim=claim), every=every):
        try:
            row = ModelExport.objects.select_related("version__art_model").get(pk=export_id)
            with export.exported(row) as report:
                done = exports.finish_export(claim=claim, path=report.path, mae=report.mae,
                                             max_abs=report.max_abs, seconds=report.seconds)
            if done is None:
                log.info("export %s was deleted or taken over meanwhile; its file is dropped", export_id)
        except ModelExport.DoesNotExist:
            log.info("export %s was deleted while running", export_id)
        except SoftTimeLimitExceeded:
            exports.fail_export(claim=claim, reason="The export took too long and was stopped.")
        except Exception as exc:
            reason = export.failure_reason(exc, export_id=export_id)
            if reason is None:
                log.exception("export %s failed", export_id)
                reason = f"The export failed unexpectedly ({type(exc).__name__}). Please try again."
            exports.fail_export(claim=claim, reason=reason)


@shared_task(name="translator.tasks.send_webhook", soft_time_limit=120, time_limit=150)
def send_webhook(delivery_id):
    """One attempt at a webhook delivery. The row is the job: the service claims it first (a
    second message finds it taken, or not yet due, and does nothing) and schedules its retry."""
    row = services.attempt_delivery(delivery_id=delivery_id)
    if row is None:
        log.info("webhook delivery %s is not due or is being sent elsewhere; nothing to do", delivery_id)
