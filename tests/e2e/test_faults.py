"""Faults injected into a real site: redis-server, Celery workers and gunicorn as processes,
broken with kill -9 and SIGSTOP as production breaks them. After each fault, every accepted
job must end (succeeded, failed with a reason or cancelled), none may be lost, and none may
leave two results: the job table and the stored files are counted.

Leases, sweeps and resends are shortened (a 3 s lease) so each fault settles in seconds; the
README gives the production bounds.
"""
import os
import signal
import time

import pytest
import requests
from PIL import Image

from translator.models import ArtModel, Conversion
from translator.output_sizes import fitted

from .stack import Stack, api_user, free_port, prepare_site_here, wait_for

pytestmark = pytest.mark.e2e

FINISHED = {"succeeded", "failed", "cancelled"}
LEASE = 3


@pytest.fixture
def broker():
    """The site's broker. tests/e2e/test_rabbitmq.py runs some of these tests again on "rabbitmq"."""
    return "redis"


@pytest.fixture
def stack(broker, transactional_db, test_database_env, tmp_path, settings, data_dir):
    """A site of its own: its broker (which the tests kill), workers, gunicorn, media folder."""
    media = tmp_path / "media"
    settings.MEDIA_ROOT = media
    # With Redis the rate limits count there too, as in production; with RabbitMQ and nothing
    # else (no Redis runs) they count in each process.
    env = {
        **prepare_site_here(test_database_env, data_dir=data_dir, cache=broker == "redis"),
        "RESTYLE_MEDIA_ROOT": str(media),
        "RESTYLE_JOB_LEASE_SECONDS": str(LEASE),
        "RESTYLE_SWEEP_SECONDS": "0.5",
        "RESTYLE_REDISPATCH_SECONDS": "2",
        "RESTYLE_BROKER_RETRY_SECONDS": "1",
        "RESTYLE_JOB_MAX_ATTEMPTS": "3",
    }
    if broker != "redis":
        env["RESTYLE_BROKER_URL"] = f"amqp://guest:guest@127.0.0.1:{free_port()}//"
        env["RESTYLE_BROKER_QUEUE_TYPE"] = "quorum" if broker == "rabbitmq-quorum" else "classic"
    site = Stack(tmp_path, env)
    site.start_broker()
    site.start_web()
    yield site
    if os.environ.get("RESTYLE_SHOW_WORKER_LOG"):
        print(site.logs())
    site.stop()


@pytest.fixture
def api(stack):
    http = api_user(stack, "faults")
    http.model = ArtModel.objects.get(slug="wave").pk
    return http


def upload(api, data_dir, photo="amber.jpg"):
    """Upload a photo; returns (job id, seconds the request took). amber.jpg (1080x1080) takes a
    few seconds to convert here, long enough to break something while it runs; chelsea.png
    (451x300) well under one."""
    with open(data_dir / "images" / "content" / photo, "rb") as fh:
        started = time.monotonic()
        response = api.post(f"{api.base}/conversions/", files={"image": fh}, data={"model": api.model}, timeout=30)
    assert response.status_code == 202, response.text
    return response.json()["id"], time.monotonic() - started


def running(job_id, attempt=1):
    """The job's row once it runs its `attempt`-th attempt."""
    return lambda: Conversion.objects.filter(id=job_id, status="running", attempts=attempt).first()


def worker_of(stack, job):
    return next(p for p in stack.processes if getattr(p, "hostname", None) == job.worker)


