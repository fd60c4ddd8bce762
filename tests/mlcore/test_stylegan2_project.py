"""Projecting a photo into a tiny StyleGAN2 generator with random weights: the distance falls
on an image the generator can make, in W and W+; the schedules are the paper's formulas; the
default distance offline is the labelled fallback; cancelling and the plateau stop end the run
early with the latent reached; the caller's model is left as it was."""

import math

import numpy as np
import pytest
import torch
from PIL import Image
from stylegan2_tiny import random_generator

from mlcore.metrics import FALLBACK_LABEL, FallbackDistance
from mlcore.stylegan2.generate import generate, synthesize, to_pil
from mlcore.stylegan2.project import (
    ProjectionProgress,
    default_steps,
    learning_rate,
    noise_regularization,
    prepare_target,
    project,
    w_noise_scale,
)

FAST = {"w_avg_samples": 500, "distance": FallbackDistance()}

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def target(G):
    """An image the generator made itself from seed 7: a projection can get close to it."""
    return generate(G, [7], truncation_psi=0.7)[0]


@pytest.mark.parametrize("space", ["w", "w+"])
def test_projection_lowers_the_distance_to_an_image_the_generator_made(G, target, space):
    result = project(G, target, space=space, steps=40, patience=None, **FAST)
    assert result.stopped == "done" and result.steps_run == 40 and len(result.distances) == 40
    # From w_avg's image to a likeness: the fallback distance falls by more than a factor of 3 in 40 steps.
    assert result.distance < result.distances[0] / 3, (result.distances[0], result.distance)
    assert result.distance_label == FALLBACK_LABEL
    assert result.ws.shape == (1, G.num_ws, G.w_dim) and result.ws.device.type == "cpu"
    # The result's image is what its latent renders with the model's own noise (a reopened latent).
    np.testing.assert_array_equal(np.asarray(result.image), np.asarray(to_pil(synthesize(G, result.ws))[0]))


def test_w_space_shares_one_w_and_w_plus_has_one_per_layer(G, target):
    in_w = project(G, target, space="w", steps=12, patience=None, **FAST)
    in_w_plus = project(G, target, space="w+", steps=12, patience=None, **FAST)
    assert torch.equal(in_w.ws, in_w.ws[:, :1].expand_as(in_w.ws))
    assert not torch.allclose(in_w_plus.ws, in_w_plus.ws[:, :1].expand_as(in_w_plus.ws))
    assert (in_w.space, in_w_plus.space) == ("w", "w+")
    with pytest.raises(ValueError, match="space"):
        project(G, target, space="z", steps=1, **FAST)


def test_the_callers_model_is_left_unchanged(G, target):
    before = {k: v.clone() for k, v in G.state_dict().items()}
    project(G, target, steps=5, patience=None, **FAST)
    after = G.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert not any(p.requires_grad for p in G.parameters())


def test_the_same_seed_repeats_the_projection(G, target):
    a = project(G, target, steps=8, patience=None, seed=3, **FAST)
    b = project(G, target, steps=8, patience=None, seed=3, **FAST)
    assert a.distances == b.distances and torch.equal(a.ws, b.ws)


def test_progress_reports_every_step_with_an_image_every_n(G, target):
    seen: list[ProjectionProgress] = []
    result = project(G, target, steps=10, patience=None, progress_every=4, on_progress=seen.append, **FAST)
    assert [p.step for p in seen] == list(range(1, 11)) and all(p.steps == 10 for p in seen)
    assert [p.step for p in seen if p.image is not None] == [4, 8, 10]
    assert [p.distance for p in seen] == result.distances
    assert seen[-1].image.size == (32, 32)
    np.testing.assert_array_equal(np.asarray(seen[-1].image), np.asarray(result.image))


def test_should_stop_cancels_before_the_next_step_with_the_latent_reached(G, target):
    polls = []

    def stop_after_three():
        polls.append(1)
        return len(polls) > 3

    result = project(G, target, steps=50, patience=None, should_stop=stop_after_three, **FAST)
    assert result.stopped == "cancelled" and result.steps_run == 3 and len(result.distances) == 3
    assert result.ws.shape == (1, G.num_ws, G.w_dim) and result.image.size == (32, 32)


