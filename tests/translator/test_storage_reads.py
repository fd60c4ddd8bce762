"""Reading from the object store (moto's S3 server) without fetching a file whole first: an owner's
file streams out as it arrives from the store, and the live page asks the store for a training
log's end alone."""
import hashlib
import os
import tracemalloc

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse

from translator.models import TrainingRun
from translator.worker import run_files, training_runs

from test_views import finish

pytestmark = pytest.mark.django_db

# Above django-storages' in-memory limit for a file it reads (config/storage.py, 8 MiB): a file
# fetched whole before it went out would hold at least that much memory, and then a temporary file.
LARGE = 9 * 1024 * 1024


class GetObjects:
    """The GetObject requests our own S3 client sends and what the store answered (botocore's
    event hooks on the storage's client)."""

    def __init__(self, storage):
        self.ranges, self.lengths = [], []
        events = storage.connection.meta.client.meta.events
        events.register("before-send.s3.GetObject", self._sent)
        events.register("after-call.s3.GetObject", self._answered)

    def _sent(self, request, **_):
        value = request.headers.get("Range")
        self.ranges.append(value.decode() if isinstance(value, bytes) else value)

    def _answered(self, parsed, **_):
        self.lengths.append(parsed.get("ContentLength"))


@pytest.fixture
def get_objects(s3_storage):
    return GetObjects(default_storage)


def test_a_large_result_streams_to_its_owner_without_being_held_whole(s3_storage, alice, conversion, get_objects):
    data = os.urandom(LARGE)
    finish(conversion, result=data)
    # The first request through the view imports what it needs: not counted.
    b"".join(alice.get(reverse("translator:file", args=[conversion.id, "thumbnail"])).streaming_content)
    get_objects.ranges.clear()
    tracemalloc.start()
    try:
        response = alice.get(reverse("translator:file", args=[conversion.id, "result"]) + "?download=1")
        chunks = iter(response.streaming_content)
        first = next(chunks)
        held_before_first_chunk = tracemalloc.get_traced_memory()[1]
        digest, count, size = hashlib.sha256(first), 1, len(first)
        for chunk in chunks:
            digest.update(chunk)
            count, size = count + 1, size + len(chunk)
        held_at_most = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        response.close()
    assert response.streaming and response.status_code == 200
    assert (size, digest.hexdigest()) == (LARGE, hashlib.sha256(data).hexdigest())
    assert count > 1
    # The first bytes went out while the rest was still in the store, and no more than a few
    # blocks were ever in this process at once.
    assert held_before_first_chunk < 1024 * 1024, held_before_first_chunk
    assert held_at_most < 1024 * 1024, held_at_most
    assert get_objects.ranges == [None]  # one plain GET of the object, read as it came
    # Our headers, as for a file from the local folder.
    assert response["Content-Length"] == str(LARGE)
    assert response["Content-Type"] == "image/jpeg" and response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"].startswith("default-src 'none'")
    assert response["Cache-Control"] == "private, max-age=3600"
    assert response["Content-Disposition"] == 'attachment; filename="photo - Tiny.jpg"; filename*=UTF-8\'\'photo%20-%20Tiny.jpg'


def test_the_api_streams_a_file_from_the_store_with_its_length(s3_storage, alice, conversion):
    finish(conversion, result=b"\xff\xd8api-bytes")
    response = alice.get(reverse("api:conversion-result", args=[conversion.id]))
    assert response.streaming and response["Content-Length"] == str(len(b"\xff\xd8api-bytes"))
    assert b"".join(response.streaming_content) == b"\xff\xd8api-bytes"


# --- a training log's end -----------------------------------------------------------------------


@pytest.fixture
def run_on_another_host(settings, tmp_path):
    """A run whose folder is on a worker host: this host has no run folder, only the store."""
    settings.RESTYLE_RUNS_ROOT = tmp_path / "this-host-has-no-runs"
    return TrainingRun(pk=4242)


def put_log(s3_storage, run, data):
    s3_storage.server.client().put_object(
        Bucket=s3_storage.server.bucket, Key=f"{s3_storage.prefix}/{run_files.storage_name(run.pk, 'train.log')}",
        Body=data,
    )


def test_the_live_page_asks_the_store_for_the_logs_last_64_kib_only(s3_storage, run_on_another_host, get_objects):
    lines = [f"step {i} loss {i / 7:.5f}".encode() for i in range(100_000)]  # about 2 MB
    put_log(s3_storage, run_on_another_host, b"\n".join(lines) + b"\n")
    tail = training_runs.log_tail(run_on_another_host)
    assert tail.splitlines() == [line.decode() for line in lines[-40:]]
    assert get_objects.ranges == [f"bytes=-{64 * 1024}"]
    assert get_objects.lengths == [64 * 1024]  # what the store sent


def test_a_log_shorter_than_the_tail_is_read_whole_and_an_empty_one_is_empty(
    s3_storage, run_on_another_host, get_objects
):
    put_log(s3_storage, run_on_another_host, b"step 1\nstep 2\n")
    assert run_files.read(run_on_another_host, "train.log", tail=64 * 1024) == b"step 1\nstep 2\n"
    put_log(s3_storage, run_on_another_host, b"")
    assert run_files.read(run_on_another_host, "train.log", tail=64 * 1024) == b""
    assert training_runs.log_tail(run_on_another_host) == ""


def test_a_log_not_in_the_store_is_none(s3_storage, run_on_another_host):
    assert run_files.read(run_on_another_host, "train.log", tail=64 * 1024) is None
    assert training_runs.log_tail(run_on_another_host) == ""