def settle(stack, ids, timeout=180):
    """Wait until every job has ended; then check that each left exactly the files of its state."""
    def ended():
        return set(Conversion.objects.filter(id__in=ids).values_list("status", flat=True)) <= FINISHED

    try:
        wait_for(ended, timeout, "every job to end", interval=0.3)
    except AssertionError as exc:
        rows = list(Conversion.objects.filter(id__in=ids).values_list("id", "status", "attempts", "worker"))
        raise AssertionError(f"{exc}\n{rows}\n{stack.logs()}") from None
    jobs = {str(j.id): j for j in Conversion.objects.filter(id__in=ids)}
    assert len(jobs) == len(ids), "a job vanished"
    results = stack.env["RESTYLE_MEDIA_ROOT"] + "/results"
    stored = sorted(p.name for p in __import__("pathlib").Path(results).rglob("*") if p.is_file())
    for job in jobs.values():
        mine = [name for name in stored if name.startswith(job.id.hex)]
        if job.status == "succeeded":
            # One result and its thumbnail: never two results of two attempts.
            assert sorted(n.split("-", 1)[1] for n in mine) == ["result.jpg", "thumb.jpg"], (job.id, mine)
            with job.result.open("rb") as fh:
                assert Image.open(fh).size == fitted(job.photo.width, job.photo.height, job.output_long_side)
        else:
            assert mine == [], (job.id, job.status, mine)
    assert len(stored) == 2 * sum(j.status == "succeeded" for j in jobs.values()), stored
    return jobs


def test_a_pool_child_killed_mid_job_loses_nothing_and_converts_each_photo_once(stack, api, data_dir):
    worker = stack.start_worker("conversions", "conversions")
    ids = [upload(api, data_dir)[0]] + [upload(api, data_dir, "chelsea.png")[0] for _ in range(2)]
    wait_for(running(ids[0]), 60, "the first job to run")
    [child] = stack.pool_children(worker)
    os.kill(child, signal.SIGKILL)

    jobs = settle(stack, ids)
    assert [jobs[i].status for i in ids] == ["succeeded"] * 3
    assert jobs[ids[0]].attempts == 2  # the killed attempt, then the one that finished
    assert [jobs[i].attempts for i in ids[1:]] == [1, 1]


def test_a_worker_main_process_killed_mid_job_then_started_again_loses_nothing(stack, api, data_dir):
    worker = stack.start_worker("conversions", "conversions")
    ids = [upload(api, data_dir)[0], upload(api, data_dir, "chelsea.png")[0]]
    wait_for(running(ids[0]), 60, "the first job to run")
    worker.signal(signal.SIGKILL)
    stack.start_worker("conversions-again", "conversions")

    jobs = settle(stack, ids)
    assert [jobs[i].status for i in ids] == ["succeeded"] * 2
    assert jobs[ids[0]].attempts == 2 and jobs[ids[0]].worker.startswith("conversions-again@")


def test_a_worker_that_never_comes_back_leaves_its_jobs_to_the_others(stack, api, data_dir):
    first = stack.start_worker("first", "conversions")
    stack.start_worker("second", "conversions")
    ids = [upload(api, data_dir)[0] for _ in range(2)] + [upload(api, data_dir, "chelsea.png")[0] for _ in range(2)]
    job = wait_for(lambda: Conversion.objects.filter(id__in=ids, status="running", worker=first.hostname).first(),
                   60, "the first worker to take a job")
    first.signal(signal.SIGKILL)

    jobs = settle(stack, ids)
    assert {j.status for j in jobs.values()} == {"succeeded"}
    assert jobs[str(job.id)].worker.startswith("second@")


def test_redis_killed_and_restarted_empty_loses_no_queued_job(stack, api, data_dir):
    stack.start_worker("conversions", "conversions")
    ids = [upload(api, data_dir)[0]] + [upload(api, data_dir, "chelsea.png")[0] for _ in range(3)]
    wait_for(running(ids[0]), 60, "the first job to run")
    # This Redis keeps nothing on disk: every queued message is gone. (A RabbitMQ node comes back
    # with what it had on disk, and sends again what its dead workers had not acknowledged.)
    stack.kill_broker()
    time.sleep(1)
    stack.start_broker()

    jobs = settle(stack, ids)
    assert {j.status for j in jobs.values()} == {"succeeded"}


