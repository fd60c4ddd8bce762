"""Training runs: a state machine (created, queued, running, succeeded, failed, cancelling,
cancelled) driven by admin actions and by the training task, and the model versions they make.

Every transition is a conditional UPDATE on the current state, so two clicks, two workers or a
click racing a worker can never both win: starting twice starts one run. What the worker writes
is fenced by its claim (services.delivery), so a worker presumed dead that comes back changes
nothing; a run whose worker goes silent is failed by the sweeper and can be resumed.
"""
import logging
import shutil

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .. import routing
from ..models import ArtModel, Dataset, ModelVersion, TrainingRun
from ..worker.checkpoints import file_sha256
from . import catalogue, delivery
from .errors import ServiceError

log = logging.getLogger(__name__)

Status = TrainingRun.Status
ACTIVE = (Status.RUNNING, Status.CANCELLING)


def create_run(*, name, family, dataset, config, device_class="cpu", processes=1, precision="fp32", seed=0,
               art_model=None, created_by=None):
    """A new run (status created). `config` is the family's training config object
    (translator.worker.families.training_config_class). `device_class` ("cpu" or "gpu") decides
    which workers may train it (RESTYLE_TRAINING_DEVICES says which the admin may ask for)."""
    if dataset.family != family:
        raise ServiceError(f"The dataset “{dataset}” is for {dataset.get_family_display()}, not this family.")
    if dataset.status != Dataset.Status.READY:
        raise ServiceError(f"The dataset “{dataset}” is not ready ({dataset.get_status_display().lower()}).")
    if art_model is not None and art_model.family != family:
        raise ServiceError(f"“{art_model}” is a {art_model.get_family_display()} model.")
    if device_class not in settings.RESTYLE_TRAINING_DEVICE_CLASSES:
        raise ServiceError(
            f"Device {device_class!r} is not one of {', '.join(settings.RESTYLE_TRAINING_DEVICE_CLASSES)} "
            "(RESTYLE_TRAINING_DEVICES)."
        )
    problem = processes_problem(device_class=device_class, processes=processes, batch_size=config.batch_size)
    if problem:
        raise ServiceError(problem)
    return TrainingRun.objects.create(
        name=name, family=family, dataset=dataset, config=config.to_dict(), device_class=device_class,
        processes=processes,
        queue=routing.training_queue(device_class=device_class),
        precision=precision, seed=seed, art_model=art_model, total_steps=int(config.steps),
        created_by=created_by,
    )


def max_processes(*, device_class):
    """The most training processes a run of `device_class` may ask for: one per GPU of one
    worker (RESTYLE_TRAINING_MAX_GPUS); one on the CPU, unless a test allows more."""
    if device_class == "gpu":
        return settings.RESTYLE_TRAINING_MAX_GPUS
    return 4 if settings.RESTYLE_TRAINING_ALLOW_CPU_PROCESSES else 1


def processes_problem(*, device_class, processes, batch_size):
    """Why a run cannot train in `processes` processes, in words; None when it can."""
    if processes < 1:
        return "A run needs at least one process."
    most = max_processes(device_class=device_class)
    if processes > most:
        if device_class != "gpu":
            return "Only a GPU run can train in several processes (one per GPU); a CPU run uses one."
        return (f"A run can use at most {most} GPU{'s' if most != 1 else ''} of one worker "
                "(RESTYLE_TRAINING_MAX_GPUS).")
    if batch_size % processes:
        return (f"The batch size ({batch_size}) must divide by the number of GPUs ({processes}): "
                "each process trains on an equal share of every batch.")
    return None


def start_run(*, run):
    """Queue a new run, or resume a stopped or failed one from its last checkpoint."""
    startable = (Status.CREATED, Status.CANCELLED, Status.FAILED)
    if not TrainingRun.objects.filter(pk=run.pk, status__in=startable).update(
        status=Status.QUEUED, error="", finished_at=None, queued_at=timezone.now(), dispatched_at=None,
        dispatches=0, attempts=0,
    ):
        run.refresh_from_db(fields=["status"])
        raise ServiceError(f"“{run}” is {run.get_status_display().lower()}; it cannot be started now.")
    run.refresh_from_db()
    # Stored either way: if the broker cannot be reached now, the sweeper sends it later.
    transaction.on_commit(lambda: delivery.send(run))
    return run


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
        device_class=run.device_class, queue=run.queue, processes=run.processes, precision=run.precision, seed=run.seed, art_model=run.art_model,
        total_steps=run.total_steps, created_by=created_by,
    )


# --- what the training task reports -----------------------------------------------------------


def claim_run(*, run_id, worker="", worker_device=""):
    """The run's Claim for this worker (recording its name and device), or None when it is not
    queued (taken, stopped, removed) or it asked for a GPU that this worker lacks."""
    now = timezone.now()
    claim = delivery.claim(
        TrainingRun, pk=run_id, waiting=Q(status=Status.QUEUED, queue__in=routing.runnable_queues()),
        running_status=Status.RUNNING, lease_seconds=settings.RESTYLE_TRAINING_HEARTBEAT_TIMEOUT,
        worker=worker[:200], worker_device=worker_device[:100], heartbeat_at=now,
    )
    if claim:
        TrainingRun.objects.filter(pk=run_id, started_at__isnull=True).update(started_at=now)
    return claim


