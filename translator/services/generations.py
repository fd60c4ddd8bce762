"""Generated images (StyleGAN2): grids from seeds, style mixes, saving, deleting, and the
worker's side of each job (claim, finish, fail) and the sweeper's.

A Generation is delivered exactly as a Conversion is (services.delivery): claimed once with a
lease, every worker write fenced by its claim token, an expired lease queued again or failed
after the last attempt, a lost message resent, and every end (made, failed, cancelled) stored
together with its owner's webhook event (`_ended`). Besides, the sweeper removes unsaved rows (a
grid's images nobody kept) and their files once they are RESTYLE_UNSAVED_GENERATIONS_HOURS old.

Bad input raises django ValidationError with a `field` attribute (the page's form and the API
both show it on that field); a model that cannot be used raises ServiceError.
"""
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .. import routing
from ..models import GENERATOR_FAMILIES, Conversion, Generation, ModelVersion
from . import delivery, webhooks
from .errors import ServiceError

log = logging.getLogger(__name__)

Status = Generation.Status
# A worker holds the row in these states (a cancel asked for it does not take it from the worker).
ACTIVE = (Status.RUNNING, Status.CANCELLING)
# NVlabs generate.py seeds numpy.random.RandomState, which takes 0 to 2**32 - 1.
MAX_SEED = 2**32 - 1
SURPRISE_COUNT = 8
_RANGE = re.compile(r"^(\d+)\s*-\s*(\d+)$")


def _invalid(field, message, code="invalid"):
    error = ValidationError(message, code=code)
    error.field = field
    return error


# --- input ------------------------------------------------------------------------------------


def parse_seeds(value):
    """Seeds from what a person types ("0-7", "1,5,9", "3, 10-12") or from a list of integers.
    Raises ValidationError (field "seeds") saying what is wrong."""
    limit = settings.RESTYLE_MAX_SEEDS_PER_REQUEST
    if value is None:
        value = ""
    if isinstance(value, (list, tuple)):
        parts = list(value)
    elif isinstance(value, str):
        parts = [p.strip() for p in value.split(",") if p.strip()]
    elif isinstance(value, int) and not isinstance(value, bool):
        parts = [value]
    else:
        raise _invalid("seeds", "Give seeds as a list of whole numbers or as text like “0-7” or “1,5,9”.")
    if not parts:
        raise _invalid("seeds", "Give at least one seed, e.g. “0-7” or “1,5,9”, or ask for a surprise.", "required")
    seeds = []
    for part in parts:
        if isinstance(part, bool) or not isinstance(part, (int, str)):
            raise _invalid("seeds", f"“{part}” is not a seed: seeds are whole numbers from 0 to {MAX_SEED}.")
        if isinstance(part, int):
            seeds.append(part)
            continue
        if match := _RANGE.match(part):
            first, last = int(match[1]), int(match[2])
            if last < first:
                raise _invalid("seeds", f"The range “{part}” runs backwards: write the smaller seed first.")
            if last - first + 1 > limit:
                raise _invalid("seeds", f"The range “{part}” has {last - first + 1} seeds; at most {limit} at a time.", "too_many")
            seeds.extend(range(first, last + 1))
        elif part.isdigit():
            seeds.append(int(part))
        else:
            raise _invalid("seeds", f"“{part}” is not a seed or a range: write whole numbers like “0-7” or “1,5,9”.")
    for seed in seeds:
        if not 0 <= seed <= MAX_SEED:
            raise _invalid("seeds", f"Seed {seed} is out of range: seeds are whole numbers from 0 to {MAX_SEED}.")
    seeds = list(dict.fromkeys(seeds))  # the same seed twice would make the same image twice
    if len(seeds) > limit:
        raise _invalid("seeds", f"That is {len(seeds)} seeds; at most {limit} at a time.", "too_many")
    return seeds


