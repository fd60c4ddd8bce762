"""Training datasets: an uploaded zip (kept in the storage, unpacked safely on each worker that
needs it), or a server folder inside an allowed root; then every file checked (images like
uploads), the layout checked by the family (translator.worker.datasets) and the samples'
thumbnails stored for the admin's page."""
import io
import logging
import shutil
import stat
import uuid
import zipfile
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from PIL import Image

from ..models import Dataset
from ..uploads import validate_image_upload
from ..worker import cache as worker_cache
from ..worker.datasets import family_report
from . import delivery
from .errors import ServiceError

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}
# Left behind by operating systems and editors; never part of a dataset, never worth a complaint.
JUNK_NAMES = {"__MACOSX", ".DS_Store", "Thumbs.db", "desktop.ini"}
MAX_PROBLEMS_LISTED = 50
SAMPLES_SHOWN = 6


class DatasetArchiveError(ServiceError):
    """An archive that cannot be unpacked safely; the message says why."""


def create_dataset(*, name, family, archive=None, server_path="", created_by=None):
    """Record a dataset and queue its check. Exactly one of `archive` (an uploaded .zip) and
    `server_path` (a folder inside RESTYLE_DATASET_ROOTS) is given."""
    if bool(archive) == bool(server_path):
        raise ValidationError("Give either a .zip archive or a server folder, not both.", code="source")
    folder = ""
    if server_path:
        folder = str(allowed_server_folder(server_path))
    elif not zipfile.is_zipfile(archive):
        raise ValidationError("The archive is not a .zip file.", code="not_zip")
    with transaction.atomic():
        dataset = Dataset(name=name, family=family, server_path=server_path, folder=folder, created_by=created_by)
        if archive:
            archive.seek(0)
            dataset.archive.save("dataset.zip", File(archive), save=False)
        dataset.save()
        transaction.on_commit(lambda: delivery.send(dataset))
    return dataset


def allowed_server_folder(path):
    """The resolved folder, if it lies inside an allowed root; ValidationError otherwise."""
    folder = Path(path).expanduser()
    if not folder.is_absolute():
        raise ValidationError("Give the folder's absolute path.", code="relative")
    resolved = folder.resolve()  # symbolic links cannot lead outside the roots
    roots = [Path(r).resolve() for r in settings.RESTYLE_DATASET_ROOTS]
    if not any(resolved == root or root in resolved.parents for root in roots):
        allowed = ", ".join(str(r) for r in roots) or "none configured"
        raise ValidationError(
            f"{folder} is outside the folders datasets may come from ({allowed}; RESTYLE_DATASET_ROOTS).",
            code="outside_roots",
        )
    if not resolved.is_dir():
        raise ValidationError(f"{folder} is not a folder on the server.", code="missing")
    return resolved


# A check waits while its dataset is "checking" and no worker holds its lease.
WAITING = Q(status=Dataset.Status.CHECKING, lease_expires_at__isnull=True)


def recheck_dataset(*, dataset):
    Dataset.objects.filter(pk=dataset.pk).update(
        status=Dataset.Status.CHECKING, lease_expires_at=None, queued_at=timezone.now(), dispatched_at=None,
        dispatches=0, attempts=0,
    )
    dataset.refresh_from_db()
    transaction.on_commit(lambda: delivery.send(dataset))


def claim_dataset_check(*, dataset_id):
    return delivery.claim(
        Dataset, pk=dataset_id, waiting=WAITING, running_status=None,
        lease_seconds=settings.RESTYLE_JOB_LEASE_SECONDS,
    )


def renew_dataset_lease(*, claim):
    return delivery.renew(Dataset, claim, Dataset.Status.CHECKING, lease_seconds=settings.RESTYLE_JOB_LEASE_SECONDS)


def sweep_datasets(*, now=None):
    """Checks whose worker went silent are checked again, or given up after the last attempt;
    checks whose message may be lost get a new one."""
    now = now or timezone.now()
    counts = {"requeued": 0, "failed": 0}
    expired = Dataset.objects.filter(status=Dataset.Status.CHECKING, lease_expires_at__lt=now)
    for pk, token, attempts in expired.values_list("pk", "claim_token", "attempts"):
        row = Dataset.objects.filter(pk=pk, claim_token=token, lease_expires_at__lt=now)
        if attempts >= settings.RESTYLE_JOB_MAX_ATTEMPTS:
            counts["failed"] += row.update(
                status=Dataset.Status.INVALID, lease_expires_at=None, checked_at=now,
                problems=[f"The check stopped its worker {attempts} times; the archive may be too large "
                          "for the worker. Use “Check again” to retry."],
            )
        else:
            counts["requeued"] += row.update(lease_expires_at=None, queued_at=now, dispatched_at=None, dispatches=0)
    counts["resent"] = delivery.resend_overdue(Dataset, WAITING, now=now)
    return counts


