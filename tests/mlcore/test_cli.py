"""``python -m mlcore``: run as the admin or a GPU worker would, in a subprocess; the generated
``train <family>`` and ``import <format>`` commands also in this process (quicker)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from PIL import Image

from mlcore import cli, engine
from mlcore.importers import FORMATS
from mlcore.inference import Inferer
from mlcore.registry import trainable_families

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
        "import sys, mlcore, mlcore.registry, mlcore.importers, mlcore.cli; "
        "mlcore.cli.build_parser(); mlcore.registry.family_names(); "
        "assert 'torch' not in sys.modules, 'torch imported by the registry or the parser'; "
        "import mlcore.inference; "
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
            "--run-dir", run_dir, "--preset", "tiny", "--set", "loss_network=random", "--set", "image_size=32",
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


def test_resume_with_an_input_given_again_takes_it_from_its_new_place(tmp_path, style_path, content_folder):
    import shutil

    from mlcore import engine

    moved = tmp_path / "moved-content"
    shutil.copytree(content_folder, tmp_path / "content")
    run_dir = tmp_path / "run"
    first = mlcore_offline(tmp_path, *train_args(run_dir, style_path, tmp_path / "content", "--steps", "3"))
    assert first.returncode == 0, first.stderr
    run = json.loads((run_dir / "run.json").read_text())
    (run_dir / "run.json").write_text(json.dumps({**run, "status": "stopped"}))  # resumable again
    (tmp_path / "content").rename(moved)

    refused = mlcore_offline(tmp_path, "train", "fast-style", "--run-dir", run_dir, "--resume",
                             "--vgg-weights", tmp_path / "vgg16.pth")
    assert refused.returncode == 1
    assert "has no input vgg_weights to replace; it records content, style" in refused.stderr
    resumed = mlcore_offline(tmp_path, "train", "fast-style", "--run-dir", run_dir, "--resume",
                             "--content", moved, "--workers", "0")
    assert resumed.returncode == 0, resumed.stderr
    assert engine.read_run(run_dir)["inputs"]["content"] == str(moved)


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
    assert missing.returncode == 1 and "a new fast-style run needs --content DIR" in missing.stderr
    unknown = mlcore_offline(tmp_path, "train", "fast-style", "--style", style_path, "--content", tmp_path,
                             "--run-dir", tmp_path / "r", "--preset", "huge")
    assert unknown.returncode == 2 and "invalid choice: 'huge' (choose from 'johnson2016', 'tiny')" in unknown.stderr


def test_gatys_writes_the_picture_and_its_progress(tmp_path, chelsea_path, style_path):
    out = tmp_path / "out.png"
    result = mlcore_offline(tmp_path, "gatys", "--content", chelsea_path, "--style", style_path, "--output", out,
                            "--steps", "2", "--size", "48", "--set", "loss_network=random",
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


def test_every_trainable_family_gets_train_with_one_flag_per_input_and_its_presets():
    for family in trainable_families():
        usage = mlcore("train", family.cli_name, "--help").stdout
        for item in family.training.inputs:
            assert f"--{item.name.replace('_', '-')}" in usage and item.help.split()[0] in usage
        assert all(name in usage for name in family.training.config_class.preset_names())
        assert "config fields (--set):" in usage and "batch_size =" in usage
    assert "--content IMG" in mlcore("gatys", "--help").stdout


# --- the generated commands, in this process ----------------------------------------------------


def run(*argv) -> None:
    args = cli.build_parser().parse_args([str(a) for a in argv])
    args.handler(args)


def test_make_pairs_then_train_pix2pix_for_two_steps(photos, tmp_path, capsys):
    run("make-pairs", photos, tmp_path / "pairs", "--kind", "gray2color", "--count", "3", "--size", "36",
        "--seed", "2")
    assert capsys.readouterr().out.strip() == f"3 gray2color pairs in {tmp_path / 'pairs'}"
    assert sorted(p.name for p in (tmp_path / "pairs").iterdir()) == ["00000.jpg", "00001.jpg", "00002.jpg"]

    run_dir = tmp_path / "run"
    run("train", "pix2pix", "--data", tmp_path / "pairs", "--set", "direction=BtoA", "--run-dir", run_dir,
        "--preset", "tiny", "--steps", "2", "--batch-size", "1", "--workers", "0", "--set", "ndf=4")
    assert capsys.readouterr().out.strip() == str(run_dir / "model.safetensors")
    spec = json.loads((run_dir / "run.json").read_text())
    assert (spec["status"], spec["step"], spec["family"]) == ("completed", 2, "pix2pix")
    assert (spec["config"]["direction"], spec["config"]["batch_size"], spec["config"]["ndf"]) == ("BtoA", 1, 4)
    assert spec["inputs"] == {"data": str((tmp_path / "pairs").resolve())}
    assert Inferer.load(run_dir / "model.safetensors").meta["direction"] == "BtoA"


def test_train_ugatit_runs_two_steps_with_nested_settings(tmp_path, horse2zebra, capsys):
    from mlcore.ugatit import UGATITTrainConfig

    run_dir = tmp_path / "run"
    run("train", "ugatit", "--data", horse2zebra, "--run-dir", run_dir, "--preset", "tiny", "--steps", "2",
        "--workers", "0", "--set", "arch.img_size=48", "--set", "export_direction=B2A", "--set", "arch.ngf=4")
    assert capsys.readouterr().out.strip() == str(run_dir / "model.safetensors")
    spec = engine.read_run(run_dir)
    assert (spec["status"], spec["step"], spec["inputs"]) == ("completed", 2, {"data": str(horse2zebra)})
    assert UGATITTrainConfig.from_dict(spec["config"]) == UGATITTrainConfig.preset("tiny", steps=2).override(
        {"arch.img_size": 48, "arch.ngf": 4, "export_direction": "B2A"})
    assert Inferer.load(run_dir / "model.safetensors").meta["direction"] == "B2A"


def test_a_new_run_names_the_inputs_it_lacks(tmp_path):
    with pytest.raises(ValueError, match="a new pix2pix run needs --data DIR"):
        run("train", "pix2pix", "--run-dir", tmp_path / "run", "--preset", "tiny")


def test_every_import_format_gets_a_command_with_its_options():
    for fmt in FORMATS.values():
        usage = mlcore("import", fmt.name, "--help").stdout
        assert fmt.source in usage
        assert all(f"--{option.name.replace('_', '-')}" in usage for option in fmt.options)


def test_import_junyanz_writes_a_checkpoint_and_refuses_an_unknown_arch(tmp_path, capsys):
    from mlcore.pix2pix.networks import UnetGenerator

    torch.save(UnetGenerator(num_downs=7, ngf=4).state_dict(), tmp_path / "latest_net_G.pth")
    run("import", "junyanz", tmp_path / "latest_net_G.pth", tmp_path / "facades.safetensors",
        "--arch", "unet_128", "--name", "Facades", "--ngf", "4")
    assert capsys.readouterr().out.strip() == str(tmp_path / "facades.safetensors")
    inferer = Inferer.load(tmp_path / "facades.safetensors")
    assert (inferer.meta["name"], inferer.config.generator, inferer.config.test_norm) == ("Facades", "unet_128", "image")
    with pytest.raises(SystemExit):  # junyanz offers unet_256 and unet_128 only
        cli.build_parser().parse_args(["import", "junyanz", "a.pth", "b.safetensors", "--arch", "unet_32"])


def test_the_mlcore_command_works_from_any_folder(tmp_path):
    script = Path(sys.executable).with_name("mlcore")
    if not script.exists():
        pytest.skip("mlcore is not installed in this environment (make installs it with pip install -e .)")
    result = subprocess.run([str(script), "--version"], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.startswith("mlcore ")
