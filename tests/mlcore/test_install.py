"""mlcore is an installed package (pyproject.toml, `pip install -e .` in `make run` and `make test`):
the `mlcore` command and `python -m mlcore` work from any folder, not only the repository root."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = Path(sys.executable).with_name("mlcore")


def run_elsewhere(command, folder):
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    return subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("command", [[str(SCRIPT)], [sys.executable, "-m", "mlcore"]], ids=["script", "module"])
def test_mlcore_runs_from_a_folder_outside_the_repository(command, tmp_path):
    assert SCRIPT.is_file(), f"{SCRIPT} is missing: `pip install -e .` did not run (see the Makefile)"
    done = run_elsewhere([*command, "train", "--help"], tmp_path)
    assert done.returncode == 0, done.stderr
    for family in ("fast-style", "pix2pix", "ugatit"):
        assert family in done.stdout
    where = run_elsewhere([sys.executable, "-c", "import mlcore; print(mlcore.__file__)"], tmp_path)
    assert Path(where.stdout.strip()).parent == REPO / "mlcore"
