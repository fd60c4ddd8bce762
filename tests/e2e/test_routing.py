"""Routing by capability through real processes: redis-server, gunicorn and two Celery workers on
different queues, none with a GPU (this machine has none, and a CPU must never stand in for one).

A conversion whose model asks for a GPU is never taken: not through its own queue, which no
worker here serves, nor when its message is put on the CPU queue by hand; it fails in words once
the queue timeout passes. A conversion a CPU is enough for is converted beside it, and its page
and JSON say which worker ran it, on what. Workers told to serve what their device cannot refuse
to start, with the reason. (On a machine with a GPU, the last test has a GPU worker convert the
GPU job instead.)
"""
import re
import sys
import time

import pytest
import requests
from django.contrib.auth import get_user_model

from config.celery import app as celery_app
from translator.models import ArtModel, Conversion, ModelVersion

from .stack import REPO, Stack, free_port, prepare_site_here, wait_for

pytestmark = pytest.mark.e2e

QUEUE_TIMEOUT_SECONDS = 30


def _has_cuda():
    import torch

    return torch.cuda.is_available()


HAS_CUDA = _has_cuda()


@pytest.fixture
def stack(transactional_db, test_database_env, tmp_path, settings, data_dir):
    media = tmp_path / "media"
    settings.MEDIA_ROOT = media
    env = prepare_site_here(test_database_env, data_dir=data_dir)
    wave = ArtModel.objects.get(slug="wave")
    # The same network, as a catalogue entry whose version asks for a GPU.
    wave_gpu = ArtModel.objects.create(slug="wave-gpu", name="Wave (GPU)", family=wave.family)
    wave_gpu.current_version = ModelVersion.objects.create(
        art_model=wave_gpu, number=1, checkpoint=wave.current_version.checkpoint.name, device_class="gpu"
    )
    wave_gpu.save()
    site = Stack(tmp_path, {
        **env,
        "RESTYLE_MEDIA_ROOT": str(media),
        "RESTYLE_WORKER_DEVICE": "cpu",
        "RESTYLE_SWEEP_SECONDS": "0.5",
        "RESTYLE_REDISPATCH_SECONDS": "1",
        "RESTYLE_QUEUE_TIMEOUT_MINUTES": str(QUEUE_TIMEOUT_SECONDS / 60),
    })
    site.start_redis()
    site.start_web()
    yield site
    site.stop()


def session(stack):
    """A browser-like session of a user of the site, logged in through the real login page."""
    get_user_model().objects.create_user("router", password="router-password-1")
    http = requests.Session()
    login = f"{stack.web_url}/accounts/login/"
    page = http.get(login)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    done = http.post(login, data={"username": "router", "password": "router-password-1",
                                  "csrfmiddlewaretoken": token}, headers={"Referer": login})
    assert done.ok and "sessionid" in http.cookies, done.text[-2000:]
    http.headers["X-CSRFToken"] = http.cookies["csrftoken"]
    http.headers["Referer"] = stack.web_url + "/"
    return http


def upload(stack, http, data_dir, slug):
    with open(data_dir / "images" / "content" / "chelsea.png", "rb") as fh:
        response = http.post(f"{stack.web_url}/api/v1/conversions/", files={"image": fh},
                             data={"model": ArtModel.objects.get(slug=slug).pk}, timeout=30)
    assert response.status_code == 202, response.text
    return response.json()["id"]


