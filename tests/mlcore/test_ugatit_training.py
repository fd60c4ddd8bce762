"""Training U-GAT-IT on the CPU with tiny networks: the cycle loss falls, the loss weights and the
learning-rate decay are Kim et al.'s, rho stays in [0, 1], and a stopped run resumes bit for bit."""

from __future__ import annotations

import statistics

import pytest
import torch
from PIL import Image

from mlcore import engine
from mlcore.engine import Precision, list_checkpoints, load_training_checkpoint
from mlcore.images import open_image
from mlcore.inference import Inferer
from mlcore.registry import get_family, trainable_families
from mlcore.ugatit import UGATITConfig, UGATITTrainConfig
from mlcore.ugatit.trainer import Task as UGATITTask, lr_factor
from state_checks import assert_identical, stop_after

TINY = UGATITTrainConfig.preset("tiny")


@pytest.fixture(scope="module")
def inputs(horse2zebra):
    return {"data": str(horse2zebra)}


@pytest.fixture(scope="module")
def trained(tmp_path_factory, inputs):
    run_dir = tmp_path_factory.mktemp("ugatit")
    config = TINY.replace(steps=24, decay=False)
    result = engine.start(run_dir, family="ugatit", config=config, inputs=inputs, num_workers=0,
                          log_every=1, sample_every=12)
    return run_dir, result


def test_the_cycle_loss_falls(trained):
    run_dir, result = trained
    records = engine.read_metrics(run_dir)
    assert result.status == "completed" and len(records) == 24
    cycle = [r["cycle"] for r in records]
    assert statistics.mean(cycle[-4:]) < 0.8 * statistics.mean(cycle[:4])
    assert {"loss", "d_loss", "adv", "cycle", "identity", "cam"} <= set(records[0])


def test_the_generator_loss_is_adv_plus_10_cycle_plus_10_identity_plus_1000_cam(trained):
    for r in engine.read_metrics(trained[0])[:3]:
        assert r["loss"] == pytest.approx(r["adv"] + 10 * r["cycle"] + 10 * r["identity"] + 1000 * r["cam"],
                                          rel=1e-5)


def test_the_model_translates_any_picture_and_shows_its_attention(trained, data_dir):
    _, result = trained
    inferer = Inferer.load(result.model_path)
    assert inferer.family == "ugatit"
    assert inferer.config == TINY.arch == UGATITConfig(light=True, ngf=8, n_res=1, img_size=32)
    assert inferer.meta["direction"] == "A2B" and inferer.meta["training"]["steps"] == 24
    photo = open_image(data_dir / "images" / "content" / "chelsea.png")  # 451 x 300
    assert inferer.translate(photo).size == (451, 300)
    heat = inferer.attention(photo)
    assert heat.size == (451, 300) and heat.mode == "RGB"


def test_the_sample_grid_shows_a_b_translations_and_attention(trained):
    _, result = trained
    with Image.open(result.sample_path) as grid:
        # One probe per domain (testA and testB hold one picture each): six 32 px rows
        # (real A, A->B, attention, real B, B->A, attention) with 2 px padding.
        assert grid.size == (32 + 2 * 2, 6 * 32 + 7 * 2)


def test_the_family_offers_training_with_its_presets():
    family = get_family("ugatit")
    assert family in trainable_families() and family.training.config_class is UGATITTrainConfig
    assert UGATITTrainConfig.preset_names() == ["kim2020", "kim2020_light", "tiny"]


