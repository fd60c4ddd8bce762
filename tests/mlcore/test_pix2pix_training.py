"""Training Pix2Pix on mlcore.engine on the CPU: the L1 loss falls on one pair, the run folder
and the model are complete, the learning rate follows junyanz's linear policy, and a run
stopped and resumed ends bit-identical to one that never stopped."""

from __future__ import annotations

import statistics
from pathlib import Path

import pytest
from PIL import Image

from mlcore import engine
from mlcore.checkpoint import load_model
from mlcore.engine import list_checkpoints, load_training_checkpoint, read_metrics, read_run
from mlcore.images import open_image
from mlcore.inference import Inferer
from mlcore.pix2pix import Pix2PixConfig, Pix2PixTrainConfig
from mlcore.tools.make_pairs import make_pairs
from mlcore.pix2pix.trainer import linear_decay
from mlcore.registry import get_family, trainable_families
from state_checks import assert_identical, stop_after

TINY = Pix2PixTrainConfig.preset("tiny", steps=6)


@pytest.fixture(scope="module")
def pairs(photos: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("pairs") / "edges"
    make_pairs(photos, folder, kind="edges2photo", count=5, size=36, seed=0)
    return folder


def settings(pairs: Path, **overrides):
    values = dict(family="pix2pix", config=TINY, inputs={"data": str(pairs)}, num_workers=0, log_every=1,
                  sample_every=3, checkpoint_every=3)
    values.update(overrides)
    return values


@pytest.fixture(scope="module")
def straight_run(pairs: Path, tmp_path_factory: pytest.TempPathFactory):
    """Six steps without a stop: the reference a resumed run must match."""
    run_dir = tmp_path_factory.mktemp("straight")
    return run_dir, engine.start(run_dir, **settings(pairs))


def test_the_l1_loss_falls_when_overfitting_one_pair(photos, tmp_path):
    make_pairs(photos, tmp_path / "one", kind="gray2color", count=1, size=32, seed=1)
    # No jitter, no flip, a constant (and for a demo, brisk) learning rate: the same batch 20 times.
    config = Pix2PixTrainConfig.preset("tiny", batch_size=1, load_size=32, flip=False, decay_fraction=0.0,
                                       lr=1e-3, steps=20)
    engine.start(tmp_path / "run", **settings(tmp_path / "one", config=config, sample_every=0, checkpoint_every=0))
    l1 = [m["l1"] for m in read_metrics(tmp_path / "run")]
    assert len(l1) == 20
    assert statistics.mean(l1[-5:]) < 0.7 * statistics.mean(l1[:5])  # about 0.52 on seed 0


def test_the_run_folder_holds_metrics_samples_checkpoints_and_the_model(straight_run):
    run_dir, result = straight_run
    run = read_run(run_dir)
    assert (run["status"], run["step"], run["family"], run["config"]["direction"]) == ("completed", 6, "pix2pix", "AtoB")
    records = read_metrics(run_dir)
    assert [r["step"] for r in records] == [1, 2, 3, 4, 5, 6]
    assert {"loss", "gan", "l1", "d"} <= set(records[0])
    assert records[0]["loss"] == pytest.approx(records[0]["gan"] + records[0]["l1"])
    assert [s for s, _ in list_checkpoints(run_dir / "checkpoints")] == [3, 6]
    with Image.open(result.sample_path) as grid:
        # Rows A, fake B, real B of two 32 px probes, 2 px padding: (2 x 32 + 3 x 2) x (3 x 32 + 4 x 2).
        assert grid.size == (70, 104)


def test_the_exported_generator_runs_in_the_inferer_at_any_size(straight_run, data_dir):
    _, result = straight_run
    inferer = Inferer.load(result.model_path)
    assert inferer.family == "pix2pix" and inferer.config == Pix2PixConfig(generator="unet_32", ngf=8)
    assert inferer.meta["direction"] == "AtoB" and inferer.meta["training"]["steps"] == 6
    picture = open_image(data_dir / "images" / "content" / "chelsea.png")
    out = inferer.translate(picture)
    assert out.size == (451, 300) and out.mode == "RGB"
    assert inferer.translate(picture).tobytes() == out.tobytes()  # no dropout at inference


def test_the_learning_rate_is_constant_then_falls_linearly_to_zero(straight_run):
    # junyanz 'linear' in steps: 10 steps, the last 4 decaying, 1 - (k + 1 - 6) / 5 from k = 6.
    factor = linear_decay(10, 4)
    assert [factor(k) for k in range(10)] == pytest.approx([1, 1, 1, 1, 1, 1, 0.8, 0.6, 0.4, 0.2])
    assert [linear_decay(5, 0)(k) for k in range(5)] == [1.0] * 5
    # The tiny run: 6 steps, decay_fraction 0.5. Each record shows the rate for the next step.
    rates = [m["lr"] for m in read_metrics(straight_run[0])]
    assert [r["generator"] for r in rates] == pytest.approx([2e-4 * f for f in (1, 1, 0.75, 0.5, 0.25, 0)])
    assert all(r["discriminator"] == r["generator"] for r in rates)


def test_a_run_stopped_and_resumed_ends_bit_identical(straight_run, pairs, tmp_path):
    straight_dir, straight = straight_run
    stopped = engine.start(tmp_path, should_stop=stop_after(4), **settings(pairs))
    assert (stopped.status, stopped.step) == ("stopped", 4)

    resumed = engine.resume(tmp_path)  # a new Trainer from the folder alone
    assert (resumed.status, resumed.step) == ("completed", 6)
    a = load_training_checkpoint(list_checkpoints(straight_dir / "checkpoints")[-1][1])
    b = load_training_checkpoint(list_checkpoints(tmp_path / "checkpoints")[-1][1])
    assert set(a["task"]["networks"]) == {"generator", "discriminator"}
    assert set(a["task"]["schedulers"]) == {"generator", "discriminator"}
    assert a["task"]["schedulers"]["generator"]["last_epoch"] == 6
    assert_identical(a["task"], b["task"])  # weights, batch norm statistics, Adam, schedulers
    assert_identical(a["rng"], b["rng"])
    assert_identical(load_model(straight.model_path).state_dict, load_model(resumed.model_path).state_dict)
    losses = lambda run: [(m["step"], m["loss"], m["d"]) for m in read_metrics(run)]  # noqa: E731
    assert losses(tmp_path) == losses(straight_dir)


def test_the_family_is_trainable_on_one_folder_of_pairs():
    family = get_family("pix2pix")
    assert family in trainable_families()
    assert family.config_class is Pix2PixConfig and family.training.config_class is Pix2PixTrainConfig
    assert [(i.name, i.kind, i.required) for i in family.training.inputs] == [("data", "folder", True)]