def test_uploads_while_redis_is_down_are_accepted_at_once_and_run_once_it_is_back(stack, api, data_dir):
    stack.start_worker("conversions", "conversions")
    stack.kill_broker()
    uploads = [upload(api, data_dir, "chelsea.png") for _ in range(3)]
    assert max(seconds for _, seconds in uploads) < 2, uploads
    ids = [job_id for job_id, _ in uploads]
    # Stored and waiting, and the API says so: not failed, not lost.
    assert [api.get(f"{api.base}/conversions/{i}/").json()["status"] for i in ids] == ["queued"] * 3
    stack.start_broker()

    jobs = settle(stack, ids)
    assert {j.status for j in jobs.values()} == {"succeeded"}


def test_a_frozen_redis_never_stalls_uploads_or_pages(stack, api, data_dir):
    stack.start_worker("conversions", "conversions")
    stack.broker.signal(signal.SIGSTOP)
    try:
        uploads = [upload(api, data_dir, "chelsea.png") for _ in range(4)]
        started = time.monotonic()
        assert requests.get(f"{stack.web_url}/accounts/login/", timeout=10).status_code == 200
        login_seconds = time.monotonic() - started
    finally:
        stack.broker.signal(signal.SIGCONT)
    # The first request may wait out the broker's short timeout; the rest do not wait at all.
    assert max(seconds for _, seconds in uploads) < 2.5, uploads
    assert sum(seconds for _, seconds in uploads[1:]) < 2, uploads
    assert login_seconds < 1

    jobs = settle(stack, [job_id for job_id, _ in uploads])
    assert {j.status for j in jobs.values()} == {"succeeded"}


def test_a_job_that_kills_its_worker_every_time_fails_after_three_attempts_and_holds_up_no_other(
    stack, api, data_dir
):
    stack.start_worker("one", "conversions")
    stack.start_worker("two", "conversions")
    poison = upload(api, data_dir)[0]
    others = [upload(api, data_dir, "chelsea.png")[0] for _ in range(4)]
    for attempt in (1, 2, 3):
        job = wait_for(running(poison, attempt), 60, f"attempt {attempt} of the poison job")
        [child] = stack.pool_children(worker_of(stack, job))
        os.kill(child, signal.SIGKILL)

    jobs = settle(stack, [poison, *others])
    assert jobs[poison].status == "failed" and jobs[poison].attempts == 3
    assert "stopped 3 times" in jobs[poison].error
    assert {jobs[i].status for i in others} == {"succeeded"}


def test_a_frozen_worker_loses_its_job_to_another_and_its_late_result_is_dropped(stack, api, data_dir):
    frozen = stack.start_worker("frozen", "conversions")
    job_id = upload(api, data_dir)[0]
    wait_for(running(job_id), 60, "the job to run")
    os.killpg(frozen.pid, signal.SIGSTOP)  # the main process and its pool child
    try:
        stack.start_worker("other", "conversions")
        wait_for(lambda: Conversion.objects.filter(id=job_id, status="succeeded").exists(), 90,
                 "the other worker to finish the job")
    finally:
        os.killpg(frozen.pid, signal.SIGCONT)
    # The frozen worker wakes up mid-job, finishes, and must find the job no longer its own.
    wait_for(lambda: "result dropped" in frozen.log_text(), 60, "the frozen worker to drop its result")

    job = settle(stack, [job_id])[job_id]
    assert job.status == "succeeded" and job.attempts == 2 and job.worker.startswith("other@")


def test_a_cancel_asked_while_the_worker_dies_ends_cancelled(stack, api, data_dir):
    worker = stack.start_worker("conversions", "conversions")
    job_id = upload(api, data_dir)[0]
    wait_for(running(job_id), 60, "the job to run")
    assert api.post(f"{api.base}/conversions/{job_id}/cancel/").json()["status"] == "cancelling"
    worker.signal(signal.SIGKILL)

    assert settle(stack, [job_id], timeout=30)[job_id].status == "cancelled"
