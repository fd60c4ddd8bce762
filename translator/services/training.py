"""Training runs: a state machine (created, queued, running, succeeded, failed, cancelling,
cancelled) driven by admin actions and by the training task, and the model versions they make.

Every transition is a conditional UPDATE on the current state, so two clicks, two workers or a
click racing a worker can never both win: starting twice starts one run.
"""
import logging
import shutil
from datetime import timedelta

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.utils import timezone

from ..models import ArtModel, Dataset, ModelVersion, TrainingRun
from .errors import ServiceError

log = logging.getLogger(__name__)

Status = TrainingRun.Status


def training_config_class(family):
    from mlcore.registry import get_family

    return get_family(family).training.config_class


def create_run(*, name, family, dataset, config, device="cpu", precision="fp32", seed=0, art_model=None, created_by=None):
    """A new run (status created). `config` is the family's mlcore training config object."""
    if dataset.family != family:
        raise ServiceError(f"The dataset “{dataset}” is for {dataset.get_family_display()}, not this family.")
    if dataset.status != Dataset.Status.READY:
        raise ServiceError(f"The dataset “{dataset}” is not ready ({dataset.get_status_display().lower()}).")
    if art_model is not None and art_model.family != family:
        raise ServiceError(f"“{art_model}” is a {art_model.get_family_display()} model.")
    if device not in settings.RESTYLE_TRAINING_DEVICES:
        raise ServiceError(f"Device {device!r} is not one of {', '.join(settings.RESTYLE_TRAINING_DEVICES)}.")
    return TrainingRun.objects.create(
        name=name, family=family, dataset=dataset, config=config.to_dict(), device=device,
        precision=precision, seed=seed, art_model=art_model, total_steps=int(config.steps),
        created_by=created_by,
    )


def start_run(*, run):
    """Queue a new run, or resume a stopped or failed one from its last checkpoint."""
    startable = (Status.CREATED, Status.CANCELLED, Status.FAILED)
    if not TrainingRun.objects.filter(pk=run.pk, status__in=startable).update(
        status=Status.QUEUED, error="", finished_at=None
    ):
        run.refresh_from_db(fields=["status"])
        raise ServiceError(f"“{run}” is {run.get_status_display().lower()}; it cannot be started now.")
    transaction.on_commit(lambda: enqueue_run(run_id=run.pk))
    run.refresh_from_db()
    return run


def enqueue_run(*, run_id):
    from ..tasks import run_training

    try:
        run_training.apply_async(args=[run_id], queue="training", retry=True)
    except Exception:
        log.exception("could not enqueue training run %s", run_id)
        fail_run(run_id=run_id, reason="The training service is unavailable; start the run again once it is back.")


def stop_run(*, run):
    """A queued run is cancelled at once; a running one is asked to stop at its next step (it
    saves a checkpoint, so it can be resumed)."""
    if TrainingRun.objects.filter(pk=run.pk, status=Status.QUEUED).update(
        status=Status.CANCELLED, finished_at=timezone.now()
    ) or TrainingRun.objects.filter(pk=run.pk, status=Status.RUNNING).update(status=Status.CANCELLING):
        run.refresh_from_db()
        return run
    run.refresh_from_db(fields=["status"])
    raise ServiceError(f"“{run}” is {run.get_status_display().lower()}; there is nothing to stop.")


def clone_run(*, run, created_by=None):
    """A new run with the same family, dataset and settings, ready to start."""
    return TrainingRun.objects.create(
        name=f"{run.name} (copy)"[:100], family=run.family, dataset=run.dataset, config=run.config,
        device=run.device, precision=run.precision, seed=run.seed, art_model=run.art_model,
        total_steps=run.total_steps, created_by=created_by,
    )


# --- what the training task reports -----------------------------------------------------------


def claim_run(*, run_id, worker=""):
    now = timezone.now()
    claimed = TrainingRun.objects.filter(pk=run_id, status=Status.QUEUED).update(
        status=Status.RUNNING, worker=worker[:200], heartbeat_at=now
    )
    if claimed:
        TrainingRun.objects.filter(pk=run_id, started_at__isnull=True).update(started_at=now)
    return bool(claimed)