def check_truncation(value):
    """Truncation psi as a float in 0..1, or ValidationError (field "truncation")."""
    if isinstance(value, bool):
        value = None
    try:
        psi = float(value)
    except (TypeError, ValueError):
        raise _invalid("truncation", "Truncation is a number from 0 to 1 (0.7 is a good start).")
    if not 0.0 <= psi <= 1.0 or psi != psi:
        raise _invalid("truncation", f"Truncation {value} is out of range: it goes from 0 (the average image) to 1 (the most varied).")
    return psi


def check_noise_mode(value):
    if value not in Generation.NoiseMode.values:
        raise _invalid("noise_mode", f"Noise mode is one of {', '.join(Generation.NoiseMode.values)}, not “{value}”.")
    return value


def check_layers(value):
    if value not in Generation.Layers.values:
        raise _invalid("layers", f"Layers are one of {', '.join(Generation.Layers.values)}, not “{value}”.")
    return value


def missing_layers(*, version):
    """The style ranges `version`'s generator has no layers in (["fine"] for a 32 px model),
    from the resolution its checkpoint recorded (no torch here); [] when none is recorded."""
    from ..worker.families import empty_style_ranges  # mlcore, only when a mix is asked for

    resolution = version.resolution
    try:
        return empty_style_ranges(int(resolution)) if resolution else []
    except (TypeError, ValueError):
        log.warning("version %s records an odd resolution %r", version.pk, resolution)
        return []


def check_layers_exist(layers, *, version):
    """ValidationError (field "layers") when `version`'s generator has no layers in that range,
    so a mix never comes out a plain copy of source A. A version that recorded no resolution is
    not checked."""
    empty = missing_layers(version=version)
    if layers in empty:
        resolution = version.resolution
        others = [name for name in Generation.Layers.values if name not in empty]
        raise _invalid("layers", f"This {resolution} px model has no {layers} layers: choose {' or '.join(others)}.",
                       "empty_range")


def generator_version(art_model):
    """The version new images of `art_model` are made with; ServiceError if it cannot make any."""
    if art_model.family not in GENERATOR_FAMILIES:
        raise ServiceError(
            f"“{art_model.name}” is a {art_model.get_family_display()} model: it converts photos. "
            "Only StyleGAN2 models generate images."
        )
    version = art_model.current_version
    if not art_model.is_active or version is None or not version.checkpoint:
        raise ServiceError(f"The model “{art_model.name}” is not available.")
    return version


# --- grids ------------------------------------------------------------------------------------


def create_grid(*, owner, art_model, seeds=None, surprise=False, count=SURPRISE_COUNT, truncation=0.7, noise_mode="const"):
    """Queue one Generation per seed (unsaved, one batch) and return the rows in seed order.

    `seeds` is a list of integers or text ("0-7", "1,5,9"); with `surprise` the seeds are
    drawn at random (`count` of them) and recorded like any others."""
    version = generator_version(art_model)
    if surprise:
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= settings.RESTYLE_MAX_SEEDS_PER_REQUEST:
            raise _invalid("count", f"Ask for 1 to {settings.RESTYLE_MAX_SEEDS_PER_REQUEST} surprise images.")
        seeds = [secrets.randbelow(MAX_SEED + 1) for _ in range(count)]
    else:
        seeds = parse_seeds(seeds)
    truncation = check_truncation(truncation)
    noise_mode = check_noise_mode(noise_mode)
    queue = routing.generation_queue(version=version)
    with transaction.atomic():
        batch = Generation._meta.get_field("batch").get_default()
        rows = [
            Generation.objects.create(
                owner=owner, art_model=art_model, model_version=version, batch=batch, kind=Generation.Kind.SEED,
                seed=seed, truncation=truncation, noise_mode=noise_mode, queue=queue,
            )
            for seed in seeds
        ]
        transaction.on_commit(lambda: [delivery.send(row) for row in rows])
    return rows


# --- mixes ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MixSource:
    """One side of a mix: exactly one of a seed, a Generation or a projected Conversion."""

    seed: int | None = None
    generation: Generation | None = None
    conversion: Conversion | None = None

    def describe(self):
        if self.generation is not None:
            return f"generated image “{self.generation.describe()}”"
        if self.conversion is not None:
            return f"projected photo “{self.conversion.photo}”"
        return f"seed {self.seed}"


