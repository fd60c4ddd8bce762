"""``python -m mlcore``: run as the admin or a GPU worker would, in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from PIL import Image

REPO_ROOT = Path(__file__).resolve().parents[2]


def mlcore(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mlcore", *map(str, args)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
    )


def test_import_ml5_then_info_then_translate(wave_dir, chelsea_path, tmp_path):
    model = tmp_path / "wave.safetensors"
    imported = mlcore("import", "ml5", wave_dir, model, "--name", "Great Wave")
    assert imported.returncode == 0, imported.stderr
    assert model.is_file()

    info = mlcore("info", model)
    assert info.returncode == 0, info.stderr
    header = json.loads(info.stdout)
    assert header["family"] == "fast_style" and header["config"]["variant"] == "engstrom"
    assert header["meta"]["name"] == "Great Wave"

    out = tmp_path / "chelsea-wave.png"
    translated = mlcore("translate", "--model", model, chelsea_path, out)
    assert translated.returncode == 0, translated.stderr
    with Image.open(out) as result:
        assert result.size == (451, 300) and result.mode == "RGB"


def test_bad_checkpoint_exits_non_zero_with_one_line(tmp_path):
    photo = tmp_path / "photo.png"
    Image.new("RGB", (8, 8)).save(photo)
    missing = tmp_path / "missing.safetensors"
    result = mlcore("translate", "--model", missing, photo, tmp_path / "o.png")
    assert result.returncode == 1
    assert result.stderr.startswith("error: ") and "missing.safetensors" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1  # no traceback
    assert not (tmp_path / "o.png").exists()


def test_importing_mlcore_needs_neither_django_nor_torch_up_front():
    code = (
        "import sys, mlcore; assert 'torch' not in sys.modules, 'torch imported by mlcore'; "
        "import mlcore.inference, mlcore.importers, mlcore.cli; "
        "assert not [m for m in sys.modules if m.split('.')[0] == 'django'], 'django imported'"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
