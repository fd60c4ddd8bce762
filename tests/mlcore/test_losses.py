"""Perceptual losses against values worked out by hand."""

from __future__ import annotations

import pytest
import torch

from mlcore.losses import content_loss, gram_matrix, style_loss, total_variation


def test_gram_matrix_is_f_times_f_transposed_over_chw():
    # One image, C=2 channels, H=1, W=2: F = [[1, 2], [3, 4]].
    features = torch.tensor([[[[1.0, 2.0]], [[3.0, 4.0]]]])
    # F Fᵀ = [[1+4, 3+8], [3+8, 9+16]], divided by C*H*W = 4.
    assert torch.equal(gram_matrix(features), torch.tensor([[[1.25, 2.75], [2.75, 6.25]]]))


def test_gram_matrix_is_per_image_and_float32_for_half_inputs():
    a = torch.rand(1, 3, 4, 5)
    b = torch.rand(1, 3, 4, 5)
    both = gram_matrix(torch.cat([a, b]))
    assert torch.allclose(both[0], gram_matrix(a)[0]) and torch.allclose(both[1], gram_matrix(b)[0])
    assert gram_matrix(a.half()).dtype == torch.float32


def test_gram_matrix_does_not_depend_on_image_size_for_a_repeated_pattern():
    tile = torch.rand(1, 4, 3, 3)
    assert torch.allclose(gram_matrix(tile), gram_matrix(tile.repeat(1, 1, 4, 2)), atol=1e-6)


def test_total_variation_sums_squared_neighbour_differences_per_image():
    # [[1, 2, 4], [0, 0, 0]]: vertical (0-1)² + (0-2)² + (0-4)² = 21, horizontal (2-1)² + (4-2)² = 5.
    image = torch.tensor([[[[1.0, 2.0, 4.0], [0.0, 0.0, 0.0]]]])
    assert total_variation(image).item() == 26.0
    flat = torch.full_like(image, 0.5)
    assert total_variation(torch.cat([image, flat])).item() == 13.0  # averaged over the batch
    three_channels = image.repeat(1, 3, 1, 1)
    assert total_variation(three_channels).item() == 78.0  # summed over channels


def test_content_loss_is_the_mean_squared_difference():
    a = torch.zeros(1, 2, 2, 2)
    b = torch.zeros(1, 2, 2, 2)
    b[0, 0, 0, 0] = 4.0
    assert content_loss(a, b).item() == 16.0 / 8
    assert content_loss(b, b).item() == 0.0


def test_style_loss_sums_gram_differences_over_layers_and_broadcasts_the_target():
    torch.manual_seed(0)
    feats = {"a": torch.rand(2, 3, 4, 4), "b": torch.rand(2, 5, 2, 2)}
    style = {"a": torch.rand(1, 3, 4, 4), "b": torch.rand(1, 5, 2, 2)}
    targets = {k: gram_matrix(v) for k, v in style.items()}
    expected = sum(((gram_matrix(feats[k]) - targets[k]) ** 2).mean() for k in feats)
    assert torch.allclose(style_loss(feats, targets), expected)
    same = {k: v.expand(2, -1, -1, -1) for k, v in style.items()}
    assert style_loss(same, targets).item() == 0.0
    with pytest.raises(ValueError, match="at least one layer"):
        style_loss(feats, {})


def test_lsgan_loss_is_the_mean_squared_distance_to_the_label():
    from mlcore.losses import gan_loss

    logits = torch.tensor([[0.0, 1.0], [2.0, -1.0]])
    # real: ((0-1)² + 0 + (2-1)² + (-1-1)²) / 4 = 6/4; fake: (0 + 1 + 4 + 1) / 4 = 6/4
    assert gan_loss(logits, True, "lsgan").item() == pytest.approx(1.5)
    assert gan_loss(logits, False, "lsgan").item() == pytest.approx(1.5)
    assert gan_loss(torch.ones(3), True, "lsgan").item() == 0.0


def test_vanilla_gan_loss_is_binary_cross_entropy_on_logits():
    import math

    from mlcore.losses import gan_loss

    logits = torch.tensor([0.0, math.log(3.0)])  # sigmoid: 1/2 and 3/4
    assert gan_loss(logits, True, "vanilla").item() == pytest.approx((math.log(2) + math.log(4 / 3)) / 2)
    assert gan_loss(logits, False, "vanilla").item() == pytest.approx((math.log(2) + math.log(4)) / 2)


def test_an_unknown_gan_mode_is_refused():
    from mlcore.losses import gan_loss

    with pytest.raises(ValueError, match="vanilla, lsgan"):
        gan_loss(torch.zeros(2), True, "wasserstein")
