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


# --- train and gatys -------------------------------------------------------------------------


def mlcore_env(tmp_path, **extra):
    """An offline machine without VGG weights: empty torch hub, no weight variables."""
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("RESTYLE_VGG")}
    env.update(TORCH_HOME=str(tmp_path / "torch-home"), RESTYLE_OFFLINE="1", **extra)
    return env


def mlcore_offline(tmp_path, *args):
    return subprocess.run(
        [sys.executable, "-m", "mlcore", *map(str, args)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, env=mlcore_env(tmp_path),
    )


def train_args(run_dir, style_path, content_folder, *extra):
    return ("train", "fast-style", "--style", style_path, "--content", content_folder,
            "--run-dir", run_dir, "--preset", "tiny", "--random-vgg", "--set", "image_size=32",
            "--workers", "0", *extra)


def test_train_fast_style_writes_a_complete_run_folder(tmp_path, style_path, content_folder):
    run_dir = tmp_path / "run"
    result = mlcore_offline(tmp_path, *train_args(run_dir, style_path, content_folder, "--steps", "3",
                                                  "--sample-every", "2", "--checkpoint-every", "2"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{run_dir / 'model.safetensors'} [random VGG (test only, not a real style model)]"
    assert "random VGG" in result.stderr  # the warning is logged as well
    run = json.loads((run_dir / "run.json").read_text())
    assert (run["status"], run["step"], run["config"]["steps"], run["config"]["image_size"]) == ("completed", 3, 3, 32)
    assert len((run_dir / "metrics.jsonl").read_text().splitlines()) == 3
    assert (run_dir / "samples" / "step_000002.jpg").is_file() and (run_dir / "samples" / "latest.jpg").is_file()
    assert sorted(p.name for p in (run_dir / "checkpoints").iterdir()) == ["step_000002.pt", "step_000003.pt"]

    info = mlcore("info", run_dir / "model.safetensors")
    assert json.loads(info.stdout)["meta"]["loss_network"] == "random VGG (test only, not a real style model)"


def test_ctrl_c_stops_with_a_checkpoint_and_resume_finishes(tmp_path, style_path, content_folder):
    import signal
    import time

    run_dir = tmp_path / "run"
    command = [sys.executable, "-m", "mlcore", *map(str, train_args(run_dir, style_path, content_folder,
                                                                   "--steps", "40"))]
    process = subprocess.Popen(command, cwd=REPO_ROOT, env=mlcore_env(tmp_path), text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not (run_dir / "metrics.jsonl").exists() and time.monotonic() < deadline:
        time.sleep(0.02)  # wait for the first step
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    run = json.loads((run_dir / "run.json").read_text())
    assert run["status"] == "stopped" and 1 <= run["step"] < 40
    assert (run_dir / run["checkpoint"]).is_file()
    assert f"stopped at step {run['step']} of 40" in stdout and "--resume" in stdout

    resumed = mlcore_offline(tmp_path, "train", "fast-style", "--run-dir", run_dir, "--resume", "--workers", "0")
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads((run_dir / "run.json").read_text())["status"] == "completed"
    steps = [json.loads(line)["step"] for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert steps == list(range(1, 41))


def test_train_without_vgg_weights_exits_1_saying_how_to_get_them(tmp_path, style_path, content_folder):
    result = mlcore_offline(tmp_path, "train", "fast-style", "--style", style_path, "--content", content_folder,
                            "--run-dir", tmp_path / "run", "--preset", "tiny")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]  # one line, no traceback
    assert result.stderr.startswith("error: vgg16 ImageNet weights (vgg16-397923af.pth) are not on this machine")
    assert "https://download.pytorch.org/models/vgg16-397923af.pth" in result.stderr
    assert "--vgg-weights" in result.stderr and "RESTYLE_VGG16_WEIGHTS" in result.stderr


def test_new_runs_need_their_data_and_presets_are_checked(tmp_path, style_path):
    missing = mlcore_offline(tmp_path, "train", "fast-style", "--style", style_path, "--run-dir", tmp_path / "r")
    assert missing.returncode == 1 and "needs --style IMG and --content DIR" in missing.stderr
    unknown = mlcore_offline(tmp_path, "train", "fast-style", "--style", style_path, "--content", tmp_path,
                             "--run-dir", tmp_path / "r", "--preset", "huge")
    assert unknown.returncode == 1 and "unknown FastStyleTrainConfig preset 'huge' (known: johnson2016, tiny)" in unknown.stderr


def test_gatys_writes_the_picture_and_its_progress(tmp_path, chelsea_path, style_path):
    out = tmp_path / "out.png"
    result = mlcore_offline(tmp_path, "gatys", "--content", chelsea_path, "--style", style_path, "--output", out,
                            "--steps", "2", "--size", "48", "--random-vgg",
                            "--progress-every", "1", "--progress-dir", tmp_path / "progress")
    assert result.returncode == 0, result.stderr
    with Image.open(out) as picture:
        assert picture.size == (48, 32)
        assert picture.info["restyle-warning"] == "random VGG (test only, not a real style model)"
    assert sorted(p.name for p in (tmp_path / "progress").iterdir()) == ["step_000001.png", "step_000002.png"]


def test_gatys_without_vgg_weights_exits_1_saying_how_to_get_them(tmp_path, chelsea_path, style_path):
    result = mlcore_offline(tmp_path, "gatys", "--content", chelsea_path, "--style", style_path,
                            "--output", tmp_path / "out.png", "--steps", "2")
    assert result.returncode == 1 and result.stderr.count("\n") == 1
    assert "vgg19-dcbb9e9d.pth" in result.stderr and "RESTYLE_VGG19_WEIGHTS" in result.stderr
    assert not (tmp_path / "out.png").exists()


def test_cli_help_lists_the_real_preset_names():
    from mlcore.fast_style import FastStyleTrainConfig
    from mlcore.gatys import GatysConfig

    train_help = mlcore("train", "fast-style", "--help").stdout
    gatys_help = mlcore("gatys", "--help").stdout
    assert all(name in train_help for name in FastStyleTrainConfig.preset_names())
    assert all(name in gatys_help for name in GatysConfig.preset_names())
