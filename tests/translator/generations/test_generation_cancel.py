"""Cancelling a generated image, as conversions are cancelled: a queued one ends cancelled at
once and no worker makes it; a running one is cancelled when its worker comes to store the
image, and nothing is stored; a finished one is a 409 that says so. Through the API, the grid
tile and the image's page, with the real task and a tiny32 checkpoint (random weights)."""
from datetime import timedelta

import pytest
from django.utils import timezone

from translator import services
from translator.models import Generation
from translator.tasks import run_generation
from translator.worker import generation as worker_generation

pytestmark = pytest.mark.django_db


def grid(client, model, seeds="1"):
    response = client.post("/api/v1/generations/", {"model": model.pk, "seeds": seeds}, format="json")
    assert response.status_code == 202, response.json()
    return response.json()["generations"]


def test_a_queued_image_is_cancelled_at_once_and_no_worker_makes_it(alice_api, stylegan2_model, list_stored_files):
    [row] = grid(alice_api, stylegan2_model)
    response = alice_api.post(f"/api/v1/generations/{row['id']}/cancel/")
    assert response.status_code == 202
    assert response.json()["status"] == "cancelled"
    run_generation(row["id"])  # its message arrives after all: the worker finds nothing to do
    item = Generation.objects.get(pk=row["id"])
    assert item.status == Generation.Status.CANCELLED and item.finished_at is not None
    assert item.attempts == 0 and not item.image and list_stored_files("generations") == []


def test_a_running_image_is_cancelled_when_its_worker_comes_to_store_it(alice_api, stylegan2_model, monkeypatch,
                                                                     list_stored_files):
    [row] = grid(alice_api, stylegan2_model)
    seen = {}
    real_make = worker_generation.make

    def make_while_the_owner_cancels(generation):
        made = real_make(generation)  # the real network runs ...
        # ... and meanwhile the owner presses Cancel: the row is the worker's, so it is only asked to stop.
        seen["answer"] = alice_api.post(f"/api/v1/generations/{row['id']}/cancel/").json()["status"]
        return made

    monkeypatch.setattr(worker_generation, "make", make_while_the_owner_cancels)
    run_generation(row["id"])
    item = Generation.objects.get(pk=row["id"])
    assert seen["answer"] == "cancelling"
    assert item.status == Generation.Status.CANCELLED and item.lease_expires_at is None
    assert not item.image and not item.thumbnail and not item.latent
    assert list_stored_files("generations") == []  # nothing of the attempt was kept


def test_a_finished_image_cannot_be_cancelled_and_the_409_says_why(alice_api, stylegan2_model, run_all):
    [row] = grid(alice_api, stylegan2_model)
    run_all()
    response = alice_api.post(f"/api/v1/generations/{row['id']}/cancel/")
    assert response.status_code == 409
    assert "already finished (done)" in str(response.json())
    assert Generation.objects.get(pk=row["id"]).status == Generation.Status.SUCCEEDED


def test_cancelling_twice_while_it_runs_is_not_an_error(user, stylegan2_model):
    [row] = services.create_grid(owner=user, art_model=stylegan2_model, seeds="2")
    services.claim_generation(generation_id=row.pk)
    assert services.cancel_generation(generation=row).status == Generation.Status.CANCELLING
    assert services.cancel_generation(generation=row).status == Generation.Status.CANCELLING


def test_another_users_image_cannot_be_cancelled(alice_api, bob_api, stylegan2_model):
    [row] = grid(alice_api, stylegan2_model)
    assert bob_api.post(f"/api/v1/generations/{row['id']}/cancel/").status_code == 404
    assert Generation.objects.get(pk=row["id"]).status == Generation.Status.QUEUED


def test_a_cancel_whose_worker_went_silent_ends_cancelled_by_the_sweeper(user, stylegan2_model):
    [row] = services.create_grid(owner=user, art_model=stylegan2_model, seeds="3")
    services.claim_generation(generation_id=row.pk)
    services.cancel_generation(generation=row)
    Generation.objects.filter(pk=row.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    assert services.sweep_generations()["cancelled"] == 1
    assert Generation.objects.get(pk=row.pk).status == Generation.Status.CANCELLED


def test_the_grid_tile_and_the_image_page_offer_cancel_while_it_waits(alice, stylegan2_model):
    alice.post("/generate/", {"art_model": stylegan2_model.pk, "seeds": "4,5", "truncation": "0.7", "noise_mode": "const"})
    first, second = Generation.objects.order_by("seed")
    grid_url = f"/generate/{first.batch}/"
    html = alice.get(grid_url).content.decode()
    assert html.count("data-cancel") == 2 and f"/generated/{first.pk}/cancel" in html

    response = alice.post(f"/generated/{first.pk}/cancel", {"next": grid_url})
    assert response.status_code == 302 and response["Location"] == grid_url
    first.refresh_from_db()
    assert first.status == Generation.Status.CANCELLED
    assert 'data-state="cancelled"' in alice.get(grid_url).content.decode()  # site.css hides its Cancel then

    assert f"/generated/{second.pk}/cancel" in alice.get(f"/generated/{second.pk}/").content.decode()
    response = alice.post(f"/generated/{second.pk}/cancel")
    assert response["Location"] == f"/generated/{second.pk}/"
    assert Generation.objects.get(pk=second.pk).status == Generation.Status.CANCELLED
    again = alice.post(f"/generated/{second.pk}/cancel", follow=True)
    assert "already finished (cancelled)" in again.content.decode()