def check_dataset(*, dataset_id, claim=None):
    """Unpack (archives), check every file and the family's layout, and record what was found.
    With a worker's `claim`, nothing is recorded once the check is no longer that worker's."""
    dataset = Dataset.objects.get(pk=dataset_id)
    problems = []
    with dataset_in_use(dataset):  # its unpacked copy stays while it is checked
        if dataset.archive:
            try:
                dataset.folder = str(local_dataset_folder(dataset, fresh=True))
            except DatasetArchiveError as exc:
                _record(dataset, problems=[str(exc)], counts={}, samples=[], claim=claim)
                return dataset
        return _check_folder(dataset, problems, claim)


def _check_folder(dataset, problems, claim):
    folder = Path(dataset.folder)
    files, size, file_problems = _check_files(folder)
    dataset.file_count, dataset.size_bytes = files, size
    problems += file_problems
    report = family_report(dataset.family, folder)
    problems += list(report.problems)
    samples = [str(Path(p).relative_to(folder)) for p in report.samples[:SAMPLES_SHOWN]]
    _store_sample_thumbnails(dataset, folder, samples)
    # Families whose check has more to say (StyleGAN2's image folder: sizes, crop, duplicates).
    notes = list(getattr(report, "notes", ()))
    _record(dataset, problems=problems, counts=report.counts, samples=samples, notes=notes, claim=claim)
    return dataset


def sample_thumbnail_name(dataset, index):
    """The storage name of the thumbnail of the dataset's `index`-th sample image."""
    return f"datasets/{dataset.pk}/samples/{index}.jpg"


def _store_sample_thumbnails(dataset, folder, samples):
    """The admin's dataset page shows its samples from the storage: the web host need not have
    the dataset's files (they are on the workers, or in an archive in the storage)."""
    for index in range(SAMPLES_SHOWN):
        default_storage.delete(sample_thumbnail_name(dataset, index))
    for index, sample in enumerate(samples):
        try:
            with Image.open(folder / sample) as image:
                image.thumbnail((240, 240))
                buf = io.BytesIO()
                image.convert("RGB").save(buf, "JPEG", quality=85)
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
            # The checks above have named the file's problem already.
            log.warning("dataset %s: no thumbnail of %s (%s)", dataset.pk, sample, exc)
            continue
        default_storage.save(sample_thumbnail_name(dataset, index), ContentFile(buf.getvalue()))


def scratch_folder(dataset):
    """This machine's unpacked copy of an uploaded dataset, in the worker cache, named after the
    archive's stored name (which no other archive ever has)."""
    return Path(settings.RESTYLE_WORKER_CACHE_DIR) / "datasets" / PurePosixPath(dataset.archive.name).stem


def local_dataset_folder(dataset, *, fresh=False):
    """The folder this machine reads the dataset from. A server folder is used where it is (it
    must be on every worker that trains on it); an uploaded archive stays in the storage and is
    unpacked into this machine's scratch the first time it is needed here (`fresh`: again), so a
    worker on another host than the one that checked it trains on the same files. Hold it with
    dataset_in_use while it is read."""
    if not dataset.archive:
        return Path(dataset.folder)
    destination = scratch_folder(dataset)
    if fresh or not destination.is_dir():
        _unpack(dataset, destination)
        worker_cache.trim(keep=[destination])
    else:
        worker_cache.touch(destination)  # its last use, for the trim
    entries = [p for p in destination.iterdir() if not _is_junk(p.relative_to(destination))]
    return entries[0] if len(entries) == 1 and entries[0].is_dir() else destination


@contextmanager
def dataset_in_use(dataset):
    """Hold this machine's unpacked copy of an uploaded dataset for the block (taken before
    local_dataset_folder is asked for it): no trim of the worker cache, in any process, removes
    it while a check or a training run reads it (translator.worker.cache)."""
    if not dataset.archive:
        yield
        return
    with worker_cache.in_use(scratch_folder(dataset)):
        yield


def _record(dataset, *, problems, counts, samples, notes=(), claim=None):
    if len(problems) > MAX_PROBLEMS_LISTED:
        problems = problems[:MAX_PROBLEMS_LISTED] + [f"… and {len(problems) - MAX_PROBLEMS_LISTED} more problems."]
    dataset.problems = problems
    dataset.counts = counts
    dataset.samples = samples
    dataset.notes = list(notes)[:MAX_PROBLEMS_LISTED]
    dataset.status = Dataset.Status.INVALID if problems else Dataset.Status.READY
    dataset.checked_at = timezone.now()
    dataset.lease_expires_at = None
    if claim is None:
        dataset.save()
        return
    fields = ("folder", "file_count", "size_bytes", "problems", "notes", "counts", "samples", "status", "checked_at",
              "lease_expires_at", "archive")
    delivery.fenced(Dataset, claim, Dataset.Status.CHECKING).update(**{f: getattr(dataset, f) for f in fields})


