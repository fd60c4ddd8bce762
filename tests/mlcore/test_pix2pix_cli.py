"""The pix2pix command-line pieces, in a parser built the way mlcore.cli builds its own:
``train pix2pix``, ``import junyanz`` and ``make-pairs``."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from mlcore import cli as mlcore_cli
from mlcore.inference import Inferer
from mlcore.pix2pix import Pix2PixTrainConfig
from mlcore.pix2pix.cli import PRESET_NAMES, add_import_parser, add_make_pairs_parser, add_train_parser
from mlcore.pix2pix.networks import UnetGenerator

REPO_ROOT = Path(__file__).resolve().parents[2]


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m mlcore")
    commands = root.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train").add_subparsers(dest="family_command", required=True)
    add_train_parser(train, mlcore_cli._add_training_arguments, mlcore_cli._train)
    add_import_parser(commands.add_parser("import").add_subparsers(dest="source", required=True))
    add_make_pairs_parser(commands)
    return root


def run(*argv) -> argparse.Namespace:
    args = parser().parse_args([str(a) for a in argv])
    args.handler(args)
    return args


def test_make_pairs_then_train_pix2pix_for_two_steps(photos, tmp_path, capsys):
    run("make-pairs", photos, tmp_path / "pairs", "--kind", "gray2color", "--count", "3", "--size", "36",
        "--seed", "2")
    assert capsys.readouterr().out.strip() == f"3 gray2color pairs in {tmp_path / 'pairs'}"
    assert sorted(p.name for p in (tmp_path / "pairs").iterdir()) == ["00000.jpg", "00001.jpg", "00002.jpg"]

    run_dir = tmp_path / "run"
    run("train", "pix2pix", "--data", tmp_path / "pairs", "--direction", "BtoA", "--run-dir", run_dir,
        "--preset", "tiny", "--steps", "2", "--batch-size", "1", "--workers", "0", "--set", "ndf=4")
    assert capsys.readouterr().out.strip() == str(run_dir / "model.safetensors")
    spec = json.loads((run_dir / "run.json").read_text())
    assert (spec["status"], spec["step"], spec["family"]) == ("completed", 2, "pix2pix")
    assert (spec["config"]["direction"], spec["config"]["batch_size"], spec["config"]["ndf"]) == ("BtoA", 1, 4)
    assert spec["inputs"] == {"data": str((tmp_path / "pairs").resolve())}
    assert Inferer.load(run_dir / "model.safetensors").meta["direction"] == "BtoA"


def test_a_new_run_needs_its_data_folder(tmp_path):
    with pytest.raises(ValueError, match="a new pix2pix run needs --data DIR"):
        run("train", "pix2pix", "--run-dir", tmp_path / "run", "--preset", "tiny")


def test_import_junyanz_writes_a_checkpoint(tmp_path, capsys):
    net = UnetGenerator(num_downs=7, ngf=4)
    torch.save(net.state_dict(), tmp_path / "latest_net_G.pth")
    run("import", "junyanz", tmp_path / "latest_net_G.pth", tmp_path / "facades.safetensors",
        "--arch", "unet_128", "--name", "Facades", "--ngf", "4")
    assert capsys.readouterr().out.strip() == str(tmp_path / "facades.safetensors")
    inferer = Inferer.load(tmp_path / "facades.safetensors")
    assert (inferer.meta["name"], inferer.config.generator, inferer.config.test_norm) == ("Facades", "unet_128", "image")
    with pytest.raises(SystemExit):  # junyanz offers unet_256 and unet_128 only
        parser().parse_args(["import", "junyanz", "a.pth", "b.safetensors", "--arch", "unet_32"])


def test_the_parser_knows_the_real_presets_without_importing_torch():
    assert PRESET_NAMES == tuple(Pix2PixTrainConfig.preset_names())
    code = (
        "import sys, argparse; import mlcore.pix2pix, mlcore.pix2pix.cli as c; "
        "p = argparse.ArgumentParser(); s = p.add_subparsers(); c.add_make_pairs_parser(s); "
        "c.add_import_parser(s); c.add_train_parser(s, lambda parser, presets: None, print); "
        "assert 'torch' not in sys.modules, 'torch imported'"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
