"""The output-size choice on real parts: a phone app uploads a 12 MP photo held upright (EXIF
orientation 6) and a real worker returns it at a long side of 1024, upright; a person picks a
size on the upload page in a real browser and sees the result's size on the job's page."""
import io
import time

import numpy as np
import pytest
import requests
from django.contrib.auth import get_user_model
from PIL import Image, ImageOps

from mlcore.inference import Inferer
from translator.models import Conversion
from translator.worker.output_size import fit_long_side

from .phone_photo import phone_photo

pytestmark = pytest.mark.e2e


def test_a_12_mp_phone_photo_comes_back_upright_at_a_long_side_of_1024(
    celery_worker, wave_model, live_server, data_dir
):
    get_user_model().objects.create_user("phone", password="phone-password-1")
    api = f"{live_server.url}/api/v1"
    http = requests.Session()
    token = http.post(f"{api}/auth/token/", data={"username": "phone", "password": "phone-password-1"}).json()["token"]
    http.headers["Authorization"] = f"Token {token}"
    jpeg = phone_photo(data_dir / "images" / "content" / "chelsea.png")  # 4032x3024 stored, orientation 6

    created = http.post(f"{api}/conversions/", files={"image": ("IMG_0001.JPG", jpeg, "image/jpeg")},
                        data={"model": wave_model.pk})  # no size asked for: the default
    assert created.status_code == 202, created.text
    assert created.json()["output_size"] == "1024"
    deadline = time.monotonic() + 180
    while (job := http.get(created.headers["Location"]).json())["status"] not in ("succeeded", "failed"):
        assert time.monotonic() < deadline, f"still {job['status']} after 180 s"
        time.sleep(0.3)
    assert job["status"] == "succeeded", job["error"]
    assert (job["photo"]["width"], job["photo"]["height"]) == (3024, 4032)
    assert (job["result_width"], job["result_height"]) == (768, 1024)

    result = Image.open(io.BytesIO(http.get(job["result_url"], headers={"Accept": "image/*"}).content))
    assert result.size == (768, 1024)
    # The real network on the upright photo, scaled as the worker scales it: the same picture (up
    # to JPEG), and not the same upside down.
    upright = ImageOps.exif_transpose(Image.open(io.BytesIO(jpeg))).convert("RGB")
    inferer = Inferer.load(wave_model.current_version.checkpoint.path)
    got = np.asarray(result, np.float32)
    near = np.abs(got - np.asarray(inferer.translate(fit_long_side(upright, 1024)), np.float32)).mean() / 255
    far = np.abs(got - np.asarray(inferer.translate(fit_long_side(upright.rotate(180), 1024)), np.float32)).mean() / 255
    assert near < 0.03 and far > 3 * near, (near, far)


def test_a_person_picks_a_small_result_and_sees_its_size(celery_worker, wave_model, page, data_dir, tmp_path):
    from playwright.sync_api import expect

    get_user_model().objects.create_user("demo", password="demo-password-1")
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("demo")
    page.get_by_label("Password").fill("demo-password-1")
    page.get_by_role("button", name="Log in").click()

    page.goto("/")
    size = page.get_by_label("Result size")
    expect(size).to_have_value("1024")  # the default, as the API's
    photo = tmp_path / "coffee-large.jpg"
    with Image.open(data_dir / "images" / "content" / "coffee.png") as image:  # 600x400
        image.convert("RGB").resize((1200, 800), Image.Resampling.LANCZOS).save(photo, quality=92)
    page.set_input_files("input[name=image]", str(photo))
    page.get_by_text("The Great Wave").click()
    size.select_option("512")
    page.get_by_role("button", name="Convert").click()

    expect(page.locator("[data-status]")).to_have_text("Done", timeout=120_000)
    expect(page.locator("[data-result-size]")).to_have_text("· 512×341")
    expect(page.locator("[data-output-size]")).to_have_text("(asked: long side 512 px)")
    natural = page.locator("img[data-result]").evaluate("img => [img.naturalWidth, img.naturalHeight]")
    assert natural == [512, 341]
    assert Conversion.objects.get().output_long_side == 512