def record_run_progress(*, claim, progress):
    """`progress` is an mlcore.engine.Progress. Also a sign of life."""
    delivery.renew(
        TrainingRun, claim, *ACTIVE, lease_seconds=settings.RESTYLE_TRAINING_HEARTBEAT_TIMEOUT,
        step=progress.step,
        total_steps=progress.total_steps,
        images_per_second=progress.images_per_second,
        eta_seconds=progress.eta_seconds,
        metrics={k: float(v) for k, v in (progress.metrics or {}).items()},
        labels=list(progress.labels),
        heartbeat_at=timezone.now(),
    )


def beat(*, claim):
    """The worker is alive (also during a step that takes minutes); False once the run is not its own."""
    return delivery.renew(
        TrainingRun, claim, *ACTIVE, lease_seconds=settings.RESTYLE_TRAINING_HEARTBEAT_TIMEOUT,
        heartbeat_at=timezone.now(),
    )


def stop_requested(*, claim):
    return not delivery.fenced(TrainingRun, claim, Status.RUNNING).exists()


def run_stopped(*, claim, step):
    delivery.fenced(TrainingRun, claim, *ACTIVE).update(
        status=Status.CANCELLED, step=step, finished_at=timezone.now(), lease_expires_at=None
    )


def fail_run(*, claim, reason):
    delivery.fenced(TrainingRun, claim, *ACTIVE).update(
        status=Status.FAILED, error=reason[:4000], finished_at=timezone.now(), lease_expires_at=None
    )


def finish_run(*, claim, result):
    """The run completed: its model becomes a new, unpublished version of its catalogue entry,
    with the last sample grid (outputs on the probe images) as the version's preview. Returns
    None (and adds nothing) when the run is no longer this worker's."""
    run = delivery.fenced(TrainingRun, claim, *ACTIVE).select_related("art_model").first()
    if run is None:
        return None
    with transaction.atomic():
        art_model = run.art_model or _new_art_model(run)
        version = ModelVersion(
            art_model=art_model, number=catalogue.next_version_number(art_model),
            source=f"training run #{run.pk} “{run.name}”", labels=list(result.labels),
            config=_catalogue_facts(run, result.model_path),
        )
        with open(result.model_path, "rb") as fh:
            version.checkpoint_sha256 = file_sha256(fh)
            version.checkpoint.save("model.safetensors", File(fh), save=False)
        if result.sample_path:
            with open(result.sample_path, "rb") as fh:
                version.preview.save("preview.jpg", File(fh), save=False)
        version.save()
        if not delivery.fenced(TrainingRun, claim, *ACTIVE).update(
            status=Status.SUCCEEDED, step=result.step, finished_at=timezone.now(), art_model=art_model,
            model_version=version, labels=list(result.labels), lease_expires_at=None,
        ):
            # Taken over while the files were copied: add nothing.
            transaction.set_rollback(True)
            for field in (version.checkpoint, version.preview):
                if field:
                    field.storage.delete(field.name)
            return None
    catalogue.give_generator_a_card(version=version)  # the worker is where a network can be run
    return version


def _catalogue_facts(run, model_path):
    """What the catalogue shows of the trained model (a generator's resolution), and the dataset
    it was trained on by the name the admin gave it."""
    from ..worker.catalogue import catalogue_facts

    facts = catalogue_facts(model_path)
    return {**facts, "trained_on": run.dataset.name} if facts else facts


def _new_art_model(run):
    """A catalogue entry for a run that named none: hidden until a version is published."""
    from django.utils.text import slugify

    base = slugify(run.name)[:40] or f"run-{run.pk}"
    slug, n = base, 1
    while ArtModel.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return ArtModel.objects.create(slug=slug, name=run.name, family=run.family, is_active=False)


def sweep_runs(*, now=None):
    """Runs whose worker went silent (died, was killed, lost the machine) are never left
    "running" forever: they become failed (or cancelled, if a stop was asked) and can be resumed
    from their last checkpoint. Queued runs whose message may be lost get a new one."""
    now = now or timezone.now()
    stale = TrainingRun.objects.filter(lease_expires_at__lt=now)
    cancelled = stale.filter(status=Status.CANCELLING).update(
        status=Status.CANCELLED, finished_at=now, lease_expires_at=None
    )
    failed = stale.filter(status=Status.RUNNING).update(
        status=Status.FAILED,
        finished_at=now,
        lease_expires_at=None,
        error="The worker stopped responding. Resume the run to continue from its last checkpoint.",
    )
    if cancelled or failed:
        log.warning("settled %d training runs whose worker went silent", cancelled + failed)
    resent = delivery.resend_overdue(TrainingRun, Q(status=Status.QUEUED), now=now)
    return {"failed": failed, "cancelled": cancelled, "resent": resent}


def delete_run_files(*, run):
    from ..worker import run_files

    shutil.rmtree(run.run_dir, ignore_errors=True)
    run_files.delete(run)
