"""``python -m mlcore export`` and ``mlcore.export.export_checkpoint``: the real command on the
imported ml5 'wave' checkpoint (real weights), the file loaded back by onnxruntime or
torch.jit and run on a real photo."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from mlcore import cli
from mlcore.export import ExportError, export_checkpoint
from mlcore.images import open_image, pil_to_tensor
from mlcore.inference import Inferer

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def photo(chelsea_path) -> torch.Tensor:
    """chelsea.png's top-left 120 x 90, the size the files are exported at."""
    return pil_to_tensor(open_image(chelsea_path).crop((0, 0, 120, 90)))


def _eager(checkpoint: Path, x: torch.Tensor) -> torch.Tensor:
    return Inferer.load(checkpoint, backend="torch").translate_tensor(x)


def _export_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mlcore", "export", *args], cwd=REPO_ROOT,
                          capture_output=True, text=True)


def test_onnx_export_writes_a_file_onnxruntime_runs_with_the_eager_output(wave_checkpoint, photo, tmp_path):
    import onnxruntime as ort

    out = tmp_path / "wave.onnx"
    done = _export_cli("--format", "onnx", "--size", "90x120", str(wave_checkpoint), str(out))
    assert done.returncode == 0, done.stderr
    assert "parity with eager torch on a 1x3x90x120 probe: MAE" in done.stdout
    assert f"wrote {out} (onnx" in done.stdout
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    (y,) = session.run(["y"], {"x": photo.numpy()})
    assert np.abs(y - _eager(wave_checkpoint, photo).numpy()).mean() <= 1 / 255


def test_torchscript_export_writes_a_module_torch_jit_loads_with_the_eager_output(wave_checkpoint, photo, tmp_path):
    out = tmp_path / "wave.pt"
    done = _export_cli("--format", "torchscript", "--size", "90x120", str(wave_checkpoint), str(out))
    assert done.returncode == 0, done.stderr
    assert f"wrote {out} (torchscript" in done.stdout
    module = torch.jit.load(str(out))
    with torch.inference_mode():
        y = module(photo)
    assert (y - _eager(wave_checkpoint, photo)).abs().mean().item() <= 1 / 255


def test_a_failed_parity_check_exits_1_in_words_and_writes_nothing(wave_checkpoint, tmp_path, monkeypatch, capsys):
    from mlcore.runtime import onnx_session

    real = onnx_session.run_session
    monkeypatch.setattr(onnx_session, "run_session", lambda session, x: (real(session, x) + 0.25).clamp(0, 1))
    out = tmp_path / "wave.onnx"
    code = cli.main(["export", "--format", "onnx", "--size", "64x64", str(wave_checkpoint), str(out)])
    assert code == 1
    assert "differs from eager torch by MAE" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == [], "no file, not even a temporary one"


def test_export_checkpoint_reports_what_it_wrote(wave_checkpoint, tmp_path):
    report = export_checkpoint(wave_checkpoint, tmp_path / "w.onnx", format="onnx", size=(48, 40))
    assert report.format == "onnx" and report.path == tmp_path / "w.onnx"
    assert report.bytes == report.path.stat().st_size > 1_000_000  # the weights are in it
    assert report.input_shape == (1, 3, 48, 40)
    assert 0 <= report.mae <= 1 / 255 and report.max_abs >= report.mae and report.seconds > 0


def test_a_file_that_is_not_a_checkpoint_or_a_bad_format_is_refused_in_words(tmp_path):
    bogus = tmp_path / "bogus.safetensors"
    bogus.write_bytes(b"not a checkpoint")
    done = _export_cli("--format", "onnx", str(bogus), str(tmp_path / "x.onnx"))
    assert done.returncode == 1 and done.stderr.startswith("error: ")
    assert not (tmp_path / "x.onnx").exists()
    with pytest.raises(ExportError, match="unknown export format 'tflite'"):
        export_checkpoint(bogus, tmp_path / "x", format="tflite")
