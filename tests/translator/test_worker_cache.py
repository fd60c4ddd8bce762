"""The worker cache keeps to RESTYLE_WORKER_CACHE_MAX_GB: after a fetch (a checkpoint) or an
unpack (a dataset) the least recently used entries go, oldest first, until it is under the bound;
never the entry just fetched, nor one a job is using, in this process or in another."""
import io
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import SimpleUploadedFile

from translator import services
from translator.worker import cache
from translator.worker.checkpoints import cached_copy

REPO = Path(__file__).resolve().parents[2]
MB = 10**6


def checkpoint_entry(root, name, megabytes, *, age_hours):
    """A cached checkpoint of `megabytes` last used `age_hours` ago."""
    path = root / "sha256" / f"{name}.safetensors"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\0" * int(megabytes * MB))
    used = time.time() - age_hours * 3600
    os.utime(path, (used, used))
    return path


def dataset_entry(root, name, megabytes, *, age_hours):
    """An unpacked dataset folder of two files, last used `age_hours` ago."""
    path = root / "datasets" / name
    (path / "content").mkdir(parents=True)
    (path / "style.jpg").write_bytes(b"\0" * int(megabytes * MB / 2))
    (path / "content" / "a.jpg").write_bytes(b"\0" * int(megabytes * MB / 2))
    used = time.time() - age_hours * 3600
    os.utime(path, (used, used))
    return path


def remaining(root):
    return sorted(p.relative_to(root).as_posix() for kind in cache.KINDS for p in (root / kind).glob("[!.]*"))


def test_over_its_bound_the_cache_loses_its_least_recently_used_entries_first(settings, worker_cache_dir):
    settings.RESTYLE_WORKER_CACHE_MAX_GB = 2.5 * MB / 10**9  # room for 2.5 MB
    checkpoint_entry(worker_cache_dir, "oldest", 1, age_hours=30)
    dataset_entry(worker_cache_dir, "older", 1, age_hours=20)
    checkpoint_entry(worker_cache_dir, "newer", 1, age_hours=10)
    dataset_entry(worker_cache_dir, "newest", 1, age_hours=1)
    removed = cache.trim()
    assert [p.name for p in removed] == ["oldest.safetensors", "older"]
    assert remaining(worker_cache_dir) == ["datasets/newest", "sha256/newer.safetensors"]


def test_a_bound_with_room_for_everything_removes_nothing(settings, worker_cache_dir):
    settings.RESTYLE_WORKER_CACHE_MAX_GB = 20  # the default
    checkpoint_entry(worker_cache_dir, "old", 1, age_hours=1000)
    assert cache.trim() == [] and remaining(worker_cache_dir) == ["sha256/old.safetensors"]


def test_the_entry_just_fetched_and_the_ones_in_use_stay_even_over_the_bound(settings, worker_cache_dir):
    settings.RESTYLE_WORKER_CACHE_MAX_GB = 0  # nothing may stay but what must
    fetched = checkpoint_entry(worker_cache_dir, "fetched", 1, age_hours=50)
    training = dataset_entry(worker_cache_dir, "training", 1, age_hours=40)
    checkpoint_entry(worker_cache_dir, "idle", 1, age_hours=1)
    with cache.in_use(training):
        assert [p.name for p in cache.trim(keep=[fetched])] == ["idle.safetensors"]
    assert remaining(worker_cache_dir) == ["datasets/training", "sha256/fetched.safetensors"]
    assert [p.name for p in cache.trim()] == ["fetched.safetensors", "training"]  # once let go


HOLD = """
import sys, django
django.setup()
from translator.worker import cache
with cache.in_use(sys.argv[1]):
    print("held", flush=True)
    sys.stdin.read()  # until the test closes it
"""


def test_a_dataset_another_process_is_training_on_is_not_removed(settings, worker_cache_dir):
    settings.RESTYLE_WORKER_CACHE_MAX_GB = 0
    training = dataset_entry(worker_cache_dir, "training", 1, age_hours=40)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings_test",
           "RESTYLE_WORKER_CACHE_DIR": str(worker_cache_dir)}
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(training)], cwd=REPO, env=env,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        assert cache.trim() == []
        assert (training / "content" / "a.jpg").is_file()
    finally:
        holder.stdin.close()
        holder.wait(30)
    assert cache.trim() == [training] and not training.exists()  # the run ended: it may go


def test_a_fetched_checkpoint_trims_the_cache_and_stays_itself(settings, worker_cache_dir, tmp_path):
    settings.RESTYLE_WORKER_CACHE_MAX_GB = 1.5 * MB / 10**9
    checkpoint_entry(worker_cache_dir, "old", 1, age_hours=2)
    checkpoint_entry(worker_cache_dir, "recent", 1, age_hours=1)
    store = FileSystemStorage(location=tmp_path / "store")  # stands for the object store
    name = store.save("models/new/v1.safetensors", ContentFile(b"\1" * 2 * MB))
    with cached_copy(SimpleNamespace(name=name, storage=store)) as (path, sha256):
        assert path.read_bytes() == b"\1" * 2 * MB
    # The new copy alone is over the bound: both older ones went, it stayed.
    assert remaining(worker_cache_dir) == [f"sha256/{sha256}.safetensors"]


def test_a_cached_checkpoint_used_again_becomes_the_most_recent(settings, worker_cache_dir, tmp_path):
    store = FileSystemStorage(location=tmp_path / "store")
    name = store.save("models/new/v1.safetensors", ContentFile(b"\1" * MB))
    field = SimpleNamespace(name=name, storage=store)
    with cached_copy(field) as (path, sha256):
        pass
    os.utime(path, (1, 1))
    other = checkpoint_entry(worker_cache_dir, "other", 1, age_hours=1)
    with cached_copy(field, sha256=sha256) as (again, _):
        assert again == path
    settings.RESTYLE_WORKER_CACHE_MAX_GB = 1.5 * MB / 10**9
    assert cache.trim() == [other]  # `path` was used after it


@pytest.mark.django_db
def test_unpacking_a_dataset_trims_the_cache_but_never_a_dataset_a_run_holds(settings, worker_cache_dir,
                                                                              make_image_bytes):
    def dataset(name):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as archive:
            for member in ("style.jpg", "content/a.jpg", "content/b.jpg"):
                archive.writestr(member, make_image_bytes("JPEG", size=(40, 30)))
        return services.create_dataset(name=name, family="fast_style",
                                        archive=SimpleUploadedFile(f"{name}.zip", buf.getvalue()))

    settings.RESTYLE_WORKER_CACHE_MAX_GB = 0
    stale = checkpoint_entry(worker_cache_dir, "stale", 1, age_hours=5)
    first, second = dataset("first"), dataset("second")
    with services.datasets.dataset_in_use(first):
        training_on = services.datasets.local_dataset_folder(first)  # unpacked: the stale checkpoint goes
        assert not stale.exists()
        os.utime(services.datasets.scratch_folder(first), (1, 1))  # the oldest of all now
        with services.datasets.dataset_in_use(second):
            services.datasets.local_dataset_folder(second)
        assert (training_on / "content" / "a.jpg").is_file()  # held by its run: still whole
    both = [services.datasets.scratch_folder(first), services.datasets.scratch_folder(second)]
    assert remaining(worker_cache_dir) == sorted(f"datasets/{p.name}" for p in both)
    assert cache.trim() == both  # the run over, the next trim may take them, oldest first
