"""Torch's threads in real Celery worker processes (RESTYLE_WORKER_TORCH_THREADS): each process
that runs jobs says, as it starts, how many threads torch reports there. A prefork worker's
children (where its jobs run) and a threads-pool worker's main process take the setting; without
it torch keeps its default."""
import os
import re
import subprocess
import sys

import pytest

from .stack import Stack, free_port, wait_for

pytestmark = pytest.mark.e2e

LINE = re.compile(r"torch threads in this (pool child|worker process): (\d+) intra-op, (\d+) inter-op \((.+?)\)")


@pytest.fixture
def stack(test_database_env, tmp_path):
    redis_url = f"redis://127.0.0.1:{free_port()}/0"
    site = Stack(tmp_path, {
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        **test_database_env,
        "RESTYLE_VAR_DIR": str(tmp_path / "var"),
        "RESTYLE_MEDIA_ROOT": str(tmp_path / "media"),
        "RESTYLE_REDIS_URL": redis_url,
        "RESTYLE_CACHE_URL": redis_url,
        "RESTYLE_SWEEP_SECONDS": "0",
    })
    site.start_redis()
    yield site
    site.stop()


def reports(worker, count):
    """The first `count` thread reports in the worker's log, as (where, intra, inter, source)."""
    def found():
        lines = LINE.findall(worker.log_text())
        return lines if len(lines) >= count else None

    return [(where, int(intra), int(inter), source) for where, intra, inter, source in
            wait_for(found, 60, f"{count} thread reports from {worker.name}")]


def test_each_prefork_child_runs_torch_with_the_threads_it_was_given(stack):
    worker = stack.start_worker("threads-prefork", "conversions", concurrency=2,
                                extra_env={"RESTYLE_WORKER_TORCH_THREADS": "2"})
    assert reports(worker, 2) == [("pool child", 2, 2, "RESTYLE_WORKER_TORCH_THREADS")] * 2
    # The parent runs no job and leaves torch alone.
    assert "in this worker process" not in worker.log_text()


def test_a_threads_pool_worker_sets_them_in_its_own_process(stack):
    worker = stack.start_worker("threads-threads", "training", pool="threads",
                                extra_env={"RESTYLE_WORKER_TORCH_THREADS": "3"})
    assert reports(worker, 1) == [("worker process", 3, 3, "RESTYLE_WORKER_TORCH_THREADS")]


def test_without_the_setting_torch_keeps_its_default(stack):
    environment = {"RESTYLE_WORKER_TORCH_THREADS": "", "OMP_NUM_THREADS": "", "MKL_NUM_THREADS": ""}
    worker = stack.start_worker("threads-default", "conversions", concurrency=1, extra_env=environment)
    [(where, intra, _, source)] = reports(worker, 1)
    assert (where, source) == ("pool child", "torch's default")
    fresh = subprocess.run([sys.executable, "-c", "import torch; print(torch.get_num_threads())"],
                           env={**os.environ, **environment}, capture_output=True, text=True, check=True)
    assert intra == int(fresh.stdout)  # what torch takes in a new process on this machine