def test_a_projection_that_cannot_get_closer_stops_on_a_plateau(G):
    """A constant grey target and a learning rate of 0 with no w noise: nothing moves but the
    noise maps' first normalisation, so from step 2 every distance is the same, and the run
    stops patience (10) steps after its best, once the ramp-up (5 % of 200 steps) is over."""
    grey = Image.new("RGB", (40, 30), (128, 128, 128))
    result = project(G, grey, steps=200, lr=0.0, initial_noise_factor=0.0, patience=10, min_delta=1e-3, **FAST)
    d = result.distances
    assert result.stopped == "plateau"
    assert max(d[1:]) - min(d[1:]) < 1e-6 * d[1]
    best_step = 2 if d[1] < d[0] * (1 - 1e-3) else 1
    assert result.steps_run == max(best_step + 10, 11)
    unlimited = project(G, grey, steps=30, lr=0.0, initial_noise_factor=0.0, patience=None, **FAST)
    assert unlimited.stopped == "done" and unlimited.steps_run == 30


def test_a_real_projection_on_a_plateau_stops_before_its_steps(G):
    """The same grey target with the default schedule: the distance keeps falling for a while,
    then improves by less than 1 % over 10 steps."""
    grey = Image.new("RGB", (40, 30), (128, 128, 128))
    result = project(G, grey, steps=300, patience=10, min_delta=0.01, **FAST)
    assert result.stopped == "plateau" and 20 < result.steps_run < 300
    assert result.distances[-1] < result.distances[0] / 3


def test_offline_the_default_distance_is_the_labelled_fallback(G, target, tmp_path, monkeypatch):
    monkeypatch.setenv("RESTYLE_OFFLINE", "1")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))  # an empty torch hub cache
    monkeypatch.delenv("RESTYLE_VGG16_WEIGHTS", raising=False)
    monkeypatch.delenv("RESTYLE_LPIPS_WEIGHTS", raising=False)
    result = project(G, target, steps=2, w_avg_samples=100)
    assert result.distance_label == FALLBACK_LABEL and "LPIPS-VGG16 weights unavailable" in result.distance_label


def test_the_target_is_centre_cropped_and_resized():
    wide = Image.new("RGB", (90, 30), (0, 0, 255))
    wide.paste((255, 0, 0), (30, 0, 60, 30))  # the centre square is red, the sides blue
    square = prepare_target(wide, 32)
    assert square.size == (32, 32) and square.mode == "RGB"
    assert np.asarray(square)[..., 0].min() > 240 and np.asarray(square)[..., 2].max() < 15
    assert prepare_target(Image.new("RGBA", (10, 20)), 64).mode == "RGB"
    assert prepare_target(Image.new("RGB", (10, 20)), 64, channels=1).mode == "L"


# --- the paper's schedules, from the formulas ---------------------------------------------------


def test_learning_rate_ramps_up_over_5_percent_and_down_over_the_last_quarter():
    assert learning_rate(0.0) == 0.0
    assert learning_rate(0.025) == pytest.approx(0.05)  # half way up the linear ramp
    assert learning_rate(0.05) == pytest.approx(0.1) and learning_rate(0.5) == pytest.approx(0.1)
    assert learning_rate(0.875) == pytest.approx(0.1 * (0.5 - 0.5 * math.cos(0.5 * math.pi)))  # 0.05
    assert learning_rate(1.0) == pytest.approx(0.0, abs=1e-12)


def test_w_noise_falls_quadratically_to_zero_at_three_quarters():
    assert w_noise_scale(0.0, 2.0) == pytest.approx(0.1)  # w_std x 0.05
    assert w_noise_scale(0.375, 2.0) == pytest.approx(0.1 * 0.25)
    assert w_noise_scale(0.75, 2.0) == 0.0 and w_noise_scale(0.9, 2.0) == 0.0


def test_noise_regularization_is_small_for_white_noise_and_large_for_smooth_maps():
    g = torch.Generator().manual_seed(0)
    white = [torch.randn(32, 32, generator=g), torch.randn(4, 4, generator=g)]
    smooth = [torch.ones(32, 32), torch.ones(4, 4)]
    assert noise_regularization(white) < 0.01
    # A constant map of ones: every shifted product has mean 1, two per level, levels 32, 16, 8 and 4.
    assert noise_regularization(smooth).item() == pytest.approx(2 * 3 + 2 * 1)


def test_default_steps_by_device():
    assert default_steps("cpu") == 300 and default_steps("cuda") == 1000