def _source(value, *, owner, field):
    """A MixSource from a seed (int), a Generation or a Conversion, checked for its owner and
    for having a latent to mix."""
    if isinstance(value, MixSource):
        value = value.generation or value.conversion or value.seed
    if isinstance(value, Generation):
        if value.owner_id != owner.pk:
            raise _invalid(field, "There is no such generated image.", "not_found")
        if value.status != Status.SUCCEEDED or not value.latent:
            raise _invalid(field, f"The generated image “{value.describe()}” is not finished, so it has no styles to mix yet.")
        return MixSource(generation=value)
    if isinstance(value, Conversion):
        if value.owner_id != owner.pk:
            raise _invalid(field, "There is no such projected photo.", "not_found")
        if value.status != Conversion.Status.SUCCEEDED or not value.latent:
            raise _invalid(field, f"“{value.photo}” has no latent to mix: only a finished projection into this model has one.")
        return MixSource(conversion=value)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        if not 0 <= value <= MAX_SEED:
            raise _invalid(field, f"Seed {value} is out of range: seeds are whole numbers from 0 to {MAX_SEED}.")
        return MixSource(seed=value)
    raise _invalid(field, "A mix source is a seed, one of your generated images or one of your projected photos.", "required")


def create_mix(*, owner, art_model, source_a, source_b, layers, truncation=None, noise_mode=None):
    """Queue a mix: `source_a`'s styles with the `layers` range (coarse, middle, fine) taken from
    `source_b`. A source is a seed (int), a Generation or a projected Conversion of the same
    model version (that version makes the mix, even when the model has a newer one since).
    Truncation and noise mode default to source A's when it is a generated image, else 0.7 and
    const; the truncation applies to seed sources (a latent carries its own)."""
    layers = check_layers(layers)
    generator_version(art_model)  # a generator family, still offered
    a = _source(source_a, owner=owner, field="source_a")
    b = _source(source_b, owner=owner, field="source_b")
    versions = {s.model_version_id for s in (a.generation, a.conversion, b.generation, b.conversion) if s is not None}
    if any(s.art_model_id != art_model.pk for s in (a.generation, a.conversion, b.generation, b.conversion) if s is not None):
        raise _invalid("source_b", f"Both sources must come from “{art_model.name}”.", "other_model")
    if len(versions) > 1:
        raise _invalid(
            "source_b", "The two images come from different versions of this model, whose styles do not mix. "
            "Pick images made with the same version.", "other_version",
        )
    version_id = versions.pop() if versions else art_model.current_version_id
    version = ModelVersion.objects.select_related("art_model").get(pk=version_id)
    check_layers_exist(layers, version=version)
    base = a.generation
    if truncation is None:
        truncation = base.truncation if base else 0.7
    truncation = check_truncation(truncation)
    noise_mode = check_noise_mode(noise_mode or (base.noise_mode if base else Generation.NoiseMode.CONST))
    description = f"{a.describe()} with the {layers} styles of {b.describe()}"
    with transaction.atomic():
        mix = Generation.objects.create(
            owner=owner, art_model=art_model, model_version=version, kind=Generation.Kind.MIX,
            truncation=truncation, noise_mode=noise_mode, layers=layers, mix_description=description[:300],
            source_a_seed=a.seed, source_a_generation=a.generation, source_a_conversion=a.conversion,
            source_b_seed=b.seed, source_b_generation=b.generation, source_b_conversion=b.conversion,
            queue=routing.generation_queue(version=version),
        )
        transaction.on_commit(lambda: delivery.send(mix))
    return mix


# --- the owner's actions ----------------------------------------------------------------------


def save_generation(*, generation):
    """Keep a finished image in the gallery (the sweeper no longer removes it)."""
    if not Generation.objects.filter(pk=generation.pk, status=Status.SUCCEEDED).update(saved=True):
        generation.refresh_from_db(fields=["status"])
        raise ServiceError(f"Only a finished image can be saved; this one is {generation.get_status_display().lower()}.")
    generation.saved = True
    return generation


