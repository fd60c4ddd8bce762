"""``train ugatit`` from the command line pieces (mlcore.ugatit.cli with mlcore.cli's shared
training arguments and handler)."""

from __future__ import annotations

import argparse
import contextlib
import io

import pytest

from mlcore import cli, engine
from mlcore.inference import Inferer
from mlcore.ugatit.cli import TRAIN_PRESETS, add_train_parser
from mlcore.ugatit.config import UGATITTrainConfig


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="mlcore")
    commands = top.add_subparsers(dest="command", required=True)
    families = commands.add_parser("train").add_subparsers(dest="family_command", required=True)
    add_train_parser(families, cli._add_training_arguments, cli._train)
    return top


def test_train_ugatit_runs_two_steps_and_writes_a_model(tmp_path, horse2zebra, capsys):
    run_dir = tmp_path / "run"
    args = parser().parse_args([
        "train", "ugatit", "--data", str(horse2zebra), "--run-dir", str(run_dir), "--preset", "tiny",
        "--steps", "2", "--workers", "0", "--img-size", "48", "--export-direction", "B2A",
        "--set", "arch.ngf=4",
    ])
    assert (args.family, args.family_command) == ("ugatit", "ugatit")
    args.handler(args)
    assert capsys.readouterr().out.strip() == str(run_dir / "model.safetensors")
    run = engine.read_run(run_dir)
    assert (run["status"], run["step"], run["inputs"]) == ("completed", 2, {"data": str(horse2zebra)})
    config = UGATITTrainConfig.from_dict(run["config"])
    assert config == UGATITTrainConfig.preset("tiny", steps=2, export_direction="B2A").override(
        {"arch.img_size": 48, "arch.ngf": 4})
    inferer = Inferer.load(run_dir / "model.safetensors")
    assert inferer.meta["direction"] == "B2A" and inferer.config.light is True


def test_light_switches_the_generator_and_a_new_run_needs_data(tmp_path):
    args = parser().parse_args(["train", "ugatit", "--data", "d", "--run-dir", str(tmp_path), "--light",
                                "--preset", "kim2020"])
    config = cli._training_config(args)
    assert config.arch.light is True and config.steps == 1_000_000
    assert args.train_inputs(args) == {"data": "d"}
    args = parser().parse_args(["train", "ugatit", "--run-dir", str(tmp_path)])
    assert cli._training_config(args) == UGATITTrainConfig()  # full model by default, as the paper
    with pytest.raises(ValueError, match="needs --data DIR"):
        args.train_inputs(args)


def test_the_help_lists_the_real_preset_names():
    assert sorted(TRAIN_PRESETS) == UGATITTrainConfig.preset_names()
    usage = _help(["train", "ugatit", "--help"])
    for name in TRAIN_PRESETS:
        assert name in usage


def _help(argv):
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer), pytest.raises(SystemExit):
        parser().parse_args(argv)
    return buffer.getvalue()
