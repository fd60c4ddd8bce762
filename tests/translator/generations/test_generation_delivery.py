"""Generations are delivered as conversions are (services.delivery): claimed once with a lease,
a worker that lost its lease writes nothing, the sweeper requeues or fails what a silent worker
left and removes old unsaved images with their files, never saved ones."""
import datetime as dt

import pytest
from django.utils import timezone

from translator import services
from translator.models import Generation

pytestmark = pytest.mark.django_db

Status = Generation.Status


def finish(claim, png=b"png"):
    return services.finish_generation(claim=claim, png_bytes=png, thumbnail_bytes=b"thumb", latent_bytes=b"npz",
                                      side=32, load_seconds=0, run_seconds=0.1)


def expire_lease(row):
    Generation.objects.filter(pk=row.pk).update(lease_expires_at=timezone.now() - dt.timedelta(seconds=1))


@pytest.fixture
def row(user, stylegan2_model):
    return services.create_grid(owner=user, art_model=stylegan2_model, seeds="5")[0]


def test_a_generation_is_claimed_once_with_a_lease(row):
    claim = services.claim_generation(generation_id=row.pk, worker="w1")
    assert claim.attempt == 1
    assert services.claim_generation(generation_id=row.pk, worker="w2") is None
    held = Generation.objects.get(pk=row.pk)
    assert (held.status, held.worker, held.claim_token) == (Status.RUNNING, "w1", claim.token)
    assert held.lease_expires_at > timezone.now()


def test_a_worker_that_lost_its_lease_cannot_write_and_the_job_ends_with_one_image(row, list_stored_files):
    first = services.claim_generation(generation_id=row.pk, worker="w1")
    expire_lease(row)
    assert services.sweep_generations()["requeued"] == 1
    assert Generation.objects.get(pk=row.pk).status == Status.QUEUED
    second = services.claim_generation(generation_id=row.pk, worker="w2")
    assert second.attempt == 2

    assert finish(first, b"stale") is None  # the frozen first worker comes back: dropped
    assert list_stored_files("generations") == []
    assert not services.renew_generation_lease(claim=first)
    services.fail_generation(claim=first, reason="late")
    assert Generation.objects.get(pk=row.pk).status == Status.RUNNING

    done = finish(second, b"fresh")
    assert done.status == Status.SUCCEEDED and done.attempts == 2
    with done.image.open("rb") as fh:
        assert fh.read() == b"fresh"
    assert len(list_stored_files("generations")) == 3  # image, thumbnail, latent
    services.fail_generation(claim=first, reason="late")
    assert Generation.objects.get(pk=row.pk).status == Status.SUCCEEDED


def test_a_generation_deleted_while_it_runs_keeps_no_files(row, list_stored_files):
    claim = services.claim_generation(generation_id=row.pk)
    services.delete_generation(generation=row)
    assert finish(claim) is None
    assert list_stored_files("generations") == []


def test_a_generation_that_stops_its_worker_every_time_fails_after_the_last_attempt(row, settings):
    settings.RESTYLE_JOB_MAX_ATTEMPTS = 2
    for _ in range(2):
        assert services.claim_generation(generation_id=row.pk)
        expire_lease(row)
        services.sweep_generations()
    failed = Generation.objects.get(pk=row.pk)
    assert failed.status == Status.FAILED and "stopped 2 times" in failed.error


def test_a_generation_no_worker_takes_fails_after_the_queue_timeout(row, settings):
    settings.RESTYLE_QUEUE_TIMEOUT_MINUTES = 30
    Generation.objects.filter(pk=row.pk).update(queued_at=timezone.now() - dt.timedelta(minutes=31))
    assert services.sweep_generations()["expired"] == 1
    assert "No worker was free" in Generation.objects.get(pk=row.pk).error


def test_the_sweeper_removes_old_unsaved_images_and_their_files_never_saved_ones(
    user, stylegan2_model, settings, list_stored_files, django_capture_on_commit_callbacks
):
    settings.RESTYLE_UNSAVED_GENERATIONS_HOURS = 24
    old_unsaved, old_saved, new_unsaved = services.create_grid(owner=user, art_model=stylegan2_model, seeds="1,2,3")
    for r in (old_unsaved, old_saved, new_unsaved):
        finish(services.claim_generation(generation_id=r.pk))
    services.save_generation(generation=old_saved)
    Generation.objects.filter(pk__in=[old_unsaved.pk, old_saved.pk]).update(created_at=timezone.now() - dt.timedelta(hours=25))
    assert len(list_stored_files("generations")) == 9

    with django_capture_on_commit_callbacks(execute=True):  # the files go once the rows surely have
        counts = services.sweep()["generations"]
    assert counts["removed"] == 1
    assert set(Generation.objects.values_list("pk", flat=True)) == {old_saved.pk, new_unsaved.pk}
    assert len(list_stored_files("generations")) == 6
    assert not any(old_unsaved.id.hex in name for name in list_stored_files("generations"))


def test_an_unfinished_old_unsaved_image_is_left_to_the_lease_rules(row, settings):
    settings.RESTYLE_UNSAVED_GENERATIONS_HOURS = 1
    services.claim_generation(generation_id=row.pk)
    Generation.objects.filter(pk=row.pk).update(created_at=timezone.now() - dt.timedelta(hours=2))
    assert services.sweep_generations()["removed"] == 0
    assert Generation.objects.filter(pk=row.pk, status=Status.RUNNING).exists()