def cancel_generation(*, generation):
    """Cancel as conversions are cancelled: a queued image at once; a running one is asked to
    stop (its worker stores nothing and marks it cancelled). ServiceError once it is finished."""
    now = timezone.now()
    if _ended(Generation.objects.filter(pk=generation.pk, status=Status.QUEUED), generation.pk,
              status=Status.CANCELLED, finished_at=now):
        pass
    elif not Generation.objects.filter(pk=generation.pk, status=Status.RUNNING).update(status=Status.CANCELLING):
        generation.refresh_from_db(fields=["status"])
        if generation.status != Status.CANCELLING:
            raise ServiceError(f"This image is already finished ({generation.get_status_display().lower()}), so there is nothing to cancel.")
    generation.refresh_from_db()
    return generation


def delete_generation(*, generation):
    """Delete the image and its files. A worker still making it finds the row gone and drops
    what it made; mixes made from it keep their own image and latent."""
    names = _file_names(generation)
    with transaction.atomic():
        Generation.objects.filter(pk=generation.pk).delete()
        transaction.on_commit(lambda: _delete_files(names))


def _file_names(generation):
    return [(f.storage, f.name) for f in (generation.image, generation.thumbnail, generation.latent) if f]


def _delete_files(names):
    for storage, name in names:
        try:
            storage.delete(name)
        except OSError:
            log.warning("could not delete %s", name, exc_info=True)


# --- the worker's side ------------------------------------------------------------------------


def claim_generation(*, generation_id, worker="", worker_device=""):
    """Take a queued generation for this worker; None if it is not waiting (taken, deleted) or
    it asked for a device this worker lacks."""
    return delivery.claim(
        Generation, pk=generation_id, waiting=Q(status=Status.QUEUED, queue__in=routing.runnable_queues()),
        running_status=Status.RUNNING, lease_seconds=settings.RESTYLE_JOB_LEASE_SECONDS,
        started_at=timezone.now(), worker=worker[:200], worker_device=worker_device[:100],
    )


def renew_generation_lease(*, claim):
    return delivery.renew(Generation, claim, *ACTIVE, lease_seconds=settings.RESTYLE_JOB_LEASE_SECONDS)


def _path_for(generation, filename):
    return Generation._meta.get_field("image").generate_filename(generation, filename)


def finish_generation(*, claim, png_bytes, thumbnail_bytes, latent_bytes, side, load_seconds, run_seconds):
    """Store a running generation's image, thumbnail and latent. A row deleted or taken from this
    worker meanwhile keeps nothing of this attempt (the files are removed again); one whose
    cancel was asked is marked cancelled, with nothing stored. Making an image takes a moment,
    so the worker checks for a cancel only here, before storing. Returns the row, or None when
    the result was dropped."""
    generation = delivery.fenced(Generation, claim, Status.RUNNING).first()
    if generation is None:
        mark_generation_cancelled(claim=claim)
        return None
    storage = generation.image.storage
    names = [
        storage.save(_path_for(generation, "image.png"), ContentFile(png_bytes)),
        storage.save(_path_for(generation, "thumb.jpg"), ContentFile(thumbnail_bytes)),
        storage.save(_path_for(generation, "latent.npz"), ContentFile(latent_bytes)),
    ]
    done = _ended(
        delivery.fenced(Generation, claim, Status.RUNNING), claim.pk,
        image=names[0], thumbnail=names[1], latent=names[2], side=side, status=Status.SUCCEEDED,
        finished_at=timezone.now(), lease_expires_at=None, load_seconds=load_seconds, run_seconds=run_seconds, error="",
    )
    if not done:
        _delete_files([(storage, name) for name in names])
        mark_generation_cancelled(claim=claim)
        return None
    generation.refresh_from_db()
    return generation


