"""Upload through the web view; a real worker process converts it; the gallery shows it."""
import io
import time

import numpy as np
import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from PIL import Image

from mlcore.images import open_image
from mlcore.inference import Inferer
from translator.models import Conversion
from translator.services.delivery import broker_breaker
from translator.worker.output_size import fit_long_side

from config.celery import app as celery_app
from .conftest import wait_for

pytestmark = pytest.mark.e2e


def wait_until_finished(client, conversion_id, timeout=120):
    url = reverse("api:conversion-detail", args=[conversion_id])
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(url).json()
        if not seen or seen[-1] != job["status"]:
            seen.append(job["status"])
        if job["status"] in ("succeeded", "failed"):
            return job, seen
        time.sleep(0.2)
    raise AssertionError(f"the job did not finish in {timeout} s; states seen: {seen}")


def test_an_uploaded_photo_is_converted_by_the_worker_and_shown_in_the_gallery(
    celery_worker, wave_model, client, data_dir
):
    user = get_user_model().objects.create_user("ada", password="ada-password-1")
    client.force_login(user)
    photo_path = data_dir / "images" / "content" / "amber.jpg"
    with open(photo_path, "rb") as fh:
        response = client.post(reverse("translator:upload"), {"image": fh, "art_model": wave_model.pk})
    assert response.status_code == 302
    conversion = Conversion.objects.get(owner=user)

    job, seen = wait_until_finished(client, conversion.id)
    assert job["status"] == "succeeded", job["error"]
    assert seen[-1] == "succeeded" and set(seen) <= {"queued", "running", "succeeded"}

    result = Image.open(io.BytesIO(client.get(job["result_url"]).getvalue()))
    # amber.jpg is 1080x1080: at the default output size its long side becomes 1024.
    original = fit_long_side(open_image(photo_path), 1024)
    assert result.size == original.size == (1024, 1024) == (job["result_width"], job["result_height"])

    # The worker ran the real network: its result matches running mlcore here (up to JPEG).
    expected = Inferer.load(wave_model.current_version.checkpoint.path).translate(original)
    error = np.abs(np.asarray(result, np.float32) - np.asarray(expected, np.float32)).mean() / 255
    assert error < 0.02, f"mean absolute difference {error:.4f}"

    gallery = client.get(reverse("translator:gallery")).content.decode()
    assert reverse("translator:file", args=[conversion.id, "thumbnail"]) in gallery
    conversion.refresh_from_db()
    assert conversion.worker.startswith("e2e-conversions-")
    assert conversion.run_seconds > 0


def worker_answers():
    try:
        return celery_app.control.ping(timeout=0.5)
    except Exception:  # this process's pooled connection to the old Redis: the next try reconnects
        return False


def test_an_upload_while_the_broker_is_down_is_accepted_at_once_and_converted_once_it_is_back(
    celery_worker, redis_server, wave_model, client, make_image_bytes
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    user = get_user_model().objects.create_user("eve", password="eve-password-1")
    client.force_login(user)
    redis_server.stop()
    try:
        started = time.monotonic()
        response = client.post(
            reverse("translator:upload"),
            {"image": SimpleUploadedFile("a.jpg", make_image_bytes()), "art_model": wave_model.pk},
        )
        elapsed = time.monotonic() - started
        conversion = Conversion.objects.get(owner=user)
        # Stored and waiting for the broker, not failed: the sweeper sends it once Redis is back.
        assert (conversion.status, conversion.dispatched_at) == (Conversion.Status.QUEUED, None)
    finally:
        redis_server.start()
        # Leave the worker connected again, and this process sending at once, for the tests that follow.
        wait_for(worker_answers, 60, "the worker to reconnect")
        broker_breaker.reset()
    assert response.status_code == 302
    assert elapsed < 2
    job, seen = wait_until_finished(client, conversion.id, timeout=90)
    assert job["status"] == "succeeded", job["error"]
