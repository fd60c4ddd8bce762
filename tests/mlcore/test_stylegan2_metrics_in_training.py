"""FID and KID inside a StyleGAN2 training run (tiny32, a few CPU steps).

Offline, without the FID Inception weights, a run that asks for them says so once when it
starts, carries a label naming RESTYLE_INCEPTION_WEIGHTS and records no number. With a weights
file named by RESTYLE_INCEPTION_WEIGHTS, ``fid`` and ``kid`` join the metrics records of the
evaluation steps and of the last one, and measuring changes nothing about the training.

The Inception file here has RANDOM weights in the published layout (tests/mlcore/conftest.py):
the numbers prove the plumbing (finite, at the right steps, reproducible), not any real FID.
"""

from __future__ import annotations

import json
import logging
import math
import urllib.error

import pytest
import torch
from test_stylegan2_training import settings, write_images

from mlcore import engine
from mlcore.engine import read_metrics
from mlcore.stylegan2 import StyleGAN2TrainConfig
from mlcore.stylegan2.trainer import NO_FID_LABEL

STEPS = 3


@pytest.fixture(autouse=True)
def offline_machine(tmp_path, monkeypatch):
    """An empty torch hub cache, no weights variable, and torch hub's download (outside the
    project) failing as it does offline."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))
    monkeypatch.delenv("RESTYLE_INCEPTION_WEIGHTS", raising=False)
    monkeypatch.delenv("RESTYLE_OFFLINE", raising=False)

    def offline(url, destination, *args, **kwargs):
        raise urllib.error.URLError("[Errno -2] Name or service not known")

    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    return write_images(tmp_path_factory.mktemp("art") / "art", 12)


def train(images, run_dir, **config):
    cfg = StyleGAN2TrainConfig.preset("tiny32", steps=STEPS, **config)
    result = engine.start(run_dir, **settings(images, cfg, log_every=10))
    return result, read_metrics(run_dir)


def test_offline_the_run_warns_once_is_labelled_and_records_no_fid(images, tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        result, records = train(images, tmp_path / "run", metrics_every=1, metrics_images=8)

    assert result.status == "completed"
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING and "FID/KID" in r.getMessage()]
    assert len(warnings) == 1
    assert "RESTYLE_INCEPTION_WEIGHTS" in warnings[0].getMessage()
    assert NO_FID_LABEL in result.labels
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    assert NO_FID_LABEL in run["labels"]
    assert records and not any("fid" in r or "kid" in r for r in records)


def test_a_run_that_does_not_ask_for_fid_neither_warns_nor_is_labelled(images, tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        result, records = train(images, tmp_path / "run")
    assert result.labels == ()
    assert not [r for r in caplog.records if "FID/KID" in r.getMessage()]
    assert not any("fid" in r for r in records)


def test_with_the_weights_fid_and_kid_are_recorded_at_the_evaluation_steps_and_the_end(
        images, tmp_path, monkeypatch, random_inception_file):
    monkeypatch.setenv("RESTYLE_INCEPTION_WEIGHTS", str(random_inception_file))
    result, records = train(images, tmp_path / "measured", metrics_every=2, metrics_images=8)

    assert NO_FID_LABEL not in result.labels
    measured = {r["step"]: (r["fid"], r["kid"]) for r in records if "fid" in r}
    assert sorted(measured) == [2, STEPS]  # every 2 steps, and the last step
    assert all(math.isfinite(fid) and fid > 0 and math.isfinite(kid) for fid, kid in measured.values())
    assert measured[2] != measured[STEPS]  # G_ema moved between the two
    # step 2 is not a logging step (log_every 10): its record exists for the measurement
    assert [r["step"] for r in records] == [2, STEPS]
    assert "g_loss" in records[0]

    # Measuring leaves training alone: the same run without FID trains the same numbers.
    _, plain = train(images, tmp_path / "plain")
    assert [r["g_loss"] for r in plain] == [records[-1]["g_loss"]]
    assert plain[-1]["d_loss"] == records[-1]["d_loss"]

    # The figure is reproducible: the same run measured again gives the same numbers.
    _, again = train(images, tmp_path / "again", metrics_every=2, metrics_images=8)
    assert {r["step"]: (r["fid"], r["kid"]) for r in again if "fid" in r} == measured
