"""Training StyleGAN2 on mlcore.engine on the CPU (tiny32): the lazy-regularisation schedule
and its Adam adjustments, the EMA generator and w_avg, a short run whose losses are finite and
move, ADA answering an over-confident discriminator, a stopped and resumed run bit-identical to
a straight one (kimg, EMA, pl_mean, augmentation p and ADA's sums included), and an exported
model that loads into the family's network."""

from __future__ import annotations

import math
import statistics
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from mlcore import engine
from mlcore.checkpoint import load_model
from mlcore.engine import list_checkpoints, load_training_checkpoint, read_metrics, run_step
from mlcore.registry import get_family, trainable_families
from mlcore.stylegan2 import StyleGAN2Config, StyleGAN2TrainConfig, losses, networks
from mlcore.stylegan2.data import ADA_BELOW
from mlcore.stylegan2.trainer import augmentation_on, grid_latents
from state_checks import assert_identical, stop_after

TINY = StyleGAN2TrainConfig.preset("tiny32")
METRICS = {"g_loss", "d_loss", "r1_penalty", "pl_penalty", "pl_mean", "augment_p", "d_real_sign", "kimg"}


def write_images(folder: Path, count: int, *, seed: int = 0) -> Path:
    """Smooth random colour pictures of assorted sizes (40 x 40 and 48 x 36)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.RandomState(seed)
    for i in range(count):
        size = (40, 40) if i % 2 else (48, 36)
        small = rng.randint(0, 256, (6, 6, 3), dtype=np.uint8)
        Image.fromarray(small).resize(size, Image.Resampling.BICUBIC).save(folder / f"{i:03d}.png")
    return folder


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_images(tmp_path_factory.mktemp("art") / "art", 12)


def settings(images: Path, config: StyleGAN2TrainConfig, **overrides):
    values = dict(family="stylegan2", config=config, inputs={"data": str(images)}, num_workers=0, log_every=1,
                  sample_every=0, checkpoint_every=0)
    values.update(overrides)
    return values


def make_task(images: Path, config: StyleGAN2TrainConfig, tmp_path: Path):
    trainer = engine.Trainer.create(tmp_path / "run", **settings(images, config))
    task, precision = trainer.make_task()
    task.set_training(True)
    return task, precision, trainer.first_batch(task)


@pytest.fixture(scope="module")
def run32(images: Path, tmp_path_factory: pytest.TempPathFactory):
    """32 steps of tiny32 (ADA on: 12 images), the checkpoint and model at the end."""
    run_dir = tmp_path_factory.mktemp("run32")
    result = engine.start(run_dir, **settings(images, TINY.override({"steps": 32})))
    checkpoint = load_training_checkpoint(list_checkpoints(run_dir / "checkpoints")[-1][1])
    return run_dir, result, checkpoint


def test_the_family_trains_on_one_folder_of_images():
    family = get_family("stylegan2")
    assert family in trainable_families()
    assert family.training.config_class is StyleGAN2TrainConfig
    assert [(i.name, i.kind, i.required) for i in family.training.inputs] == [("data", "folder", True)]


def test_lazy_regularisation_runs_greg_every_4th_and_dreg_every_16th_step(run32):
    _, result, checkpoint = run32
    assert result.status == "completed"
    # Every Adam step counts: 32 main steps each, plus 8 path-length (steps 0, 4, ..., 28) and
    # 2 R1 (steps 0 and 16) steps.
    for name, expected in (("G", 32 + 8), ("D", 32 + 2)):
        adam_state = checkpoint["task"]["optimizers"][name]["state"]
        assert {int(s["step"]) for s in adam_state.values()} == {expected}, name
    assert int(checkpoint["task"]["networks"]["state"]["steps"]) == 32


def test_lazy_regularisation_adjusts_adams_learning_rate_and_betas(images, tmp_path):
    task, _, _ = make_task(images, TINY, tmp_path)
    g, d = (task.optimizers[name].param_groups[0] for name in ("G", "D"))
    assert g["lr"] == pytest.approx(0.0025 * 4 / 5) and d["lr"] == pytest.approx(0.0025 * 16 / 17)
    assert g["betas"] == pytest.approx((0.0, 0.99 ** (4 / 5))) and d["betas"] == pytest.approx((0.0, 0.99 ** (16 / 17)))
    assert g["eps"] == d["eps"] == 1e-8
    assert losses.lazy_adam(0.002, (0.5, 0.9), None) == (0.002, (0.5, 0.9))  # not lazy: unchanged
    # Without a regulariser there is nothing lazy to adjust for.
    plain, _, _ = make_task(images, TINY.override({"pl_weight": 0.0, "r1_gamma": 0.0}), tmp_path / "plain")
    assert [plain.optimizers[n].param_groups[0]["lr"] for n in ("G", "D")] == [0.0025, 0.0025]


def test_the_ema_half_life_ramps_up_with_the_images_seen():
    # tiny32: batch 4, ema_kimg 0.01 (10 images), ramp-up 0.05.
    beta = lambda seen: losses.ema_beta(4, seen, ema_kimg=0.01, ema_rampup=0.05)  # noqa: E731
    assert beta(0) == 0.0  # the first step copies G
    assert beta(40) == pytest.approx(0.5 ** (4 / 2))  # half-life 40 x 0.05 = 2 images
    assert beta(100) == pytest.approx(0.5 ** (4 / 5))
    assert beta(4000) == pytest.approx(0.5 ** (4 / 10))  # capped at ema_kimg
    assert losses.ema_beta(64, 10**6, ema_kimg=20, ema_rampup=None) == pytest.approx(0.5 ** (64 / 20000))


def test_each_step_moves_g_ema_towards_g_and_copies_w_avg(images, tmp_path):
    task, precision, batch = make_task(images, TINY, tmp_path)
    mapped = []  # (update_emas, w) of every mapping pass of G
    task.G.mapping.register_forward_hook(
        lambda m, args, kwargs, out: mapped.append((kwargs.get("update_emas"), out[:, 0].detach().clone())),
        with_kwargs=True)
    for step in range(3):
        ema_before = [p.detach().clone() for p in task.G_ema.parameters()]
        w_avg_before = task.G.mapping.w_avg.clone()
        seen = int(task.state.images_seen)
        mapped.clear()
        run_step(task, precision, batch)
        beta = losses.ema_beta(4, seen, ema_kimg=0.01, ema_rampup=0.05)
        for p_ema, before, p in zip(task.G_ema.parameters(), ema_before, task.G.parameters()):
            assert torch.equal(p_ema, p.detach().lerp(before, beta))
        # w_avg follows every G pass but the style-mixing one: w_avg <- mean(w) + 0.995 (w_avg - mean(w)).
        updating = [w for update, w in mapped if update]
        assert len(updating) == (3 if step == 0 else 2)  # Gmain, Greg (step 0 only here), Dmain
        assert len(mapped) == 2 * len(updating)  # each pass mixes in a second z (mixing probability 0.9 > 0)
        expected = w_avg_before
        for w in updating:
            expected = w.mean(dim=0).lerp(expected, 0.995)
        assert torch.allclose(task.G.mapping.w_avg, expected, atol=1e-7)
        assert torch.equal(task.G_ema.mapping.w_avg, task.G.mapping.w_avg)  # buffers are copied
    assert int(task.state.images_seen) == 12


def test_a_short_run_has_finite_losses_that_move(run32):
    run_dir, _, _ = run32
    records = read_metrics(run_dir)
    assert [r["step"] for r in records] == list(range(1, 33))
    assert all(METRICS <= set(r) for r in records)
    for name in METRICS:
        assert all(math.isfinite(r[name]) for r in records), name
    for name in ("g_loss", "d_loss"):
        values = [r[name] for r in records]
        assert statistics.pstdev(values) > 0.02 and max(values) - min(values) > 0.1, (name, values)
    # The penalties keep their latest values between regularisation steps.
    pl = [r["pl_penalty"] for r in records]
    assert pl[0] > 0 and pl[1:4] == [pl[0]] * 3 and pl[4] != pl[0]
    r1 = [r["r1_penalty"] for r in records]
    assert r1[0] > 0 and len(set(r1[:16])) == 1 and r1[16] != r1[0]
    assert records[-1]["pl_mean"] > records[0]["pl_mean"] > 0
    assert records[-1]["kimg"] == pytest.approx(0.128)


def test_ada_raises_p_for_an_over_confident_discriminator(images, tmp_path):
    config = TINY.override({"augment": "ada", "ada_interval": 2, "ada_kimg": 0.1})  # 0.08 per adjustment
    for bias, expected in ((100.0, [0.0, 0.08, 0.08, 0.16]), (-100.0, [0.0] * 4)):
        task, precision, batch = make_task(images, config, tmp_path / str(bias))
        with torch.no_grad():
            task.D.b4.out.bias.fill_(bias)  # D says "real" (or "fake") to everything, by far
        seen = []
        for _ in range(4):
            metrics = run_step(task, precision, batch)
            seen.append(metrics["augment_p"])
        assert seen == pytest.approx(expected, abs=1e-6), bias
        assert metrics["d_real_sign"] == (1.0 if bias > 0 else -1.0)


def test_augmentation_auto_is_on_below_the_papers_dataset_size(images, tmp_path):
    assert augmentation_on("auto", ADA_BELOW - 1) and not augmentation_on("auto", ADA_BELOW)
    assert augmentation_on("ada", 10**6) and not augmentation_on("noaug", 1)
    task, precision, batch = make_task(images, TINY.override({"augment": "noaug"}), tmp_path)
    assert not task.ada
    for _ in range(4):
        assert run_step(task, precision, batch)["augment_p"] == 0.0


def test_a_run_stopped_and_resumed_ends_bit_identical(images, tmp_path):
    # Regularisation and ADA adjustments on both sides of the stop.
    config = TINY.override({"steps": 6, "g_reg_interval": 2, "d_reg_interval": 4, "augment": "ada",
                            "augment_p": 0.5, "ada_interval": 2, "ada_kimg": 0.1})
    straight_dir, stopped_dir = tmp_path / "straight", tmp_path / "stopped"
    straight = engine.start(straight_dir, **settings(images, config, checkpoint_every=3))
    stopped = engine.start(stopped_dir, should_stop=stop_after(3), **settings(images, config, checkpoint_every=3))
    assert (stopped.status, stopped.step) == ("stopped", 3)
    resumed = engine.resume(stopped_dir)
    assert (resumed.status, resumed.step) == ("completed", 6)

    a = load_training_checkpoint(list_checkpoints(straight_dir / "checkpoints")[-1][1])
    b = load_training_checkpoint(list_checkpoints(stopped_dir / "checkpoints")[-1][1])
    assert set(a["task"]["networks"]) == {"G", "D", "G_ema", "augment", "state"}
    state = a["task"]["networks"]["state"]
    assert int(state["images_seen"]) == 24 and int(state["steps"]) == 6 and float(state["pl_mean"]) > 0
    # ADA moved p (three moves of 0.08 from 0.5), so resuming must have kept it.
    p = float(a["task"]["networks"]["augment"]["p"])
    assert min(abs(p - q) for q in (0.26, 0.42, 0.58, 0.74)) < 1e-6, p
    assert a["task"]["ada"]["steps"] == 6
    # At the stop (step 3, mid-interval) ADA's sums held step 3's signs: the checkpoint keeps them.
    at_stop = load_training_checkpoint(list_checkpoints(stopped_dir / "checkpoints")[0][1])
    assert at_stop["step"] == 3 and float(at_stop["task"]["ada"]["sums"][1]) > 0
    assert_identical(a["task"], b["task"])  # G, D, G_ema (w_avg), Adam, p, pl_mean, kimg, ADA's sums
    assert_identical(a["rng"], b["rng"])
    assert_identical(load_model(straight.model_path).state_dict, load_model(resumed.model_path).state_dict)
    fields = lambda run: [{k: r[k] for k in ("step", *sorted(METRICS))} for r in read_metrics(run)]  # noqa: E731
    assert fields(stopped_dir) == fields(straight_dir)


def test_the_grid_seeds_are_nvlabs_generate_latents_and_the_sample_is_g_ema_in_0_1(images, tmp_path):
    z = grid_latents(3, 64)
    assert torch.equal(z[2], torch.from_numpy(np.random.RandomState(2).randn(1, 64)[0]).float())
    task, _, _ = make_task(images, TINY, tmp_path)
    probe = task.probe_batch()
    assert probe.shape == (8, 64)
    with torch.no_grad():
        grid = task.sample(probe)
        expected = ((task.G_ema(probe, None, noise_mode="const") + 1) / 2).clamp(0, 1)
    assert grid.shape == (8, 3, 32, 32) and torch.equal(grid, expected)


def test_the_exported_model_is_g_ema_and_loads_into_the_family_network(run32, images):
    _, result, checkpoint = run32
    model = load_model(result.model_path)
    assert model.family == "stylegan2" and model.config == StyleGAN2Config.preset("tiny32")
    assert model.meta["resolution"] == 32 and model.meta["kimg"] == pytest.approx(0.128)
    assert model.meta["dataset"] == images.name and model.meta["dataset_images"] == 12
    assert model.meta["augment"] == "auto" and model.meta["augment_p"] >= 0.0
    assert model.meta["training"]["steps"] == 32
    generator = networks.build(model.config)
    generator.load_state_dict(model.state_dict, strict=True)
    g_ema = checkpoint["task"]["networks"]["G_ema"]
    assert all(torch.equal(model.state_dict[k], g_ema[k].float()) for k in g_ema)
    with torch.no_grad():
        out = generator(grid_latents(2, 64), None, noise_mode="const")
    assert out.shape == (2, 3, 32, 32) and torch.isfinite(out).all()
