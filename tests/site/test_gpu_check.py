"""site/gpu-check.sh (`make gpu-check`): it exists, is executable, plans the GPU tests and every
family's benchmark on CUDA with a time limit each, and on a machine without CUDA (this one) it
says so and exits 0, having run nothing and installed nothing."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "site" / "gpu-check.sh"
BENCHES = ("stylegan2", "fast-style", "pix2pix", "ugatit")


def run(tmp_path, **env):
    out = tmp_path / "out"
    return subprocess.run([str(SCRIPT)], capture_output=True, text=True, timeout=60, check=False,
                          env={**os.environ, "PYTHON": sys.executable, "OUT": str(out), **env}), out


def test_the_script_is_there_and_executable():
    assert SCRIPT.is_file() and os.access(SCRIPT, os.X_OK)
    assert "gpu-check:" in (REPO / "Makefile").read_text() and "site/gpu-check.sh" in (REPO / "Makefile").read_text()


def test_the_dry_run_names_the_gpu_tests_and_each_bench_on_cuda_with_a_time_limit(tmp_path):
    result, out = run(tmp_path, GPU_CHECK_DRY_RUN="1")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    tests = next(line for line in lines if line.strip().startswith("gpu-tests"))
    assert "-m gpu" in tests and "tests/mlcore/test_stylegan2_networks.py" in tests
    for bench in BENCHES:
        line = next(line for line in lines if f"-m mlcore.bench {bench} " in line)
        assert "--device cuda" in line and f"{out}/bench-{bench}.json" in line
        assert line.strip().startswith(f"bench-{bench} (") and " s): " in line  # its time limit
    assert "--networks auto --size 256" in next(line for line in lines if "bench stylegan2" in line)
    assert not out.exists()  # a dry run writes nothing


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA: the check would really run")
def test_without_cuda_it_says_so_and_exits_0_having_done_nothing(tmp_path):
    result, out = run(tmp_path)
    assert result.returncode == 0, result.stderr
    assert "no CUDA device here" in result.stdout and "nothing to do" in result.stdout
    assert not out.exists()


def test_a_python_without_torch_is_refused_in_words(tmp_path):
    result, _ = run(tmp_path, PYTHON="/usr/bin/false")
    assert result.returncode == 1
    assert "cannot import torch" in result.stderr
