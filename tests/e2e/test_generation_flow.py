"""Generated images over real HTTP with a real Celery worker: a grid through the API, polled
until made, one saved to the gallery, its PNG the same on every download."""
import io
import time

import numpy as np
import pytest
import requests
from django.contrib.auth import get_user_model
from PIL import Image

pytestmark = pytest.mark.e2e


def test_a_grid_is_generated_by_a_worker_through_the_api_and_one_image_is_saved(celery_worker, sg2_model, live_server):
    get_user_model().objects.create_user("maker", password="maker-password-1")
    api = f"{live_server.url}/api/v1"
    http = requests.Session()
    token = http.post(f"{api}/auth/token/", data={"username": "maker", "password": "maker-password-1"}).json()["token"]
    http.headers["Authorization"] = f"Token {token}"

    created = http.post(f"{api}/generations/", json={"model": sg2_model.pk, "seeds": "0-3", "truncation": 0.7})
    assert created.status_code == 202, created.text
    grid = created.json()
    assert grid["seeds"] == [0, 1, 2, 3]

    deadline = time.monotonic() + 120
    while True:
        rows = http.get(f"{api}/generations/", params={"saved": "false", "batch": grid["batch"]}).json()["results"]
        if all(r["status"] in ("succeeded", "failed") for r in rows):
            break
        assert time.monotonic() < deadline, f"still {[r['status'] for r in rows]} after 120 s"
        time.sleep(0.3)
    assert [r["status"] for r in rows] == ["succeeded"] * 4, [r["error"] for r in rows]
    assert all(r["worker"].startswith("e2e-conversions") and r["side"] == 32 for r in rows)

    chosen = rows[1]
    assert http.post(f"{chosen['url']}save/").json()["saved"] is True
    gallery = http.get(f"{api}/generations/").json()["results"]
    assert [(g["id"], g["seed"]) for g in gallery] == [(chosen["id"], 1)]

    def download():
        response = http.get(chosen["image_url"], headers={"Accept": "image/*"})
        assert response.status_code == 200 and response.headers["Content-Type"] == "image/png"
        return np.asarray(Image.open(io.BytesIO(response.content)))

    assert download().shape == (32, 32, 3) and np.array_equal(download(), download())
    assert http.get(chosen["latent_url"]).status_code == 200


def test_a_person_generates_a_grid_in_the_browser_watches_it_fill_in_and_saves_one(celery_worker, sg2_model, page):
    from playwright.sync_api import expect

    from translator.models import Generation

    get_user_model().objects.create_user("painter", password="painter-password-1")
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("painter")
    page.get_by_label("Password").fill("painter-password-1")
    page.get_by_role("button", name="Log in").click()

    page.get_by_role("link", name="Generate").click()
    expect(page.get_by_text("Tiny StyleGAN2")).to_be_visible()
    page.get_by_label("Seeds").fill("0-3")
    page.locator("input[type=range][name=truncation]").fill("0.5")
    expect(page.locator("[data-truncation-value]")).to_have_text("0.50")  # the slider shows its value (generate.js)
    page.get_by_role("button", name="Generate", exact=True).click()

    expect(page.get_by_role("heading", name="Your grid")).to_be_visible()
    page.evaluate("window.__sameDocument = true")  # the grid fills in without a reload
    expect(page.locator(".tile img[data-thumbnail]")).to_have_count(4, timeout=120_000)
    assert page.evaluate("window.__sameDocument") is True
    assert {g.truncation for g in Generation.objects.all()} == {0.5}
    save_buttons = page.get_by_role("button", name="Save to gallery")
    expect(save_buttons).to_have_count(4)
    save_buttons.nth(2).click()
    expect(page.get_by_text("Saved to your gallery: Tiny StyleGAN2, seed 2.")).to_be_visible()

    page.get_by_role("link", name="Gallery").first.click()
    expect(page.get_by_role("heading", name="Generated")).to_be_visible()
    tiles = page.locator("[data-generated-section] .tile img[data-thumbnail]")
    expect(tiles).to_have_count(1)
    assert tiles.first.evaluate("img => img.naturalWidth") > 0
