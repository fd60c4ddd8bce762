"""``python -m mlcore.bench`` runs and prints the machine, the inputs and both measurements."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_bench_prints_machine_inputs_engine_baseline_and_ratio():
    result = subprocess.run(
        [sys.executable, "-m", "mlcore.bench", "--batch-sizes", "1", "--size", "32", "--steps", "1",
         "--workers", "0"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("machine: ") and "torch " in out and "device: cpu" in out
    assert "32x32 crops" in out and "random VGG16" in out
    baseline = re.search(r"^\s+1 baseline\s+1\s+([\d.]+)\s+([\d.]+)\s+([\d,]+) MiB\s*$", out, re.M)
    engine = re.search(r"^\s+1 engine\s+1\s+([\d.]+)\s+([\d.]+)\s+([\d,]+) MiB\s+([\d.]+)x$", out, re.M)
    assert baseline and engine, out
    assert float(engine.group(1)) > 0 and float(baseline.group(1)) > 0
    assert int(engine.group(3).replace(",", "")) > 0
