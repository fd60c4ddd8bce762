"""The latency benchmark (tests/e2e/latency.py) at its smallest: it runs end to end on real
processes, converts at both sizes and prints its table and its JSON. The figures are not judged,
only that they hang together."""
import json
import subprocess
import sys

import pytest

from .stack import REPO

pytestmark = pytest.mark.e2e


def test_the_latency_benchmark_converts_at_each_size_and_prints_the_phases_and_the_ratio(data_dir, tmp_path):
    figures = tmp_path / "latency.json"
    done = subprocess.run(
        [sys.executable, "-m", "tests.e2e.latency", "--photos", "1", "--width", "1600", "--height", "1200",
         "--sizes", "512", "original", "--data-dir", str(data_dir), "--json", str(figures)],
        cwd=REPO, capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert any(line.startswith("machine: ") for line in lines)
    assert any("1 phone photo(s) of 1600x1200 (EXIF orientation 6: 1200x1600 upright)" in line for line in lines)
    assert any("upload" in line and "read+store" in line and "vs baseline" in line for line in lines)

    data = json.loads(figures.read_text())
    small, original = data["rows"]
    assert (small["output_size"], small["result"]) == ("512", "384x512")
    assert (original["output_size"], original["result"]) == ("original", "1200x1600")
    for row in data["rows"]:
        job = row["jobs"][0]
        assert all(job[phase] >= 0 for phase in ("upload", "queue", "load", "run", "store"))
        assert job["total"] >= job["upload"] + job["run"]
        assert row["total"] == job["total"]
    assert original["ratio"] == 1
    assert small["ratio"] == pytest.approx(original["total"] / small["total"])
