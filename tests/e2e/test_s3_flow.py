"""A conversion through a real site whose files live in an S3-compatible store (moto's server):
gunicorn and a Celery worker as processes, each with a media folder of its own that must stay
empty, as if they ran on two hosts sharing only the database, the broker and the store."""
import hashlib
import io
import os

import numpy as np
import pytest
from PIL import Image

from mlcore.images import open_image
from mlcore.inference import Inferer
from translator.models import ArtModel, Conversion

from .stack import Stack, api_user, prepare_site_here, wait_for

pytestmark = pytest.mark.e2e


def files_under(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


@pytest.fixture
def s3_site(s3_storage, transactional_db, test_database_env, tmp_path, settings, data_dir):
    settings.MEDIA_ROOT = tmp_path / "test-process-media"
    site = Stack(tmp_path, {
        **prepare_site_here(test_database_env, data_dir=data_dir),
        "RESTYLE_MEDIA_ROOT": str(tmp_path / "web-media"),
        **s3_storage.env(),
    })
    site.web_media, site.worker_media = tmp_path / "web-media", tmp_path / "worker-media"
    site.worker_cache = tmp_path / "worker-cache"
    site.worker_env = {"RESTYLE_MEDIA_ROOT": str(site.worker_media), "RESTYLE_RUNS_ROOT": str(tmp_path / "worker-runs"),
                       "RESTYLE_WORKER_CACHE_DIR": str(site.worker_cache)}
    site.start_redis()
    site.start_web()
    yield site
    if os.environ.get("RESTYLE_SHOW_WORKER_LOG"):
        print(site.logs())
    site.stop()


def convert(api, photo_path, art_model=None):
    """The photo converted through the API with `art_model` (the demo's wave by default): the
    job's JSON once it has succeeded."""
    art_model = art_model or ArtModel.objects.get(slug="wave")
    with open(photo_path, "rb") as fh:
        response = api.post(f"{api.base}/conversions/", files={"image": fh}, data={"model": art_model.pk}, timeout=30)
    assert response.status_code == 202, response.text
    job_id = response.json()["id"]
    wait_for(lambda: Conversion.objects.filter(id=job_id, status__in=["succeeded", "failed"]).exists(), 120,
             "the conversion to end", interval=0.3)
    job = api.get(f"{api.base}/conversions/{job_id}/", timeout=10).json()
    assert job["status"] == "succeeded", job["error"]
    return job


def test_a_conversion_goes_through_the_store_and_no_host_keeps_a_file(s3_site, s3_storage, data_dir):
    worker = s3_site.start_worker("conversions-s3", "conversions", extra_env=s3_site.worker_env)
    ada, eve = api_user(s3_site, "ada"), api_user(s3_site, "eve")
    photo_path = data_dir / "images" / "content" / "chelsea.png"
    job = convert(ada, photo_path)

    # The owner downloads the result through the site, streamed from the store.
    response = ada.get(job["result_url"], timeout=10)
    assert response.status_code == 200 and response.headers["Content-Type"] == "image/jpeg"
    result = Image.open(io.BytesIO(response.content))
    original = open_image(photo_path)
    assert result.size == original.size
    # The worker ran the real network on the real photo, both read from the store.
    version = ArtModel.objects.get(slug="wave").current_version
    checkpoint = s3_site.workdir / "checkpoint-from-the-store.safetensors"
    with version.checkpoint.open("rb") as fh:
        checkpoint.write_bytes(fh.read())
    expected = Inferer.load(checkpoint).translate(original)
    error = np.abs(np.asarray(result, np.float32) - np.asarray(expected, np.float32)).mean() / 255
    assert error < 0.02, f"mean absolute difference {error:.4f}"
    # Someone else gets a 404 for the job and its files, through the real web process.
    assert eve.get(job["result_url"], timeout=10).status_code == 404
    assert eve.get(f"{eve.base}/conversions/{job['id']}/", timeout=10).status_code == 404

    conversion = Conversion.objects.get(id=job["id"])
    keys = s3_storage.keys()
    for name in (conversion.photo.image.name, conversion.result.name, conversion.thumbnail.name,
                 version.checkpoint.name):
        assert name in keys
    # Neither "host" kept a file on its disk; the worker keeps the checkpoint, named by its hash
    # (and the empty lock file its jobs hold it by while they load it: translator/worker/cache.py).
    assert files_under(s3_site.web_media) == [] and files_under(s3_site.worker_media) == []
    cached = [f"locks/sha256-{version.checkpoint_sha256}.safetensors.lock",
              f"sha256/{version.checkpoint_sha256}.safetensors"]
    assert files_under(s3_site.worker_cache) == cached
    assert version.checkpoint_sha256 == hashlib.sha256(
        (s3_site.worker_cache / "sha256" / f"{version.checkpoint_sha256}.safetensors").read_bytes()).hexdigest()
    assert "into the worker cache" in worker.log_text()

    # A worker started afresh on the same machine loads the cached copy: nothing fetched again.
    worker.stop()
    again = s3_site.start_worker("conversions-s3-again", "conversions", extra_env=s3_site.worker_env)
    convert(ada, photo_path)
    assert "into the worker cache" not in again.log_text()
    assert files_under(s3_site.worker_cache) == cached
