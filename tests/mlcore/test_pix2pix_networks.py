"""Pix2Pix networks, inference padding, losses and configs, checked against the paper and
junyanz/pytorch-CycleGAN-and-pix2pix."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from mlcore.inference import Inferer
from mlcore.pix2pix.config import Pix2PixConfig, Pix2PixTrainConfig, patch_map_size
from mlcore.pix2pix.inferer import pad_to_multiple, translate
from mlcore.pix2pix.losses import discriminator_loss, generator_losses
from mlcore.pix2pix.networks import build as build_generator, build_discriminator, to_channels

SMALL = {"ngf": 8}


def parameters(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


# --- architecture ----------------------------------------------------------------------------


def test_the_paper_sized_networks_have_junyanz_parameter_counts():
    # junyanz prints "[Network G] Total number of parameters : 54.414 M" and "[Network D] ... 2.769 M".
    assert parameters(build_generator(Pix2PixConfig())) == 54_413_955
    assert parameters(build_discriminator(6, 64, 3)) == 2_768_705
    assert parameters(build_generator(Pix2PixConfig(generator="unet_128"))) == 41_828_995


def test_generator_parameters_carry_junyanz_names_and_shapes():
    state = build_generator(Pix2PixConfig(**SMALL)).state_dict()
    innermost = "model.model.1" + ".model.3" * 6  # 8 levels: outermost, 6 middle, innermost
    assert state["model.model.0.weight"].shape == (8, 3, 4, 4)  # outermost down, no bias before BN
    assert "model.model.0.bias" not in state
    assert state["model.model.3.weight"].shape == (16, 3, 4, 4) and "model.model.3.bias" in state  # up, tanh
    assert state["model.model.1.model.1.weight"].shape == (16, 8, 4, 4)
    assert state["model.model.1.model.2.running_var"].shape == (16,)
    assert state[f"{innermost}.model.1.weight"].shape == (64, 64, 4, 4)  # 8 ngf -> 8 ngf at 1x1
    assert state[f"{innermost}.model.3.weight"].shape == (64, 64, 4, 4)
    assert f"{innermost}.model.3" + ".model.1.weight" not in state

    instance = build_generator(Pix2PixConfig(norm="instance", **SMALL)).state_dict()
    assert "model.model.0.bias" in instance and not any("running" in key for key in instance)


@pytest.mark.parametrize("generator, side, dropouts", [("unet_256", 256, 3), ("unet_128", 128, 2)])
def test_unets_keep_the_size_and_range_and_drop_out_in_training_only(generator, side, dropouts):
    torch.manual_seed(0)
    net = build_generator(Pix2PixConfig(generator=generator, **SMALL))
    assert [m.p for m in net.modules() if isinstance(m, nn.Dropout)] == [0.5] * dropouts
    x = torch.rand(2, 3, side, side) * 2 - 1
    with torch.no_grad():
        first, second = net.train()(x), net(x)
        assert first.shape == (2, 3, side, side) and first.abs().max() < 1
        assert not torch.equal(first, second)  # dropout is the generator's noise in training
        net.eval()
        assert torch.equal(net(x), net(x))
    with pytest.raises(ValueError, match=f"multiples of {side}; got {side + 2}x{side}"):
        net(torch.zeros(1, 3, side + 2, side))


def test_image_statistics_at_inference_are_training_batch_norm_on_one_image():
    torch.manual_seed(0)
    net = build_generator(Pix2PixConfig(generator="unet_32", test_norm="image", **SMALL))
    with torch.no_grad():  # give the running averages values far from any one image's
        for module in net.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.running_mean.uniform_(-1, 1)
                module.running_var.uniform_(0.5, 2)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    x = torch.rand(1, 3, 32, 32) * 2 - 1
    with torch.no_grad():
        image_stats = net.eval()(x)
        net.use_image_statistics(False)
        running = net(x)
        assert torch.equal(before["model.model.1.model.2.running_mean"],
                           net.state_dict()["model.model.1.model.2.running_mean"])
        net.train()  # the paper's test time: training-mode batch norm at batch size 1
        training_mode = net(x)
    assert torch.allclose(image_stats, training_mode, atol=1e-5)
    assert not torch.allclose(running, training_mode, atol=1e-2)


def test_patchgan_sees_70x70_patches_and_gives_a_30x30_map_at_256():
    assert patch_map_size(256, 3) == 30
    d = build_discriminator(6, 8, 3).eval()
    assert d(torch.zeros(1, 6, 256, 256)).shape == (1, 1, 30, 30)
    x = torch.rand(1, 6, 160, 160, requires_grad=True)
    out = d(x)
    out[0, 0, out.shape[2] // 2, out.shape[3] // 2].backward()
    rows, cols = torch.nonzero(x.grad.abs().sum(dim=(0, 1)), as_tuple=True)
    assert (rows.max() - rows.min() + 1, cols.max() - cols.min() + 1) == (70, 70)


def test_to_channels_uses_luma_and_repeats_grey():
    rgb = torch.tensor([1.0, 0.0, 0.0]).view(1, 3, 1, 1)
    assert torch.allclose(to_channels(rgb, 1), torch.tensor(0.299).view(1, 1, 1, 1))
    grey = torch.full((1, 1, 2, 2), 0.25)
    assert torch.equal(to_channels(grey, 3), torch.full((1, 3, 2, 2), 0.25))
    assert to_channels(rgb, 3) is rgb


# --- inference at any size -------------------------------------------------------------------


@pytest.mark.parametrize("size", [(256, 256), (128, 128), (37, 53), (300, 451), (1, 1)])
def test_the_inferer_translates_any_size_and_keeps_it(size):
    torch.manual_seed(0)
    config = Pix2PixConfig(**SMALL)
    inferer = Inferer(build_generator(config), family="pix2pix", config=config)
    x = torch.rand(1, 3, *size)
    copy = x.clone()
    y = inferer.translate_tensor(x)
    assert y.shape == x.shape and y.dtype == torch.float32
    assert 0 <= y.min() and y.max() <= 1
    assert torch.equal(x, copy)


def test_padding_mirrors_outwards_centred_and_crops_back_exactly():
    x = torch.arange(2 * 3 * 5, dtype=torch.float32).view(1, 2, 3, 5)
    padded = pad_to_multiple(x, 32)  # more padding than picture: mirrored repeatedly
    assert padded.shape == (1, 2, 32, 32)
    top, left = (32 - 3) // 2, (32 - 5) // 2
    assert torch.equal(padded[..., top:top + 3, left:left + 5], x)
    assert set(padded.unique().tolist()) == set(x.unique().tolist())
    assert torch.equal(padded[..., top - 1, left:left + 5], x[..., 1, :])  # a mirror, not a copy of the edge
    assert torch.equal(pad_to_multiple(x[:, :, :1, :1], 4), x[:, :, :1, :1].expand(1, 2, 4, 4))  # one pixel: repeated


def test_translate_maps_0_1_to_the_networks_minus1_1_and_back():
    class Identity(nn.Module):  # stands in for a U-Net that returns its input
        in_channels, multiple = 3, 4

        def forward(self, x):
            assert x.shape[-2:] == (8, 8) and x.min() >= -1 and x.max() <= 1
            return x

    x = torch.rand(1, 3, 6, 7)
    assert torch.allclose(translate(Identity(), x), x, atol=1e-6)


# --- losses ----------------------------------------------------------------------------------


def test_discriminator_loss_is_half_the_sum_of_its_real_and_fake_terms():
    zeros = torch.zeros(1, 1, 30, 30)
    # Vanilla: BCE of logit 0 is ln 2 for either target; the sum ln 4 halves to ln 2.
    assert discriminator_loss(zeros, zeros, "vanilla").item() == pytest.approx(math.log(2))
    # LSGAN: (0 - 1)^2 for the real map, 0^2 for the fake one: (1 + 0) / 2.
    assert discriminator_loss(zeros, zeros, "lsgan").item() == pytest.approx(0.5)
    ones = torch.ones(1, 1, 30, 30)
    assert discriminator_loss(ones, zeros, "lsgan").item() == 0.0
    assert discriminator_loss(zeros, ones, "lsgan").item() == pytest.approx(1.0)  # (1 + 1) / 2


def test_generator_loss_adds_lambda_times_l1_to_the_gan_term():
    fake, real = torch.zeros(2, 3, 4, 4), torch.full((2, 3, 4, 4), 0.5)
    losses = generator_losses(torch.zeros(2, 1, 2, 2), fake, real)  # lambda = 100 by default
    assert losses["l1"].item() == pytest.approx(50.0)  # 100 x mean |0 - 0.5|
    assert losses["gan"].item() == pytest.approx(math.log(2))
    assert losses["loss"].item() == pytest.approx(50.0 + math.log(2))
    ls = generator_losses(torch.ones(2, 1, 2, 2), fake, real, lambda_l1=10.0, mode="lsgan")
    assert (ls["gan"].item(), ls["l1"].item()) == (0.0, pytest.approx(5.0))


# --- configs ---------------------------------------------------------------------------------


def test_the_isola2017_preset_is_the_papers_setting():
    paper = Pix2PixTrainConfig.preset("isola2017")
    assert (paper.arch.generator, paper.arch.ngf, paper.arch.norm, paper.arch.dropout) == ("unet_256", 64, "batch", True)
    assert (paper.batch_size, paper.load_size, paper.crop_size, paper.flip) == (1, 286, 256, True)
    assert (paper.lr, paper.beta1, paper.lambda_l1, paper.gan_mode) == (2e-4, 0.5, 100.0, "vanilla")
    assert (paper.ndf, paper.n_layers_d, paper.steps, paper.decay_fraction) == (64, 3, 80_000, 0.5)
    assert Pix2PixTrainConfig.from_json(paper.to_json()) == paper
    assert Pix2PixTrainConfig.preset_names() == ["isola2017", "tiny"]
    assert Pix2PixTrainConfig.preset("tiny").arch == Pix2PixConfig(generator="unet_32", ngf=8)


def test_configs_refuse_crops_the_networks_cannot_take():
    with pytest.raises(ValueError, match="crop_size must be a multiple of 256 for unet_256"):
        Pix2PixTrainConfig(crop_size=200)
    with pytest.raises(ValueError, match="a 5-layer PatchGAN needs crops larger than 32"):
        Pix2PixTrainConfig.preset("tiny", n_layers_d=5)
    with pytest.raises(ValueError, match="direction: Input should be 'AtoB' or 'BtoA'; got 'AB'"):
        Pix2PixTrainConfig.from_dict({"direction": "AB"})
    with pytest.raises(ValueError, match="in_channels: Input should be 1 or 3; got 2"):
        Pix2PixConfig.from_dict({"in_channels": 2})
