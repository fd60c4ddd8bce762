"""Gatys et al. optimisation style transfer at 64 px with the test-only random VGG19."""

from __future__ import annotations

import itertools

import pytest

from mlcore.gatys import GatysConfig
from mlcore.gatys.inferer import run_gatys
from mlcore.gatys.config import VGG19_RELUS
from mlcore.images import open_image
from mlcore.vgg import RANDOM_VGG_LABEL, layer_names, load_vgg


@pytest.fixture(scope="module")
def vgg19():
    return load_vgg("vgg19", "random")


@pytest.fixture(scope="module")
def photos(chelsea_path, style_path):
    return open_image(chelsea_path), open_image(style_path)


def tiny(**overrides):
    # A random VGG's features are far weaker than ImageNet ones: a larger style weight brings
    # the loss to the range the optimisers are tuned for (see mlcore.gatys.inferer).
    return GatysConfig.preset("tiny", loss_network="random", style_weight=1e9, **overrides)


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_the_loss_falls(photos, vgg19, optimizer):
    seen = []
    result = run_gatys(*photos, tiny(optimizer=optimizer, steps=10), vgg=vgg19,
                       on_progress=seen.append, progress_every=1)
    losses = [p.losses["loss"] for p in seen]
    assert len(losses) == 10
    assert min(losses[-3:]) < 0.5 * losses[0]  # (L-BFGS without line search may overshoot)
    assert result.losses["loss"] == min(losses + [result.losses["loss"]])  # the best one is returned
    assert (result.steps, result.stopped, result.image.size) == (10, False, (64, 43))  # 451 x 300 in


def test_progress_comes_every_n_steps_with_the_picture_and_labels(photos, vgg19):
    seen = []
    run_gatys(*photos, tiny(optimizer="adam", steps=7), vgg=vgg19, on_progress=seen.append, progress_every=3)
    assert [p.step for p in seen] == [3, 6, 7]  # every 3 steps, and the last
    assert all(p.total_steps == 7 and p.image.size == (64, 43) for p in seen)
    assert seen[-1].eta_seconds == 0 and seen[0].eta_seconds > 0
    assert set(seen[0].losses) == {"loss", "content", "style", "tv"}
    assert seen[0].labels == (RANDOM_VGG_LABEL,)


def test_should_stop_ends_early_with_the_best_picture_so_far(photos, vgg19):
    polls = itertools.count()
    result = run_gatys(*photos, tiny(steps=50), vgg=vgg19, should_stop=lambda: next(polls) >= 3)
    assert (result.steps, result.stopped) == (3, True)
    assert result.image.size == (64, 43) and result.losses["loss"] > 0


def test_noise_start_and_output_size(photos, vgg19):
    result = run_gatys(*photos, tiny(steps=2, init="noise", size=40, optimizer="adam"), vgg=vgg19)
    assert result.image.size == (40, 27)


def test_the_random_network_is_loaded_when_none_is_given(photos):
    result = run_gatys(*photos, tiny(steps=1, size=32))
    assert result.labels == (RANDOM_VGG_LABEL,)


def test_paper_layers_and_presets():
    config = GatysConfig.preset("gatys2016")
    assert config.content_layer == "relu4_2"
    assert config.style_layers == ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
    assert (config.optimizer, config.pooling, config.loss_network) == ("lbfgs", "avg", "imagenet")
    assert set(VGG19_RELUS) == {n for n in layer_names("vgg19") if n.startswith("relu")}
    assert GatysConfig.from_json(config.to_json()) == config


def test_fp16_is_refused(photos, vgg19):
    with pytest.raises(ValueError, match="fp32 or bf16"):
        run_gatys(*photos, tiny(steps=1), vgg=vgg19, precision="fp16")
