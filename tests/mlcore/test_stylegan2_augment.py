"""Adaptive discriminator augmentation: what each transform does, the identity at p = 0,
gradients, determinism, and the controller's step rule and resumable state."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from mlcore.stylegan2.augment import _SYM6, AdaController, AugmentPipe, make_pipe


def smooth_images(n: int = 8, size: int = 32, seed: int = 0) -> torch.Tensor:
    """Smooth, asymmetric colour pictures in -1..1 (no two quarter turns or flips alike)."""
    gen = torch.Generator().manual_seed(seed)
    coarse = torch.rand(n, 3, 4, 4, generator=gen) * 2 - 1
    x = F.interpolate(coarse, size=size, mode="bilinear", align_corners=False)
    ramp = torch.linspace(-0.3, 0.3, size)
    return (x * 0.6 + ramp.view(1, 1, 1, -1) + ramp.view(1, 1, -1, 1) ** 2).clamp(-1, 1)


def only(name: str, **strengths: float) -> AugmentPipe:
    return AugmentPipe(p=1.0, **{name: 1.0}, **strengths)


def seeded(seed: int = 1) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# -- the pipe -------------------------------------------------------------------------------


def test_p_zero_returns_the_input_unchanged():
    x = smooth_images()
    pipe = make_pipe("bgc", p=0.0)
    assert pipe(x) is x
    assert pipe(x, generator=seeded()) is x


def test_p_one_changes_every_image_and_keeps_shape_dtype_and_finite_values():
    x = smooth_images(16)
    y = make_pipe("bgc", p=1.0)(x, generator=seeded())
    assert y.shape == x.shape and y.dtype == x.dtype
    assert torch.isfinite(y).all()
    changed = (y - x).flatten(1).abs().amax(dim=1)
    assert (changed > 1e-3).all()
    assert torch.equal(x, smooth_images(16))  # the caller's tensor is untouched


def test_images_left_alone_at_small_p_come_back_bit_for_bit():
    x = smooth_images(64)
    y = make_pipe("bgc", p=0.02)(x, generator=seeded(3))
    same = (y == x).flatten(1).all(dim=1)
    assert 0 < int(same.sum()) < 64  # some picked, some not
    assert ((y[~same] - x[~same]).flatten(1).abs().amax(dim=1) > 1e-4).all()


def test_gradients_flow_through_the_pipe_twice_as_r1_needs():
    x = smooth_images(4).requires_grad_()
    y = make_pipe("bgc", p=1.0)(x, generator=seeded())
    (grad,) = torch.autograd.grad(y.square().sum(), x, create_graph=True)
    assert torch.isfinite(grad).all() and grad.abs().sum() > 0
    grad.square().sum().backward()  # the R1 penalty differentiates the gradient again
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


def test_same_rng_state_same_images_from_a_generator_or_the_global_rng():
    x = smooth_images(8)
    pipe = make_pipe("bgc", p=0.7)
    assert torch.equal(pipe(x, generator=seeded(5)), pipe(x, generator=seeded(5)))
    torch.manual_seed(11)
    first = pipe(x)
    torch.manual_seed(11)
    assert torch.equal(pipe(x), first)
    assert not torch.equal(pipe(x), first)  # the global RNG moved on


def test_xflip_flips_exactly_the_images_it_picks():
    x = smooth_images(16)
    y = only("xflip")(x, generator=seeded())
    flipped = [torch.equal(y[i], x[i].flip(2)) for i in range(16)]
    kept = [torch.equal(y[i], x[i]) for i in range(16)]
    assert all(f != k for f, k in zip(flipped, kept))  # each image one or the other, exactly
    assert 0 < sum(flipped) < 16  # with p = 1 a flip is chosen half the time

    # The choice is the pipe's own draw: a flip value, then "is this image augmented".
    gen = seeded()
    flip_value = torch.rand(16, generator=gen).mul(2).floor()
    augmented = torch.rand(16, generator=gen) < 1.0
    assert flipped == ((flip_value == 1) & augmented).tolist()


def test_rotate90_turns_each_image_by_a_whole_number_of_quarters():
    x = smooth_images(16)
    y = only("rotate90")(x, generator=seeded())
    turns = []
    for i in range(16):
        matches = [k for k in range(4) if torch.equal(y[i], torch.rot90(x[i], k, dims=(1, 2)))]
        assert len(matches) == 1
        turns.append(matches[0])
    assert len(set(turns)) > 2


def test_integer_translation_moves_whole_pixels_within_an_eighth_of_the_side():
    x = smooth_images(8, size=32)
    y = only("xint")(x, generator=seeded())
    for i in range(8):
        best = min(
            ((y[i, :, 8:24, 8:24] - torch.roll(x[i], (dy, dx), (1, 2))[:, 8:24, 8:24]).abs().max().item(), dx, dy)
            for dy in range(-4, 5) for dx in range(-4, 5)
        )
        assert best[0] == 0.0, f"image {i} is no whole-pixel shift of its input"


def test_geometric_transforms_keep_the_size_and_change_the_picture():
    x = smooth_images(8, size=32)
    for name in ("scale", "rotate", "aniso", "xfrac"):
        y = only(name)(x, generator=seeded())
        assert y.shape == x.shape, name
        assert torch.isfinite(y).all(), name
        assert (y - x).abs().mean() > 1e-3, name


def test_the_resampler_is_an_identity_for_the_identity_and_follows_its_matrix():
    x = smooth_images(4, size=32)
    pipe = make_pipe("geom")
    eye = torch.eye(3).expand(4, 3, 3)
    assert (pipe._warp(x, eye) - x).abs().max() < 1e-5  # up then down with an orthogonal filter

    # The matrix maps output to input pixels: sampling from x + 3 moves the picture 3 px left.
    shift = eye.clone()
    shift[:, 0, 2] = 3.0
    moved = pipe._warp(x, shift)
    assert (moved[:, :, :, 4:24] - x[:, :, :, 7:27]).abs().max() < 1e-4

    # A quarter turn through the resampler is close to rot90 (the filter is nearly symmetric).
    turn = torch.tensor([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]).expand(4, 3, 3)
    turned = pipe._warp(x, turn)
    nearest = min((turned - torch.rot90(x, k, dims=(2, 3))).abs().mean().item() for k in range(4))
    assert nearest < 0.01


def test_symlet6_filter_is_orthogonal():
    h = torch.tensor(_SYM6, dtype=torch.float64)
    assert h.sum().item() == pytest.approx(math.sqrt(2), abs=1e-12)
    for lag in range(6):  # sum_k h[k] h[k + 2 lag] = delta(lag)
        assert (h[: 12 - 2 * lag] * h[2 * lag:]).sum().item() == pytest.approx(1.0 if lag == 0 else 0.0, abs=1e-9)


def test_brightness_adds_one_offset_per_image():
    x = smooth_images(8)
    y = only("brightness")(x, generator=seeded())
    offset = (y - x).flatten(1)
    assert (offset.amax(dim=1) - offset.amin(dim=1)).abs().max() < 1e-5  # the same everywhere
    assert offset.mean(dim=1).abs().min() > 1e-4  # and not zero: the means move
    assert 0.05 < offset.mean(dim=1).std() < 0.5  # spread about the strength, std 0.2


def test_contrast_scales_about_mid_grey():
    x = smooth_images(8)
    y = only("contrast")(x, generator=seeded())
    factor = (y.flatten(1) * x.flatten(1)).sum(1) / x.flatten(1).square().sum(1)
    assert torch.allclose(y, x * factor.view(-1, 1, 1, 1), atol=1e-5)
    assert (factor - 1).abs().max() > 0.05


def test_luma_flip_negates_brightness_and_keeps_colour_differences():
    x = smooth_images(16)
    y = only("lumaflip")(x, generator=seeded())
    flipped = 0
    for i in range(16):
        luma_in, luma_out = x[i].mean(0), y[i].mean(0)
        assert torch.allclose(y[i] - luma_out, x[i] - luma_in, atol=1e-5)  # chroma kept
        if torch.allclose(luma_out, -luma_in, atol=1e-5) and not torch.allclose(luma_in, luma_out, atol=1e-3):
            flipped += 1
        else:
            assert torch.equal(y[i], x[i])
    assert 0 < flipped < 16


def test_hue_and_saturation_keep_luma_and_leave_greys_alone():
    x = smooth_images(8)
    grey = x.mean(1, keepdim=True).expand(-1, 3, -1, -1).contiguous()
    for name in ("hue", "saturation"):
        y = only(name)(x, generator=seeded())
        assert torch.allclose(y.mean(1), x.mean(1), atol=1e-5), name
        assert (y - x).abs().mean() > 1e-3, name
        assert torch.allclose(only(name)(grey, generator=seeded()), grey, atol=1e-5), name


def test_make_pipe_names_the_paper_pipelines_and_refuses_others():
    assert make_pipe("bgc").xflip == 1 and make_pipe("bgc").saturation == 1
    assert make_pipe("blit").scale == 0 and make_pipe("geom").xflip == 0
    pipe = make_pipe("bgc")
    assert (pipe.scale_std, pipe.rotate_max, pipe.aniso_std, pipe.xfrac_std) == (0.2, 1.0, 0.2, 0.125)
    assert (pipe.brightness_std, pipe.contrast_std, pipe.hue_max, pipe.saturation_std) == (0.2, 0.5, 1.0, 1.0)
    with pytest.raises(ValueError, match="unknown augmentation pipeline 'bgcfnc'"):
        make_pipe("bgcfnc")


def test_pipe_state_dict_holds_p_alone_and_restores_it():
    pipe = make_pipe("bgc", p=0.25)
    assert set(pipe.state_dict()) == {"p"}
    other = make_pipe("bgc")
    other.load_state_dict(pipe.state_dict())
    assert other.p.item() == 0.25
    x = smooth_images(4)
    assert torch.equal(other(x, generator=seeded()), pipe(x, generator=seeded()))


# -- the controller ------------------------------------------------------------------------


def run_steps(controller: AdaController, pipe: AugmentPipe, logits: list[torch.Tensor]) -> list[float]:
    ps = []
    for step_logits in logits:
        controller.observe(step_logits)
        controller.step(pipe)
        ps.append(pipe.p.item())
    return ps


def test_controller_raises_p_when_d_is_over_confident_on_reals():
    controller, pipe = AdaController(batch_size=8, target=0.6, interval=4, kimg=500), make_pipe("bgc")
    step = 8 * 4 / (500 * 1000)
    assert controller.adjustment == pytest.approx(step)
    ps = run_steps(controller, pipe, [torch.full((8, 1), 3.0)] * 8)
    assert ps[:3] == [0.0, 0.0, 0.0]  # nothing moves between adjustments
    assert ps[3] == pytest.approx(step) and ps[7] == pytest.approx(2 * step)


def test_controller_lowers_p_to_a_floor_of_zero():
    controller, pipe = AdaController(batch_size=8), make_pipe("bgc", p=1.5 * 8 * 4 / 500_000)
    ps = run_steps(controller, pipe, [-torch.ones(8, 1)] * 12)
    assert ps[3] == pytest.approx(0.5 * 8 * 4 / 500_000)
    assert ps[7] == 0.0 and ps[11] == 0.0


def test_controller_weighs_every_real_logit_since_the_last_adjustment():
    # A mean sign of exactly the target (8 of 10 positive: 0.6) leaves p alone: sign(0) = 0.
    controller, pipe = AdaController(batch_size=5, interval=2, kimg=1), make_pipe("bgc", p=0.5)
    run_steps(controller, pipe, [torch.tensor([1.0, 1, 1, 1, 1]), torch.tensor([1.0, 1, 1, -1, -1])])
    assert pipe.p.item() == 0.5
    # Two observations in one step (as the Dmain and Dreg phases give) count logit by logit:
    # (0 + 5 + 3) / 12 = 0.67 > 0.6 raises p, where a mean of the means (0.53) would lower it.
    controller.observe(torch.tensor([2.0, -2.0]))
    run_steps(controller, pipe, [torch.tensor([1.0, 1, 1, 1, 1])])
    assert controller.signs_mean() == pytest.approx(5 / 7)
    run_steps(controller, pipe, [torch.tensor([1.0, 1, 1, 1, -1])])
    assert controller.signs_mean() is None  # consumed by the adjustment
    assert pipe.p.item() == pytest.approx(0.5 + 5 * 2 / 1000)


def test_controller_and_pipe_resume_from_their_state_dicts_identically():
    gen = seeded(7)
    logits = [torch.randn(8, 1, generator=gen) + 1.5 for _ in range(20)]
    controller, pipe = AdaController(batch_size=8, interval=4, kimg=0.1), make_pipe("bgc")
    straight = run_steps(controller, pipe, logits)

    first, first_pipe = AdaController(batch_size=8, interval=4, kimg=0.1), make_pipe("bgc")
    run_steps(first, first_pipe, logits[:6])  # stop mid-interval, with sums pending
    saved, saved_pipe = first.state_dict(), first_pipe.state_dict()
    assert saved["steps"] == 6 and saved["sums"][1].item() == 16

    resumed, resumed_pipe = AdaController(batch_size=8, interval=4, kimg=0.1), make_pipe("bgc")
    resumed.load_state_dict(saved)
    resumed_pipe.load_state_dict(saved_pipe)
    assert run_steps(resumed, resumed_pipe, logits[6:]) == straight[6:]
    assert straight[-1] > 0


def test_controller_refuses_nonsense_settings():
    with pytest.raises(ValueError):
        AdaController(batch_size=0)
    with pytest.raises(ValueError):
        AdaController(batch_size=4, interval=0)
