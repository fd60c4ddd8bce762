"""Two hosts that share only the database, the broker and the object store (moto's S3 server):
a web host (gunicorn, a media folder and var folder of its own) and a worker host (Celery
workers started in an empty working folder of their own, with their own media, var, run and
cache folders). A photo is converted through the API; an admin uploads a dataset archive through
the web host's admin pages, trains a tiny run on it, publishes its model, and a user converts
with that. Scratch appears on the worker host alone, and only in the folders its settings name."""
import io
import os
import re
import zipfile
from pathlib import Path

import pytest
import requests
from django.contrib.auth import get_user_model
from django.urls import reverse
from PIL import Image

from mlcore.tools.make_pairs import make_pairs
from translator.models import ArtModel, Conversion, Dataset, TrainingRun

from .stack import Stack, api_user, prepare_site_here, wait_for
from .test_s3_flow import convert, files_under

pytestmark = pytest.mark.e2e


class Host:
    """The folders one machine's settings name, all empty at the start."""

    def __init__(self, root, names):
        self.root = root
        for name in names:
            (root / name).mkdir(parents=True)
            setattr(self, name.replace("-", "_"), root / name)


@pytest.fixture
def two_hosts(s3_storage, transactional_db, test_database_env, tmp_path, settings, data_dir):
    settings.MEDIA_ROOT = tmp_path / "test-process-media"
    (tmp_path / "logs").mkdir()
    # What the hosts have in common, and nothing else: the database, the broker, the store.
    site = Stack(tmp_path / "logs", {**prepare_site_here(test_database_env, data_dir=data_dir), **s3_storage.env()})
    web = Host(tmp_path / "web-host", ["var", "media"])
    worker = Host(tmp_path / "worker-host", ["cwd", "var", "media", "runs", "cache"])
    site.web_host, site.worker_host = web, worker
    site.worker_env = {
        "RESTYLE_VAR_DIR": str(worker.var), "RESTYLE_MEDIA_ROOT": str(worker.media),
        "RESTYLE_RUNS_ROOT": str(worker.runs), "RESTYLE_WORKER_CACHE_DIR": str(worker.cache),
        "RESTYLE_TRAINING_DATA_WORKERS": "0",
    }
    site.start_redis()
    site.start_web(extra_env={"RESTYLE_VAR_DIR": str(web.var), "RESTYLE_MEDIA_ROOT": str(web.media)})
    yield site
    if os.environ.get("RESTYLE_SHOW_WORKER_LOG"):
        print(site.logs())
    site.stop()


def start_worker_host(site):
    """The worker host's processes as site/Procfile splits them: conversions and slow jobs
    (dataset checks) in prefork workers, training in a threads pool."""
    env, cwd = site.worker_env, site.worker_host.cwd
    workers = [site.start_worker("second-conversions", "conversions,slow", extra_env=env, cwd=cwd, wait=False),
               site.start_worker("second-training", "training", pool="threads", extra_env=env, cwd=cwd, wait=False)]
    for worker in workers:
        site.wait_ready(worker)
    return workers


def admin_session(site):
    """The admin, logged in to the web host's admin pages over HTTP (Django's CSRF check included)."""
    get_user_model().objects.create_superuser("boss", password="boss-password-1")
    http = requests.Session()
    http.get(f"{site.web_url}/admin/login/", timeout=10)
    response = http.post(f"{site.web_url}/admin/login/?next=/admin/", timeout=10, data={
        "username": "boss", "password": "boss-password-1", "csrfmiddlewaretoken": http.cookies["csrftoken"],
        "next": "/admin/"})
    assert response.url.endswith("/admin/") and "Log out" in response.text, response.text[:2000]

    def post(path, data=None, files=None):
        response = http.post(f"{site.web_url}{path}", timeout=30, allow_redirects=False, files=files,
                             data={**(data or {}), "csrfmiddlewaretoken": http.cookies["csrftoken"]})
        assert response.status_code == 302, re.sub(r"\s+", " ", response.text)[:3000]
        return response

    http.post_form = post
    return http


def paired_zip(data_dir, folder):
    """A generated edges -> photo set, zipped as an admin would."""
    make_pairs(data_dir / "images" / "content", folder, kind="edges2photo", count=8, size=48, seed=1)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for path in sorted(folder.rglob("*.jpg")):
            archive.write(path, f"edges2photos/{path.relative_to(folder)}")
    return buf.getvalue()