def mark_generation_cancelled(*, claim):
    """The worker dropped an image whose cancel was asked for (a no-op for a row deleted or
    taken from this worker)."""
    _ended(delivery.fenced(Generation, claim, Status.CANCELLING), claim.pk,
           status=Status.CANCELLED, finished_at=timezone.now(), lease_expires_at=None)


def fail_generation(*, claim, reason):
    _ended(delivery.fenced(Generation, claim, *ACTIVE), claim.pk,
           status=Status.FAILED, error=reason[:2000], finished_at=timezone.now(), lease_expires_at=None)


def _ended(rows, pk, **updates):
    """Move `rows` (generation `pk`, filtered by the state it must be in) to an end state with its
    owner's webhook event in the same transaction. Returns how many rows changed (0 or 1)."""
    return webhooks.end_job(rows, record=lambda: webhooks.record_generation_event(generation_id=pk), **updates)


# --- the sweeper ------------------------------------------------------------------------------


def sweep_generations(*, now=None):
    """Settle what faults left behind, as for conversions (an expired lease: queued again, or
    failed after the last attempt; queued too long: failed; a lost message: resent), and remove
    unsaved images older than RESTYLE_UNSAVED_GENERATIONS_HOURS with their files."""
    now = now or timezone.now()
    counts = {"requeued": 0, "failed": 0, "cancelled": 0, "expired": 0, "resent": 0, "removed": 0}
    expired = Generation.objects.filter(status__in=ACTIVE, lease_expires_at__lt=now)
    for pk, token, attempts, status in expired.values_list("pk", "claim_token", "attempts", "status"):
        row = Generation.objects.filter(pk=pk, claim_token=token, status=status, lease_expires_at__lt=now)
        if status == Status.CANCELLING:  # its worker is gone, and the user wanted it stopped anyway
            counts["cancelled"] += _ended(row, pk, status=Status.CANCELLED, finished_at=now, lease_expires_at=None)
        elif attempts >= settings.RESTYLE_JOB_MAX_ATTEMPTS:
            counts["failed"] += _ended(
                row, pk, status=Status.FAILED, finished_at=now, lease_expires_at=None,
                error=f"The worker making this image stopped {attempts} times before it was done, so it was given up.",
            )
        else:
            counts["requeued"] += row.update(
                status=Status.QUEUED, queued_at=now, dispatched_at=None, dispatches=0, lease_expires_at=None
            )
    timeout = timedelta(minutes=settings.RESTYLE_QUEUE_TIMEOUT_MINUTES)
    stale = Generation.objects.filter(status=Status.QUEUED, queued_at__lt=now - timeout)
    error = (f"No worker was free to make this image within {settings.RESTYLE_QUEUE_TIMEOUT_MINUTES:g} minutes. "
             "Please try again later.")
    for pk in stale.values_list("pk", flat=True):
        # One row at a time, so each ended image's webhook event is stored with its new state.
        counts["expired"] += _ended(stale.filter(pk=pk), pk, status=Status.FAILED, finished_at=now, error=error)
    counts["resent"] = delivery.resend_overdue(Generation, Q(status=Status.QUEUED), now=now)
    counts["removed"] = remove_unsaved(now=now)
    return counts


def remove_unsaved(*, now=None, limit=500):
    """Delete finished, unsaved images older than RESTYLE_UNSAVED_GENERATIONS_HOURS, and their
    files. Each row is locked and checked again before it goes, so one saved meanwhile stays."""
    now = now or timezone.now()
    cutoff = now - timedelta(hours=settings.RESTYLE_UNSAVED_GENERATIONS_HOURS)
    old = Generation.objects.filter(saved=False, status__in=Generation.FINISHED, created_at__lt=cutoff)
    removed = 0
    for pk in old.values_list("pk", flat=True)[:limit]:
        with transaction.atomic():
            row = Generation.objects.select_for_update().filter(pk=pk, saved=False).first()
            if row is None:
                continue
            names = _file_names(row)
            row.delete()
            transaction.on_commit(lambda names=names: _delete_files(names))
        removed += 1
    return removed
