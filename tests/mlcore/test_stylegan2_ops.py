"""StyleGAN2's layer operations against the slow reference written from the formulas
(stylegan2_reference.py), and the statistical properties the paper relies on."""

import math

import pytest
import stylegan2_reference as ref
import torch

from mlcore.stylegan2 import ops

ATOL = 1e-10  # the comparisons run in float64, so only rounding separates the two


def randn(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


# --- FIR filter and resampling ----------------------------------------------------------------

def test_the_resampling_filter_is_the_normalised_outer_product_of_1_3_3_1():
    f = ops.setup_filter((1, 3, 3, 1))
    assert f.dtype == torch.float32 and f.shape == (4, 4)
    assert torch.allclose(f.double(), ref.fir_filter(), atol=1e-7)
    assert f.sum().item() == pytest.approx(1.0)


def test_upsample2d_is_zero_insertion_padding_2_1_and_the_filter_times_4():
    x = randn(2, 3, 5, 5)
    y = ops.upsample2d(x, ops.setup_filter().double())
    assert y.shape == (2, 3, 10, 10)
    assert torch.allclose(y, ref.upsample(x), atol=ATOL)


def test_downsample2d_filters_with_padding_1_and_keeps_every_second_pixel():
    x = randn(2, 3, 8, 8)
    y = ops.downsample2d(x, ops.setup_filter().double())
    assert y.shape == (2, 3, 4, 4)
    assert torch.allclose(y, ref.downsample(x), atol=ATOL)


def test_resampling_keeps_a_constant_picture_constant_away_from_the_borders():
    f = ops.setup_filter().double()
    up = ops.upsample2d(torch.full((1, 1, 8, 8), 0.7, dtype=torch.float64), f)
    down = ops.downsample2d(torch.full((1, 1, 16, 16), 0.7, dtype=torch.float64), f)
    assert torch.allclose(up[..., 2:-2, 2:-2], torch.tensor(0.7, dtype=torch.float64))
    assert torch.allclose(down[..., 1:-1, 1:-1], torch.tensor(0.7, dtype=torch.float64))


def test_a_separable_filter_gives_the_same_result_as_its_outer_product():
    taps = [1.0, 2.0, 4.0, 6.0, 6.0, 4.0, 2.0, 1.0]  # 8 taps: setup_filter keeps it 1-D
    separable = ops.setup_filter(taps).double()
    assert separable.ndim == 1
    outer = torch.outer(separable, separable)
    x = randn(1, 2, 6, 6)
    assert torch.allclose(ops.upfirdn2d(x, separable, up=2, padding=[4, 3, 4, 3], gain=4),
                          ops.upfirdn2d(x, outer, up=2, padding=[4, 3, 4, 3], gain=4), atol=ATOL)


# --- convolutions with resampling -----------------------------------------------------------

def test_the_upsampling_3x3_convolution_matches_zero_insertion_filtering_and_a_true_convolution():
    x, w = randn(2, 3, 4, 4), randn(5, 3, 3, 3, seed=1)
    f = ops.setup_filter().double()
    y = ops.conv2d_resample(x, w, f, up=2, padding=1, flip_weight=False)  # the transposed-conv route
    assert y.shape == (2, 5, 8, 8)
    assert torch.allclose(y, ref.conv_up(x, w), atol=ATOL)


def test_the_downsampling_3x3_convolution_filters_then_strides():
    x, w = randn(2, 3, 8, 8), randn(5, 3, 3, 3, seed=1)
    y = ops.conv2d_resample(x, w, ops.setup_filter().double(), down=2, padding=1)
    assert y.shape == (2, 5, 4, 4)
    assert torch.allclose(y, ref.conv_down(x, w), atol=ATOL)


def test_the_downsampling_1x1_skip_downsamples_then_convolves():
    x, w = randn(2, 3, 8, 8), randn(5, 3, 1, 1, seed=1)
    y = ops.conv2d_resample(x, w, ops.setup_filter().double(), down=2)
    assert torch.allclose(y, ref.conv1x1_down(x, w), atol=ATOL)


def test_a_plain_convolution_is_a_padded_correlation():
    x, w = randn(2, 3, 6, 6), randn(4, 3, 3, 3, seed=1)
    assert torch.allclose(ops.conv2d_resample(x, w, padding=1), ref.conv_same(x, w), atol=ATOL)
    assert torch.allclose(ops.conv2d_resample(x, w, padding=1, flip_weight=False),
                          ref.conv_same(x, w.flip([2, 3])), atol=ATOL)


def test_grouped_upsampling_convolution_is_each_group_on_its_own():
    x, w = randn(1, 6, 4, 4), randn(4, 3, 3, 3, seed=1)  # 2 groups: 3 -> 2 channels each
    f = ops.setup_filter().double()
    grouped = ops.conv2d_resample(x, w, f, up=2, padding=1, groups=2, flip_weight=False)
    separate = torch.cat([ops.conv2d_resample(x[:, :3], w[:2], f, up=2, padding=1, flip_weight=False),
                          ops.conv2d_resample(x[:, 3:], w[2:], f, up=2, padding=1, flip_weight=False)], dim=1)
    assert torch.allclose(grouped, separate, atol=ATOL)


# --- modulated convolution --------------------------------------------------------------------

@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("up", [1, 2])
def test_modulated_conv_matches_per_sample_weights_built_one_at_a_time(fused, up):
    x, w, s = randn(3, 4, 5, 5), randn(6, 4, 3, 3, seed=1), randn(3, 4, seed=2) + 1.0
    noise = randn(3, 1, 5 * up, 5 * up, seed=3) * 0.1
    y = ops.modulated_conv2d(x, w, s, noise=noise, up=up, padding=1, resample_filter=ops.setup_filter().double(),
                             flip_weight=up == 1, fused=fused)
    expected = ref.modulated_conv(x, w, s, conv=ref.conv_up if up == 2 else ref.conv_same) + noise
    assert torch.allclose(y, expected, atol=1e-9)


@pytest.mark.parametrize("fused", [True, False])
def test_modulation_without_demodulation_only_scales_the_input_channels(fused):
    x, w, s = randn(2, 4, 5, 5), randn(3, 4, 1, 1, seed=1), randn(2, 4, seed=2)
    y = ops.modulated_conv2d(x, w, s, demodulate=False, fused=fused)
    assert torch.allclose(y, ref.modulated_conv(x, w, s, demodulate=False), atol=1e-9)


@pytest.mark.parametrize("style_scale", [1.0, 5.0])
def test_demodulated_outputs_have_unit_variance_for_unit_variance_inputs(style_scale):
    # With i.i.d. unit-variance inputs, Var(y_o) = sum_ik w''_oik^2 = 1 exactly for every output
    # channel o (no padding, so every output sees all its taps). 8 x 28 x 28 outputs per channel,
    # correlated over 3x3 windows: the sample variance is within about 5% of its value, so 10% per
    # channel and 3% overall. Larger styles change nothing: demodulation divides them out.
    g = torch.Generator().manual_seed(0)
    x = torch.randn(8, 64, 30, 30, generator=g)
    w = torch.randn(32, 64, 3, 3, generator=g)
    s = (torch.rand(8, 64, generator=g) + 0.5) * style_scale
    y = ops.modulated_conv2d(x, w, s, padding=0)
    per_channel = y.var(dim=(0, 2, 3))
    assert y.var().item() == pytest.approx(1.0, abs=0.03)
    assert per_channel.min().item() > 0.9 and per_channel.max().item() < 1.1
    undemodulated = ops.modulated_conv2d(x, w, s, padding=0, demodulate=False)
    assert undemodulated.var().item() > 10  # what demodulation removes: sum of w'^2 ~ 576 x E[s^2]


def test_modulated_conv_refuses_styles_of_the_wrong_shape():
    with pytest.raises(ValueError, match="styles must be 2 x 4"):
        ops.modulated_conv2d(randn(2, 4, 5, 5), randn(3, 4, 3, 3), randn(2, 5))


# --- bias, activation, clamp ------------------------------------------------------------------

def test_bias_act_adds_the_bias_applies_lrelu_0_2_times_sqrt2_then_clamps():
    x, b = randn(2, 3, 4, 4), randn(3, seed=1)
    y = ops.bias_act(x, b, act="lrelu", clamp=0.5)
    assert torch.allclose(y, ref.lrelu(x + b[None, :, None, None], clamp=0.5), atol=ATOL)
    assert y.abs().max().item() == pytest.approx(0.5)
    assert torch.allclose(ops.bias_act(x, b), x + b[None, :, None, None])  # linear, gain 1
    assert torch.allclose(ops.bias_act(x, act="lrelu", gain=3.0), torch.where(x >= 0, x, 0.2 * x) * 3.0)


def test_bias_act_refuses_an_unknown_activation():
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        ops.bias_act(randn(1, 2), act="swish")


# --- mapping input and minibatch std ----------------------------------------------------------

def test_normalize_2nd_moment_gives_each_row_a_mean_square_of_1():
    z = randn(4, 16) * 7.0
    assert torch.allclose(ops.normalize_2nd_moment(z).square().mean(dim=1), torch.ones(4, dtype=torch.float64))


@pytest.mark.parametrize("group_size, num_channels", [(4, 1), (2, 2), (8, 1), (16, 1)])
def test_minibatch_std_is_the_group_formula(group_size, num_channels):
    x = randn(8, 4, 3, 3)
    y = ops.minibatch_std(x, group_size, num_channels)
    assert y.shape == (8, 4 + num_channels, 3, 3)
    assert torch.allclose(y, ref.minibatch_std(x, group_size, num_channels), atol=ATOL)


def test_minibatch_std_groups_are_strided_samples():
    # Samples 0 and 2 are one group of 2 in a batch of 4, and 1 and 3 the other: making 0 and 2
    # equal zeroes their group's statistic (up to the sqrt(1e-8) of the epsilon) and no other.
    x = randn(4, 2, 2, 2)
    x[2] = x[0]
    y = ops.minibatch_std(x, 2)
    assert y[0, 2].max().item() == pytest.approx(1e-4) and y[2, 2].max().item() == pytest.approx(1e-4)
    assert y[1, 2].min().item() > 0.1


def test_minibatch_std_refuses_a_batch_that_does_not_split_into_groups():
    with pytest.raises(ValueError, match="a batch of 6 cannot be split into groups of 4"):
        ops.minibatch_std(randn(6, 2, 2, 2), 4)


def test_setup_filter_refuses_empty_taps():
    with pytest.raises(ValueError, match="non-empty 1-D"):
        ops.setup_filter([])


def test_gains_are_the_references():
    assert ops.ACTIVATIONS["lrelu"] == (math.sqrt(2.0), 0.2)
    assert ops.ACTIVATIONS["linear"][0] == 1.0
