"""``python -m mlcore.bench infer``, run tiny: the real case in its child processes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_the_infer_case_s_json_has_the_reference_restyle_ratio_mae_and_backend_of_each_row():
    done = subprocess.run(
        [sys.executable, "-m", "mlcore.bench", "infer", "--networks", "johnson", "ugatit-light",
         "--sizes", "128", "--repeats", "1", "--json"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["case"] == "infer" and data["machine"]["cores"] >= 1
    assert data["inputs"]["rows"] == ["johnson 128", "ugatit-light 128"]
    for row in data["rows"]:
        assert row["size"] == "128x128"
        assert row["reference_s"] > 0 and row["restyle_s"] > 0
        assert abs(row["ratio"] - row["reference_s"] / row["restyle_s"]) < 1e-9
        assert 0 <= row["mae_255"] <= 1
        assert row["backend"] == "onnxruntime"  # 128 x 128 is the smallest size "auto" exports
        assert row["first_s"] > 0 and row["setup_s"] > 0  # the eager first call, then the export's


def test_the_infer_case_prints_the_machine_the_inputs_and_the_table(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "mlcore.bench", "infer", "--networks", "ml5", "--sizes", "64", "--repeats", "1",
         "--json", str(tmp_path / "out.json")],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("machine: ") and lines[1].startswith("inputs: batch 1")
    row = next(line for line in lines if line.startswith("ml5"))
    assert "64x64" in row and "torch" in row  # a thumbnail stays on eager torch
    assert json.loads((tmp_path / "out.json").read_text())["rows"][0]["backend"] == "torch"
