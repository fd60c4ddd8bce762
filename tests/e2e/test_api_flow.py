"""The phone app's path, over real HTTP: token, upload, poll, download; a real worker converts."""
import io
import time

import pytest
import requests
from django.contrib.auth import get_user_model
from PIL import Image

pytestmark = pytest.mark.e2e


def test_a_phone_app_uploads_with_a_token_polls_and_downloads_the_result(
    celery_worker, wave_model, live_server, data_dir
):
    get_user_model().objects.create_user("mobile", password="mobile-password-1")
    api = f"{live_server.url}/api/v1"
    http = requests.Session()

    token = http.post(f"{api}/auth/token/", data={"username": "mobile", "password": "mobile-password-1"}).json()["token"]
    http.headers["Authorization"] = f"Token {token}"
    models = http.get(f"{api}/models/").json()
    wave = next(m for m in models if m["slug"] == "wave")

    photo = data_dir / "images" / "content" / "chelsea.png"
    with open(photo, "rb") as fh:
        created = http.post(f"{api}/conversions/", files={"image": fh}, data={"model": wave["id"]})
    assert created.status_code == 202, created.text
    job_url = created.headers["Location"]

    deadline = time.monotonic() + 120
    while (job := http.get(job_url).json())["status"] not in ("succeeded", "failed"):
        assert time.monotonic() < deadline, f"still {job['status']} after 120 s"
        time.sleep(0.3)
    assert job["status"] == "succeeded", job["error"]
    assert job["progress"] == 1.0

    result = http.get(job["result_url"], headers={"Accept": "image/*"})
    assert result.status_code == 200
    image = Image.open(io.BytesIO(result.content))
    assert image.size == (451, 300)
    assert http.get(job["thumbnail_url"]).status_code == 200

    listed = http.get(f"{api}/conversions/", params={"status": "succeeded"}).json()
    assert [c["id"] for c in listed["results"]] == [job["id"]]
    assert http.delete(job_url).status_code == 204
    assert http.get(job_url).status_code == 404