def convert_and_fetch(api, photo_path, art_model):
    """The job's JSON and its result image, downloaded through the web host."""
    job = convert(api, photo_path, art_model)
    result = api.get(job["result_url"], timeout=10)
    assert result.status_code == 200 and result.headers["Content-Type"] == "image/jpeg"
    return job, Image.open(io.BytesIO(result.content))


def test_a_worker_host_sharing_only_database_broker_and_store_converts_and_trains(
    two_hosts, s3_storage, data_dir, tmp_path, settings
):
    site, web, worker = two_hosts, two_hosts.web_host, two_hosts.worker_host
    start_worker_host(site)
    ada = api_user(site, "ada")
    photo = data_dir / "images" / "content" / "chelsea.png"

    _, result = convert_and_fetch(ada, photo, ArtModel.objects.get(slug="wave"))
    assert result.size == Image.open(photo).size

    admin = admin_session(site)
    admin.post_form(reverse("admin:translator_dataset_add"),
                    data={"name": "edges to photos", "family": "pix2pix", "server_path": ""},
                    files={"archive": ("edges2photos.zip", paired_zip(data_dir, tmp_path / "admin-desk"),
                                       "application/zip")})
    dataset = Dataset.objects.get()
    wait_for(lambda: Dataset.objects.get(pk=dataset.pk).status != Dataset.Status.CHECKING, 60, "the dataset check")
    dataset.refresh_from_db()
    assert dataset.status == Dataset.Status.READY and dataset.counts == {"pairs": 8}, dataset.problems

    admin.post_form(reverse("admin:translator_trainingrun_add") + "?family=pix2pix", data={
        "family": "pix2pix", "name": "Edges to photos", "dataset": dataset.pk, "device_class": "cpu",
        "precision": "fp32", "seed": 0, "start_now": "on", "preset": "tiny", "cfg:steps": "6"})
    run = TrainingRun.objects.get(name="Edges to photos")

    def ended():
        run.refresh_from_db()
        return run.status in (TrainingRun.Status.SUCCEEDED, TrainingRun.Status.FAILED)

    wait_for(ended, 120, "the training run to end", interval=0.5)
    assert run.status == TrainingRun.Status.SUCCEEDED, run.error
    # The web host shows the run from the store: it has no run folder of its own.
    live = admin.get(site.web_url + reverse("admin:translator_trainingrun_live", args=[run.pk]), timeout=10).text
    assert "step 6 of 6 (100%)" in live and "<polyline" in live, live[:3000]

    version = run.model_version
    admin.post_form(reverse("admin:translator_modelversion_publish", args=[version.pk]),
                    {"name": version.art_model.name, "description": "Trained on the second host.",
                     "input_hint": "an edge drawing", "card": "probes"})
    drawing = data_dir / "images" / "content" / "camera.png"
    _, painted = convert_and_fetch(ada, drawing, version.art_model)
    assert painted.size == Image.open(drawing).size
    assert Conversion.objects.filter(model_version=version, status="succeeded").count() == 1

    # The files are in the store; the web host's disk holds none of them.
    keys = s3_storage.keys()
    assert dataset.archive.name in keys and version.checkpoint.name in keys
    assert f"runs/run-{run.pk}/run.json" in keys
    assert files_under(web.media) == []
    assert set(files_under(web.var)) <= {"secret_key"}, files_under(web.var)  # no media, runs or cache
    # Scratch lies in the worker host's named folders only: nothing in its working folder or media.
    assert files_under(worker.cwd) == [] and files_under(worker.media) == []
    cache = files_under(worker.cache)
    assert f"sha256/{version.checkpoint_sha256}.safetensors" in cache
    assert f"sha256/{ArtModel.objects.get(slug='wave').current_version.checkpoint_sha256}.safetensors" in cache
    assert any(name.startswith("datasets/") and name.endswith(".jpg") for name in cache), cache
    assert f"run-{run.pk}/model.safetensors" in files_under(worker.runs)
    assert set(files_under(worker.var)) <= {"secret_key"}, files_under(worker.var)
    # Nor did the worker fall back on the checkout's folders (this test process's settings).
    assert files_under(Path(settings.RESTYLE_RUNS_ROOT)) == [] and files_under(settings.MEDIA_ROOT) == []