def test_the_learning_rate_falls_linearly_to_zero_over_the_second_half_as_in_their_code():
    total, lr0 = 10, 1e-4
    theirs, lr = [], lr0
    for step in range(1, total + 1):  # UGATIT.train: lr -= lr0 / (iteration // 2) after the half
        if step > total // 2:
            lr -= lr0 / (total // 2)
        theirs.append(lr)
    ours = [lr0 * lr_factor(step, total, decay=True) for step in range(1, total + 1)]
    assert ours == pytest.approx(theirs, abs=1e-12)
    assert [lr_factor(s, total, decay=False) for s in range(1, total + 1)] == [1.0] * total


def test_the_schedulers_set_each_step_s_learning_rate(tmp_path, inputs):
    config = TINY.replace(steps=6, lr=2e-4)
    engine.start(tmp_path, family="ugatit", config=config, inputs=inputs, num_workers=0, log_every=1,
                 sample_every=0)
    # The lr logged after step s is the one step s + 1 will use.
    logged = [r["lr"] for r in engine.read_metrics(tmp_path)]
    assert [r["G"] for r in logged] == pytest.approx([2e-4 * lr_factor(s + 1, 6, True) for s in range(1, 7)])
    assert [r["D"] for r in logged] == [r["G"] for r in logged]


def test_rho_stays_in_0_1_even_after_big_steps(inputs):
    torch.manual_seed(0)
    task = UGATITTask(TINY.replace(lr=1.0), inputs, device="cpu", precision=Precision())
    task.set_training(True)
    task.train_step([x.unsqueeze(0) for x in task.dataset[(0, 0)]])
    rhos = torch.cat([p.detach().flatten() for name in ("genA2B", "genB2A")
                      for n, p in task.networks[name].named_parameters() if n.endswith("rho")])
    assert rhos.min() >= 0 and rhos.max() <= 1
    assert (rhos == 0).any() and (rhos == 1).any()  # Adam at lr 1 pushed some out; they were clipped


def test_export_direction_picks_the_generator(inputs):
    task = UGATITTask(TINY.replace(export_direction="B2A"), inputs, device="cpu", precision=Precision())
    exported = task.export_model()
    assert exported.family == "ugatit" and exported.meta["direction"] == "B2A"
    expected = task.networks["genB2A"].state_dict()
    assert exported.state_dict.keys() == expected.keys()
    assert all(torch.equal(exported.state_dict[k], expected[k]) for k in expected)
    assert not torch.equal(exported.state_dict["gap_fc.weight"], task.networks["genA2B"].state_dict()["gap_fc.weight"])


# --- resume ------------------------------------------------------------------------------------


def test_a_stopped_run_resumes_bit_identical_to_an_uninterrupted_one(tmp_path, inputs):
    # Full model this time; decay on, so the schedulers change the rate after the half.
    config = TINY.replace(steps=6).override({"arch.light": False})
    settings = dict(family="ugatit", config=config, inputs=inputs, num_workers=0, log_every=1,
                    sample_every=0, checkpoint_every=4)
    straight = engine.start(tmp_path / "straight", **settings)
    stopped = engine.start(tmp_path / "stopped", should_stop=stop_after(3), **settings)
    assert (stopped.status, stopped.step) == ("stopped", 3)
    resumed = engine.resume(tmp_path / "stopped", num_workers=2)  # a new process would do the same
    assert (resumed.status, resumed.step) == (straight.status, straight.step) == ("completed", 6)

    final = lambda run: load_training_checkpoint(list_checkpoints(tmp_path / run / "checkpoints")[-1][1])
    a, b = final("straight"), final("stopped")
    assert set(a["task"]["networks"]) == {"genA2B", "genB2A", "disGA", "disGB", "disLA", "disLB"}
    assert set(a["task"]["optimizers"]) == set(a["task"]["schedulers"]) == {"G", "D"}
    assert "disGA" in a["task"]["networks"] and "model.1.weight_u" in a["task"]["networks"]["disGA"]
    assert_identical(a["task"], b["task"])  # weights, spectral-norm vectors, Adam and schedulers
    assert_identical(a["rng"], b["rng"])
    metrics = lambda run: [(m["step"], m["loss"], m["d_loss"]) for m in engine.read_metrics(tmp_path / run)]
    assert metrics("stopped") == metrics("straight")
