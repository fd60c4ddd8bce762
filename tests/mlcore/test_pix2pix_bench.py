"""``python -m mlcore.pix2pix.bench`` prints the machine, the inputs and both measurements."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from mlcore.pix2pix.bench import bench_cases, generator_for

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_the_cases_are_the_issues_and_each_size_gets_the_deepest_unet_it_fits():
    assert bench_cases() == [{"batch_size": 1, "size": 256}, {"batch_size": 16, "size": 256}]
    assert [generator_for(s) for s in (256, 512, 128, 32)] == ["unet_256", "unet_256", "unet_128", "unet_32"]


def test_bench_prints_machine_inputs_engine_baseline_and_ratio():
    result = subprocess.run(
        [sys.executable, "-m", "mlcore.pix2pix.bench", "--batch-sizes", "1", "--size", "32", "--workers", "0"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("machine: ") and "device: cpu" in out
    assert "unet_32 ngf 64 + 70x70 PatchGAN" in out and "36->32 jitter" in out
    baseline = re.search(r"^\s+1 baseline\s+1\s+([\d.]+)\s+([\d.]+)\s+([\d,]+) MiB\s*$", out, re.M)
    engine = re.search(r"^\s+1 engine\s+1\s+([\d.]+)\s+([\d.]+)\s+([\d,]+) MiB\s+([\d.]+)x$", out, re.M)
    assert baseline and engine, out
    assert float(engine.group(1)) > 0 and int(engine.group(3).replace(",", "")) > 0
