"""The throughput benchmark (tests/e2e/throughput.py) at its smallest: it runs end to end on real
processes and prints its table and its JSON. The figures themselves are not judged here."""
import json
import subprocess
import sys

import pytest

from .stack import REPO

pytestmark = pytest.mark.e2e


def test_the_throughput_benchmark_converts_with_1_and_2_workers_and_prints_the_table_and_json(data_dir, tmp_path):
    figures = tmp_path / "throughput.json"
    done = subprocess.run(
        [sys.executable, "-m", "tests.e2e.throughput", "--photos", "2", "--size", "128", "--threads", "1",
         "--data-dir", str(data_dir), "--json", str(figures)],
        cwd=REPO, capture_output=True, text=True, timeout=180, check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert any(line.startswith("machine: ") for line in lines)
    assert any("2 photos of 128x128" in line for line in lines)
    assert any("per min" in line and "vs 1 worker" in line for line in lines)
    rows = [line.split() for line in lines if line.startswith("1 ")]
    assert [row[1] for row in rows] == ["1", "2"], done.stdout  # threads 1: one worker, then two

    data = json.loads(figures.read_text())
    assert [(row["workers"], row["threads"]) for row in data["rows"]] == [(1, 1), (2, 1)]
    for row in data["rows"]:
        assert row["succeeded"] == 2 and row["failed"] == 0
        assert row["per_minute"] == pytest.approx(60 * 2 / row["seconds"])
        assert 0 < row["p50"] <= row["p95"]
        assert sum(row["jobs_per_worker"]) == 2 and len(row["jobs_per_worker"]) == row["workers"]
    assert data["rows"][0]["ratio"] == 1
    assert data["rows"][1]["ratio"] == pytest.approx(data["rows"][1]["per_minute"] / data["rows"][0]["per_minute"])