def record_run_progress(*, run_id, progress):
    """`progress` is an mlcore.engine.Progress."""
    TrainingRun.objects.filter(pk=run_id, status__in=[Status.RUNNING, Status.CANCELLING]).update(
        step=progress.step,
        total_steps=progress.total_steps,
        images_per_second=progress.images_per_second,
        eta_seconds=progress.eta_seconds,
        metrics={k: float(v) for k, v in (progress.metrics or {}).items()},
        labels=list(progress.labels),
        heartbeat_at=timezone.now(),
    )


def beat(*, run_id):
    TrainingRun.objects.filter(pk=run_id, status__in=[Status.RUNNING, Status.CANCELLING]).update(
        heartbeat_at=timezone.now()
    )


def stop_requested(*, run_id):
    return not TrainingRun.objects.filter(pk=run_id, status=Status.RUNNING).exists()


def run_stopped(*, run_id, step):
    TrainingRun.objects.filter(pk=run_id, status__in=[Status.RUNNING, Status.CANCELLING]).update(
        status=Status.CANCELLED, step=step, finished_at=timezone.now()
    )


def fail_run(*, run_id, reason):
    TrainingRun.objects.filter(pk=run_id).exclude(status__in=[Status.SUCCEEDED, Status.CANCELLED]).update(
        status=Status.FAILED, error=reason[:4000], finished_at=timezone.now()
    )


def finish_run(*, run_id, result):
    """The run completed: its model becomes a new, unpublished version of its catalogue entry,
    with the last sample grid (outputs on the probe images) as the version's preview."""
    run = TrainingRun.objects.select_related("art_model").get(pk=run_id)
    with transaction.atomic():
        art_model = run.art_model or _new_art_model(run)
        last = art_model.versions.order_by("-number").first()
        version = ModelVersion(
            art_model=art_model, number=(last.number + 1 if last else 1),
            source=f"training run #{run.pk} “{run.name}”", labels=list(result.labels),
        )
        with open(result.model_path, "rb") as fh:
            version.checkpoint.save("model.safetensors", File(fh), save=False)
        if result.sample_path:
            with open(result.sample_path, "rb") as fh:
                version.preview.save("preview.jpg", File(fh), save=False)
        version.save()
        TrainingRun.objects.filter(pk=run_id).update(
            status=Status.SUCCEEDED, step=result.step, finished_at=timezone.now(), art_model=art_model,
            model_version=version, labels=list(result.labels),
        )
    return version


def _new_art_model(run):
    """A catalogue entry for a run that named none: hidden until a version is published."""
    from django.utils.text import slugify

    base = slugify(run.name)[:40] or f"run-{run.pk}"
    slug, n = base, 1
    while ArtModel.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return ArtModel.objects.create(slug=slug, name=run.name, family=run.family, is_active=False)


def reap_stale_runs():
    """Runs whose worker went silent (died, was killed, lost the machine) are never left
    "running" forever: they become failed (or cancelled, if a stop was asked) and can be
    resumed from their last checkpoint. Returns how many were reaped."""
    cutoff = timezone.now() - timedelta(seconds=settings.RESTYLE_TRAINING_HEARTBEAT_TIMEOUT)
    stale = TrainingRun.objects.filter(heartbeat_at__lt=cutoff)
    cancelled = stale.filter(status=Status.CANCELLING).update(status=Status.CANCELLED, finished_at=timezone.now())
    failed = stale.filter(status=Status.RUNNING).update(
        status=Status.FAILED,
        finished_at=timezone.now(),
        error="The worker stopped responding. Resume the run to continue from its last checkpoint.",
    )
    if cancelled or failed:
        log.warning("reaped %d silent training runs", cancelled + failed)
    return cancelled + failed


def delete_run_files(*, run):
    shutil.rmtree(run.run_dir, ignore_errors=True)


# --- versions -------------------------------------------------------------------------------


def publish_version(*, version):
    """Make `version` the one users get (and show its model). Publishing an older version is
    how an admin rolls back; every version is kept."""
    if not version.checkpoint and version.art_model.family != "gatys":
        raise ServiceError(f"{version} has no checkpoint to publish.")
    with transaction.atomic():
        ArtModel.objects.filter(pk=version.art_model_id).update(current_version=version, is_active=True)
    version.art_model.refresh_from_db()
    return version
