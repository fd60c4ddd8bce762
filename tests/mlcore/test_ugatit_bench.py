"""The U-GAT-IT training benchmark measures real engine runs and prints machine, inputs and figures."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from mlcore.ugatit.bench import bench_cases, measure

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_the_default_cases_are_light_and_full_at_256():
    assert bench_cases() == [{"light": True, "size": 256}, {"light": False, "size": 256}]


def test_measure_times_an_engine_run(tmp_path):
    result = measure(light=True, size=32, steps=2, preset="tiny", workers=0, scratch=tmp_path)
    assert result["steps"] == 2
    assert result["images_per_second"] > 0
    assert result["seconds_per_step"] == pytest.approx(1 / result["images_per_second"])  # batch 1
    assert result["peak_bytes"] > 0
    assert not list(tmp_path.iterdir())  # its scratch folder is cleaned up


def test_the_baseline_times_the_task_s_own_step_in_a_bare_loop(tmp_path):
    result = measure(light=True, what="baseline", size=32, steps=2, preset="tiny", workers=0, scratch=tmp_path)
    assert result["steps"] == 2 and result["images_per_second"] > 0


def test_the_command_prints_machine_inputs_baseline_engine_and_ratio():
    done = subprocess.run(
        [sys.executable, "-m", "mlcore.ugatit.bench", "--preset", "tiny", "--size", "32", "--steps", "1",
         "--workers", "0", "--cases", "light", "full"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.startswith("machine: ") and "device: cpu" in out
    assert "32x32, batch 1" in out and "tiny preset" in out
    for case in ("light", "full"):
        assert re.search(rf"^{case}\s+baseline\s+1\s+[\d.]+\s+[\d.]+\s+[\d,]+ MiB$", out, re.M), out
        assert re.search(rf"^{case}\s+engine\s+1\s+[\d.]+\s+[\d.]+\s+[\d,]+ MiB\s+[\d.]+x$", out, re.M), out
