"""Several processes write the same rows at once in production (web threads, workers, sweepers on
other hosts). These races run in real threads, each with its own database connection, on whichever
database the run uses: SQLite serialises writers, PostgreSQL's READ COMMITTED does not, so the
PostgreSQL pass of `make test` is where a read-then-write without a lock would show."""
import threading

import pytest
from django.db import connection

from translator import services
from translator.models import Conversion

pytestmark = pytest.mark.django_db(transaction=True)


def race(target, count):
    """Run `target(i)` in `count` threads released together; returns their results and errors."""
    start = threading.Barrier(count)
    results, errors = [None] * count, []

    def run(i):
        try:
            start.wait(10)
            results[i] = target(i)
        except Exception as exc:  # collected: an exception in a thread would otherwise be lost
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results, errors


def test_workers_racing_for_the_same_jobs_each_get_each_job_at_most_once(user, art_model, upload_file, settings):
    # The jobs ask for a GPU and the racing threads are GPU workers: a real CPU worker still alive
    # from the e2e tests of the same session (they share its Redis) must not take them first.
    settings.RESTYLE_FAMILY_DEVICE_CLASSES = {art_model.family: "gpu"}
    settings.RESTYLE_WORKER_DEVICE = "cuda"
    jobs = [services.create_conversion(owner=user, upload=upload_file(), art_model=art_model) for _ in range(5)]
    assert {c.queue for c in jobs} == {"conversions.gpu"}

    def worker(i):
        return [c.pk for c in jobs if services.claim_conversion(conversion_id=c.pk, worker=f"w{i}")]

    won, errors = race(worker, 4)
    assert errors == []
    assert sorted(pk for pks in won for pk in pks) == sorted(c.pk for c in jobs)  # each job once, none lost
    assert set(Conversion.objects.values_list("status", "attempts")) == {(Conversion.Status.RUNNING, 1)}


def test_versions_added_at_once_to_one_model_get_distinct_numbers(art_model, tiny_checkpoint):
    versions, errors = race(
        lambda i: services.add_model_version(art_model=art_model, checkpoint_path=tiny_checkpoint, source=f"t{i}"), 4
    )
    assert errors == []
    assert sorted(v.number for v in versions) == [2, 3, 4, 5]  # the fixture's model has version 1
