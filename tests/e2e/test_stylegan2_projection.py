""""Put my photo into this model" over real HTTP: a phone app uploads a photo for a StyleGAN2
model, a real Celery worker projects it on the slow queue, the app watches the progress and the
image so far, then downloads the projected image and the latent. The model is the tiny32 preset
with RANDOM WEIGHTS (its pictures are noise-like; every step is the real one)."""
import io
import time

import pytest
import requests
import torch
from django.contrib.auth import get_user_model
from PIL import Image

from mlcore.checkpoint import save_model
from mlcore.metrics import FALLBACK_LABEL
from mlcore.stylegan2 import StyleGAN2Config
from mlcore.stylegan2.generate import load_latent
from mlcore.stylegan2.networks import build

pytestmark = pytest.mark.e2e


@pytest.fixture
def tiny_gan(transactional_db, tmp_path):
    from translator import services
    from translator.models import ArtModel, Family

    torch.manual_seed(0)
    config = StyleGAN2Config.preset("tiny32")
    generator = build(config)
    path = save_model(tmp_path / "tiny32.safetensors", family="stylegan2", config=config,
                      state_dict=generator.state_dict(), meta={"name": "tiny32, random weights (tests only)"})
    model = ArtModel.objects.create(slug="tiny-gan", name="Tiny GAN", family=Family.STYLEGAN2)
    version = services.add_model_version(art_model=model, checkpoint_path=path, source="tests")
    version.config = {**version.config, "projection_steps": 150}  # long enough to be watched
    version.save()
    return model


def test_a_phone_app_puts_a_photo_into_a_stylegan2_model_and_gets_the_image_and_its_latent(
    celery_worker, tiny_gan, live_server, data_dir, tmp_path
):
    get_user_model().objects.create_user("mobile", password="mobile-password-1")
    api = f"{live_server.url}/api/v1"
    http = requests.Session()
    token = http.post(f"{api}/auth/token/", data={"username": "mobile", "password": "mobile-password-1"}).json()["token"]
    http.headers["Authorization"] = f"Token {token}"
    model = next(m for m in http.get(f"{api}/models/").json() if m["slug"] == "tiny-gan")
    assert model["expects"] == "Put my photo into this model"

    with open(data_dir / "images" / "content" / "amber.jpg", "rb") as fh:
        created = http.post(f"{api}/conversions/", files={"image": fh}, data={"model": model["id"]})
    assert created.status_code == 202, created.text
    job_url = created.headers["Location"]

    seen_progress, seen_image = set(), False
    deadline = time.monotonic() + 180
    while (job := http.get(job_url).json())["status"] not in ("succeeded", "failed", "cancelled"):
        assert time.monotonic() < deadline, f"still {job['status']} after 180 s"
        if job["status"] == "running" and 0 < job["progress"] < 1:
            seen_progress.add(job["progress_detail"])
            if job["intermediate_url"] and not seen_image:
                so_far = http.get(job["intermediate_url"], headers={"Accept": "image/*"})
                seen_image = so_far.status_code == 200 and so_far.content[:2] == b"\xff\xd8"
        time.sleep(0.1)
    assert job["status"] == "succeeded", job["error"]
    assert len(seen_progress) >= 2 and seen_image, (seen_progress, seen_image)
    assert job["label"] == FALLBACK_LABEL

    result = http.get(job["result_url"], headers={"Accept": "image/*"})
    assert Image.open(io.BytesIO(result.content)).size == (32, 32)
    latent = http.get(job["latent_url"], headers={"Accept": "application/octet-stream"})
    assert latent.status_code == 200
    (tmp_path / "latent.npz").write_bytes(latent.content)
    ws, meta = load_latent(tmp_path / "latent.npz")
    assert tuple(ws.shape) == (1, build(StyleGAN2Config.preset("tiny32")).num_ws, 64)
    assert meta["model"] == "tiny-gan"