def _is_junk(relative):
    return any(part in JUNK_NAMES or part.startswith(".") for part in relative.parts)


def _check_files(folder):
    """(file count, bytes, problems): every image must pass the upload checks; other files are
    problems, except operating-system leftovers."""
    problems, count, size = [], 0, 0
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if _is_junk(relative) or path.is_dir():
            continue
        count += 1
        size += path.stat().st_size
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            problems.append(f"{relative}: not an image (datasets hold JPEG, PNG or WebP files only).")
            continue
        with open(path, "rb") as fh:
            try:
                validate_image_upload(_SizedFile(fh, path.stat().st_size))
            except ValidationError as exc:
                problems.append(f"{relative}: {' '.join(exc.messages)}")
    if count == 0:
        problems.append("The dataset is empty: no files found.")
    return count, size, problems


class _SizedFile:
    """A file object with the `.size` that the upload validator reads."""

    def __init__(self, fh, size):
        self._fh, self.size = fh, size

    def __getattr__(self, name):
        return getattr(self._fh, name)


def _unpack(dataset, destination):
    """Unpack the dataset's archive (from the storage) into `destination`: first beside it, then
    renamed into place, so a folder that exists is always complete."""
    partial = destination.with_name(f".{destination.name}-{uuid.uuid4().hex[:8]}")
    try:
        with dataset.archive.open("rb") as fh:
            unpack_zip(
                fh,
                partial,
                max_bytes=settings.RESTYLE_DATASET_MAX_MB * 1024 * 1024,
                max_files=settings.RESTYLE_DATASET_MAX_FILES,
            )
        partial.mkdir(parents=True, exist_ok=True)  # an archive of folders only is still a folder
        shutil.rmtree(destination, ignore_errors=True)
        partial.rename(destination)
    finally:
        shutil.rmtree(partial, ignore_errors=True)


def unpack_zip(fileobj, destination, *, max_bytes, max_files):
    """Extract a zip into `destination`, refusing anything unsafe before a byte is written:
    absolute or `..` paths, links, more files or bytes than allowed (the declared sizes are
    checked first, the real ones while writing, since headers can lie)."""
    try:
        archive = zipfile.ZipFile(fileobj)
    except zipfile.BadZipFile as exc:
        raise DatasetArchiveError(f"The archive is not a readable .zip file ({exc}).") from exc
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        for member in members:
            _check_member(member)
        if len(members) > max_files:
            raise DatasetArchiveError(f"The archive holds {len(members)} files; the limit is {max_files}.")
        declared = sum(m.file_size for m in members)
        if declared > max_bytes:
            raise DatasetArchiveError(
                f"The archive unpacks to {declared / 2**20:.0f} MB; the limit is {max_bytes / 2**20:.0f} MB."
            )
        destination = Path(destination)
        written = 0
        for member in members:
            target = destination.joinpath(*PurePosixPath(member.filename.replace("\\", "/")).parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                with archive.open(member) as src, open(target, "wb") as dst:
                    while chunk := src.read(1 << 20):
                        written += len(chunk)
                        if written > max_bytes:
                            raise DatasetArchiveError(
                                f"The archive unpacks to more than {max_bytes / 2**20:.0f} MB (the limit)."
                            )
                        dst.write(chunk)
            except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as exc:
                raise DatasetArchiveError(f"{member.filename}: cannot be unpacked ({exc}).") from exc


def _check_member(member):
    name = member.filename.replace("\\", "/")
    path = PurePosixPath(name)
    if path.is_absolute() or name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise DatasetArchiveError(f"The archive names an absolute path ({member.filename}); refused.")
    if ".." in path.parts:
        raise DatasetArchiveError(f"The archive names a path outside itself ({member.filename}); refused.")
    mode = member.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise DatasetArchiveError(f"The archive holds a symbolic link ({member.filename}); refused.")
    if member.flag_bits & 0x1:
        raise DatasetArchiveError(f"{member.filename} is encrypted; upload an archive without a password.")


def delete_dataset_files(*, dataset):
    """Remove an uploaded dataset's unpacked files (never a server folder's)."""
    if not dataset.server_path:
        # Where datasets were unpacked before they stayed in the storage.
        shutil.rmtree(Path(settings.MEDIA_ROOT) / "datasets" / str(dataset.pk), ignore_errors=True)
    if dataset.archive:
        shutil.rmtree(scratch_folder(dataset), ignore_errors=True)  # this machine's copy; see README
        dataset.archive.delete(save=False)
    for index in range(SAMPLES_SHOWN):
        default_storage.delete(sample_thumbnail_name(dataset, index))