def test_a_gpu_job_waits_for_a_gpu_worker_while_cpu_workers_convert_beside_it(stack, data_dir):
    conversions = stack.start_worker("conversions-cpu", "conversions.cpu")
    stack.start_worker("slow-cpu", "slow.cpu")  # a second worker, on another CPU queue
    http = session(stack)

    gpu_id = upload(stack, http, data_dir, "wave-gpu")
    cpu_id = upload(stack, http, data_dir, "wave")
    assert Conversion.objects.get(id=gpu_id).queue == "conversions.gpu"

    def converted():
        job = http.get(f"{stack.web_url}/api/v1/conversions/{cpu_id}/").json()
        assert job["status"] in ("queued", "running", "succeeded"), (job, stack.logs())
        return job if job["status"] == "succeeded" else None

    job = wait_for(converted, 90, "the CPU job to be converted")
    assert (job["worker"], job["worker_device"]) == (conversions.hostname, "cpu")
    page = http.get(f"{stack.web_url}/gallery/{cpu_id}/").text
    assert f"Worker: {conversions.hostname} on cpu." in page

    # Its message went out (and was sent again while it waited), and no worker took it.
    wait_for(lambda: Conversion.objects.get(id=gpu_id).dispatches >= 2, 15, "the GPU job's message to be resent")
    # Even its message put on the CPU queue by hand: the CPU worker leaves it alone.
    with celery_app.connection_for_write(stack.redis_url) as conn:
        celery_app.send_task("translator.tasks.run_conversion", args=[gpu_id], queue="conversions.cpu", connection=conn)
    wait_for(lambda: f"conversion {gpu_id} asks for a GPU" in conversions.log_text(), 15,
             "the CPU worker to turn the GPU job down")
    gpu = Conversion.objects.get(id=gpu_id)
    assert (gpu.status, gpu.attempts, gpu.worker, gpu.started_at) == ("queued", 0, "", None)

    # No worker with a GPU ever comes: the sweeper fails it in words, it never runs on a CPU.
    def failed():
        row = Conversion.objects.get(id=gpu_id)
        assert row.status in ("queued", "failed"), row.status
        return row if row.status == "failed" else None

    gpu = wait_for(failed, QUEUE_TIMEOUT_SECONDS + 15, "the GPU job to time out")
    assert (gpu.attempts, gpu.worker, gpu.result.name) == (0, "", "")
    body = http.get(f"{stack.web_url}/api/v1/conversions/{gpu_id}/").json()
    assert "no worker with a GPU took it" in body["error"], body


def start_refused(tmp_path, env):
    """A real `celery worker` start-up with `env`; returns (exit status, what it printed)."""
    import os
    import subprocess

    clean = {k: v for k, v in os.environ.items() if not k.startswith("RESTYLE_")}
    done = subprocess.run(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-n", "refused@%h", "--without-gossip",
         "--without-mingle"],
        cwd=REPO, capture_output=True, text=True, timeout=120,
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings_test", "RESTYLE_VAR_DIR": str(tmp_path),
             # Nothing listens here: a worker that got as far as the broker would hang, not exit.
             "RESTYLE_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0", **env},
    )
    return done.returncode, done.stdout + done.stderr


@pytest.mark.skipif(HAS_CUDA, reason="this machine has a CUDA GPU")
def test_a_worker_told_to_use_cuda_on_this_machine_refuses_to_start(tmp_path):
    started = time.monotonic()
    status, output = start_refused(tmp_path, {"RESTYLE_WORKER_DEVICE": "cuda"})
    assert status != 0 and time.monotonic() - started < 60
    assert "RESTYLE_WORKER_DEVICE is 'cuda', but PyTorch sees no CUDA GPU on this machine" in output


def test_a_cpu_worker_given_a_gpu_queue_refuses_to_start(tmp_path):
    status, output = start_refused(tmp_path, {"RESTYLE_WORKER_QUEUES": "conversions.gpu"})
    assert status != 0
    assert "RESTYLE_WORKER_QUEUES: conversions.gpu holds jobs that need a GPU" in output


@pytest.mark.skipif(not HAS_CUDA, reason="needs a CUDA GPU (the GPU half of routing)")
def test_on_a_gpu_host_a_gpu_worker_converts_the_gpu_job_and_its_page_names_the_gpu(stack, data_dir):
    gpu_worker = stack.start_worker("conversions-gpu", "conversions.gpu", extra_env={"RESTYLE_WORKER_DEVICE": "cuda"})
    http = session(stack)
    gpu_id = upload(stack, http, data_dir, "wave-gpu")

    def converted():
        job = http.get(f"{stack.web_url}/api/v1/conversions/{gpu_id}/").json()
        assert job["status"] in ("queued", "running", "succeeded"), (job, stack.logs())
        return job if job["status"] == "succeeded" else None

    job = wait_for(converted, 90, "the GPU job to be converted")
    assert job["worker"] == gpu_worker.hostname and re.fullmatch(r"cuda:0 \(.+\)", job["worker_device"]), job
