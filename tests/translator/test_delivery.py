"""The delivery guarantees, one rule at a time, on the real database and real files: a job is
claimed once, a worker that lost its claim changes nothing, the sweeper settles what a fault
left behind. (tests/e2e/test_faults.py breaks real processes to see the same rules hold.)"""
import datetime as dt
import time

import pytest
from django.utils import timezone

from translator import services
from translator.models import Conversion, Dataset, TrainingRun
from translator.services import delivery

pytestmark = pytest.mark.django_db

Status = Conversion.Status


def result_files(list_stored_files):
    return [f for f in list_stored_files() if f.startswith("results/")]


def finish(claim, result=b"result"):
    return services.finish_conversion(
        claim=claim, result_bytes=result, result_ext="jpg", thumbnail_bytes=b"thumb", load_seconds=0, run_seconds=1
    )


def expire_lease(conversion):
    Conversion.objects.filter(pk=conversion.pk).update(lease_expires_at=timezone.now() - dt.timedelta(seconds=1))


@pytest.fixture
def no_broker(settings):
    """Nothing listens on the broker's port here: sending fails at once."""
    settings.RESTYLE_BROKER_RETRY_SECONDS = 0  # every send really tries
    delivery.broker_breaker.reset()
    yield
    delivery.broker_breaker.reset()


def test_a_job_is_claimed_once_with_a_lease(conversion):
    claim = services.claim_conversion(conversion_id=conversion.id, worker="w1")
    assert claim.attempt == 1
    assert services.claim_conversion(conversion_id=conversion.id, worker="w2") is None
    row = Conversion.objects.get(pk=conversion.pk)
    assert (row.status, row.worker, row.claim_token) == (Status.RUNNING, "w1", claim.token)
    assert row.lease_expires_at > timezone.now()


def test_renewing_pushes_the_lease_and_fails_once_the_job_is_not_ours(conversion):
    claim = services.claim_conversion(conversion_id=conversion.id)
    expire_lease(conversion)
    assert services.renew_lease(claim=claim)
    assert Conversion.objects.get(pk=conversion.pk).lease_expires_at > timezone.now()
    expire_lease(conversion)
    services.sweep_conversions()  # taken back
    assert not services.renew_lease(claim=claim)


def test_a_job_whose_worker_went_silent_is_queued_again_and_ends_with_one_result(conversion, list_stored_files):
    first = services.claim_conversion(conversion_id=conversion.id, worker="w1")
    expire_lease(conversion)
    assert services.sweep_conversions()["requeued"] == 1
    row = Conversion.objects.get(pk=conversion.pk)
    assert (row.status, row.lease_expires_at, row.dispatched_at) == (Status.QUEUED, None, None)

    second = services.claim_conversion(conversion_id=conversion.id, worker="w2")
    assert second.attempt == 2
    # The first worker was only frozen: it comes back with its result, which is dropped.
    assert finish(first, b"stale") is None
    assert result_files(list_stored_files) == []
    assert not services.renew_lease(claim=first)
    assert services.cancel_requested(claim=first)  # a slow job of the first worker stops

    done = finish(second, b"fresh")
    assert done.status == Status.SUCCEEDED and done.attempts == 2
    assert len(result_files(list_stored_files)) == 2  # one result and its thumbnail
    with done.result.open("rb") as fh:
        assert fh.read() == b"fresh"
    services.fail_conversion(claim=first, reason="late")  # nor can it fail the job
    assert Conversion.objects.get(pk=conversion.pk).status == Status.SUCCEEDED


def test_a_job_that_stops_its_worker_every_time_fails_after_the_last_attempt(conversion, settings):
    settings.RESTYLE_JOB_MAX_ATTEMPTS = 3
    for attempt in (1, 2, 3):
        assert services.claim_conversion(conversion_id=conversion.id).attempt == attempt
        expire_lease(conversion)
        services.sweep_conversions()
    row = Conversion.objects.get(pk=conversion.pk)
    assert row.status == Status.FAILED
    assert "stopped 3 times" in row.error and row.finished_at


def test_a_live_lease_is_left_alone(conversion):
    services.claim_conversion(conversion_id=conversion.id)
    assert services.sweep_conversions()["requeued"] == 0
    assert Conversion.objects.get(pk=conversion.pk).status == Status.RUNNING


def test_a_cancel_whose_worker_went_silent_ends_cancelled(conversion):
    services.claim_conversion(conversion_id=conversion.id)
    services.cancel_conversion(conversion=conversion)
    expire_lease(conversion)
    assert services.sweep_conversions()["cancelled"] == 1
    assert Conversion.objects.get(pk=conversion.pk).status == Status.CANCELLED


def test_a_job_no_worker_takes_fails_after_the_queue_timeout(conversion, settings, no_broker):
    settings.RESTYLE_QUEUE_TIMEOUT_MINUTES = 30
    services.sweep_conversions()
    assert Conversion.objects.get(pk=conversion.pk).status == Status.QUEUED
    Conversion.objects.filter(pk=conversion.pk).update(queued_at=timezone.now() - dt.timedelta(minutes=31))
    assert services.sweep_conversions()["expired"] == 1
    row = Conversion.objects.get(pk=conversion.pk)
    assert row.status == Status.FAILED and "No worker was free" in row.error and "30 minutes" in row.error


def test_an_upload_while_the_broker_is_down_answers_at_once_and_waits_for_the_sweeper(
    alice, art_model, upload_file, no_broker, django_capture_on_commit_callbacks
):
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        response = alice.post("/", {"image": upload_file(), "art_model": art_model.pk})
    assert response.status_code == 302
    assert time.monotonic() - started < 2
    job = Conversion.objects.get()
    assert (job.status, job.dispatched_at, job.dispatches) == (Status.QUEUED, None, 0)
    # The API says what is true: stored and waiting, not failed.
    assert alice.get(f"/api/v1/conversions/{job.id}/").json()["status"] == "queued"


def test_the_sweeper_resends_a_message_never_sent_and_undoes_the_mark_when_the_broker_is_down(
    conversion, settings, no_broker
):
    settings.RESTYLE_SWEEP_SECONDS = 10
    assert services.sweep_conversions()["resent"] == 0  # just queued: the web's own send may be under way
    Conversion.objects.filter(pk=conversion.pk).update(queued_at=timezone.now() - dt.timedelta(seconds=11))
    assert services.sweep_conversions()["resent"] == 0  # the broker is down
    row = Conversion.objects.get(pk=conversion.pk)
    assert (row.dispatched_at, row.dispatches) == (None, 0)  # so it is sent as soon as it is back


def test_messages_are_resent_less_often_the_longer_a_job_waits(conversion, settings, monkeypatch):
    sent = []
    monkeypatch.setattr(delivery, "_send_message", lambda model, pk, queue: sent.append(pk) or True)
    settings.RESTYLE_REDISPATCH_SECONDS = 60
    now = timezone.now()

    def sent_after(seconds_ago, dispatches):
        sent.clear()
        Conversion.objects.filter(pk=conversion.pk).update(
            dispatched_at=now - dt.timedelta(seconds=seconds_ago), dispatches=dispatches
        )
        services.sweep_conversions(now=now)
        return bool(sent)

    assert not sent_after(59, 1)
    assert sent_after(61, 1)
    assert not sent_after(119, 2)  # the second resend waits twice as long
    assert sent_after(121, 2)
    assert not sent_after(959, 9)  # and never more than sixteen times
    assert sent_after(961, 9)
    assert Conversion.objects.get(pk=conversion.pk).dispatches == 10


def test_after_a_failed_send_the_broker_is_left_alone_for_a_while(settings):
    settings.RESTYLE_BROKER_RETRY_SECONDS = 30
    delivery.broker_breaker.reset()
    try:
        assert delivery._send_message(Conversion, "a", "conversions") is False
        started = time.monotonic()
        assert delivery._send_message(Conversion, "b", "conversions") is False
        assert time.monotonic() - started < 0.05  # did not even try
    finally:
        delivery.broker_breaker.reset()


def test_a_training_run_whose_worker_went_silent_fails_resumable_and_a_stale_worker_cannot_finish_it(
    tiny_run, settings
):
    run = services.start_run(run=tiny_run)
    claim = services.claim_run(run_id=run.pk, worker="w1")
    TrainingRun.objects.filter(pk=run.pk).update(lease_expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert services.sweep_runs()["failed"] == 1
    services.run_stopped(claim=claim, step=3)  # the silent worker wakes up: it changes nothing
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.FAILED and run.step == 0
    services.start_run(run=run)
    assert services.claim_run(run_id=run.pk).attempt == 1  # a new start counts its attempts afresh


def test_a_dataset_check_whose_worker_went_silent_is_checked_again_then_given_up(dataset_to_check, settings):
    settings.RESTYLE_JOB_MAX_ATTEMPTS = 2
    for attempt in (1, 2):
        claim = services.claim_dataset_check(dataset_id=dataset_to_check.pk)
        assert claim.attempt == attempt
        assert services.claim_dataset_check(dataset_id=dataset_to_check.pk) is None  # held
        Dataset.objects.filter(pk=dataset_to_check.pk).update(lease_expires_at=timezone.now() - dt.timedelta(seconds=1))
        services.sweep_datasets()
    dataset = Dataset.objects.get(pk=dataset_to_check.pk)
    assert dataset.status == Dataset.Status.INVALID and "stopped its worker 2 times" in dataset.problems[0]


@pytest.fixture
def dataset_to_check(db, tmp_path, settings):
    folder = tmp_path / "data"
    folder.mkdir()
    settings.RESTYLE_DATASET_ROOTS = [tmp_path]
    return services.create_dataset(name="d", family="fast_style", server_path=str(folder))


@pytest.fixture
def tiny_run(db, dataset_to_check):
    from mlcore.fast_style import FastStyleTrainConfig

    Dataset.objects.filter(pk=dataset_to_check.pk).update(status=Dataset.Status.READY)
    dataset_to_check.refresh_from_db()
    return services.create_run(name="r", family="fast_style", dataset=dataset_to_check,
                               config=FastStyleTrainConfig(steps=4, batch_size=1))
