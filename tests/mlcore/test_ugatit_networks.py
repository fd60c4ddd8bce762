"""U-GAT-IT networks: shapes, AdaLIN and LIN on hand-worked values, rho clipping, CAM, configs."""

from __future__ import annotations

import math

import pytest
import torch

from mlcore.ugatit import UGATITConfig, UGATITTrainConfig
from mlcore.ugatit.config import discriminator_min_size
from mlcore.ugatit.networks import (
    ILN,
    AdaILN,
    Discriminator,
    ResnetGenerator,
    build,
    clip_rho,
)


def generator(light: bool, img_size: int = 32, **kwargs) -> ResnetGenerator:
    torch.manual_seed(0)
    return build(UGATITConfig(light=light, ngf=4, n_res=1, img_size=img_size, **kwargs))


@pytest.mark.parametrize("size", [(32, 32), (36, 52), (8, 8), (64, 40)])
def test_a_light_generator_takes_any_multiple_of_four(size):
    out, cam_logit, heatmap = generator(light=True)(torch.rand(2, 3, *size) * 2 - 1)
    assert out.shape == (2, 3, *size)
    assert cam_logit.shape == (2, 2)  # [gap_logit, gmp_logit]
    assert heatmap.shape == (2, 1, size[0] // 4, size[1] // 4)
    assert out.abs().max() <= 1  # tanh


def test_a_full_generator_takes_its_training_size_only():
    net = generator(light=False, img_size=32)
    assert net.FC[0].in_features == 8 * 8 * 16  # (img_size/4)^2 * 4 ngf
    assert net(torch.zeros(1, 3, 32, 32))[0].shape == (1, 3, 32, 32)
    with pytest.raises(ValueError, match="takes 32x32 images only; got 40x36"):
        net(torch.zeros(1, 3, 36, 40))


def test_light_and_full_differ_only_in_what_the_gamma_beta_mlp_reads():
    light, full = generator(light=True), generator(light=False)
    assert light.FC[0].in_features == 16 and full.FC[0].in_features == 1024
    keys = lambda net: {k: v.shape for k, v in net.state_dict().items() if k != "FC.0.weight"}
    assert keys(light) == keys(full)


def test_the_layout_is_znxlwm_ugatit_pytorch_s():
    net = build(UGATITConfig(ngf=4, n_res=2, img_size=32))
    keys = set(net.state_dict())
    assert {"DownBlock.1.weight", "DownBlock.5.weight", "DownBlock.9.weight", "DownBlock.12.conv_block.1.weight",
            "DownBlock.13.conv_block.5.weight", "gap_fc.weight", "gmp_fc.weight",
            "conv1x1.weight", "conv1x1.bias", "FC.0.weight", "FC.2.weight", "gamma.weight", "beta.weight",
            "UpBlock1_1.conv1.weight", "UpBlock1_1.norm1.rho", "UpBlock1_2.norm2.rho",
            "UpBlock2.2.weight", "UpBlock2.3.rho", "UpBlock2.3.gamma", "UpBlock2.3.beta",
            "UpBlock2.11.weight"} <= keys
    assert not any(k.startswith(("UpBlock1_3", "DownBlock.14")) for k in keys)
    disc = Discriminator(3, 4, 5)
    assert {"model.1.weight_orig", "model.1.weight_u", "model.1.weight_v", "model.1.bias",
            "gap_fc.weight_orig", "gmp_fc.weight_u", "conv1x1.weight", "conv.weight_orig"} <= set(disc.state_dict())


# --- AdaLIN and LIN on a case worked out by hand -----------------------------------------------

# One image, two channels of two pixels: channel 0 = [1, 3], channel 1 = [5, 7].
X = torch.tensor([[[[1.0, 3.0]], [[5.0, 7.0]]]])
# Instance norm: each channel has mean 2 (resp. 6) and unbiased variance ((-1)^2 + 1^2) / 1 = 2.
INSTANCE = torch.tensor([[[[-1.0, 1.0]], [[-1.0, 1.0]]]]) / math.sqrt(2)
# Layer norm: mean 4, unbiased variance (9 + 1 + 1 + 9) / 3 = 20 / 3 over all four values.
LAYER = torch.tensor([[[[-3.0, -1.0]], [[1.0, 3.0]]]]) / math.sqrt(20 / 3)
GAMMA, BETA = torch.tensor([[2.0, 3.0]]), torch.tensor([[10.0, 20.0]])


def scaled(normed):
    return normed * GAMMA.view(1, 2, 1, 1) + BETA.view(1, 2, 1, 1)


def test_adalin_with_rho_1_is_instance_norm_and_with_rho_0_layer_norm_then_gamma_beta():
    norm = AdaILN(2, eps=0.0)
    with torch.no_grad():
        norm.rho.fill_(1.0)
        assert torch.allclose(norm(X, GAMMA, BETA), scaled(INSTANCE))
        norm.rho.fill_(0.0)
        assert torch.allclose(norm(X, GAMMA, BETA), scaled(LAYER))
        norm.rho.copy_(torch.tensor([0.25, 0.5]).view(1, 2, 1, 1))  # a per-channel mix
        mix = torch.tensor([0.25, 0.5]).view(1, 2, 1, 1)
        assert torch.allclose(norm(X, GAMMA, BETA), scaled(mix * INSTANCE + (1 - mix) * LAYER))


def test_lin_starts_as_layer_norm_with_its_own_gamma_and_beta():
    norm = ILN(2, eps=0.0)
    assert torch.equal(norm.rho, torch.zeros(1, 2, 1, 1))
    assert torch.allclose(norm(X), LAYER)
    with torch.no_grad():
        norm.rho.fill_(1.0)
        norm.gamma.copy_(GAMMA.view(1, 2, 1, 1))
        norm.beta.copy_(BETA.view(1, 2, 1, 1))
        assert torch.allclose(norm(X), scaled(INSTANCE))


def test_rho_starts_at_0_9_in_adalin_and_0_in_lin():
    net = generator(light=True)
    state = net.state_dict()
    assert torch.equal(state["UpBlock1_1.norm1.rho"], torch.full((1, 16, 1, 1), 0.9))
    assert torch.equal(state["UpBlock2.3.rho"], torch.zeros(1, 8, 1, 1))


def test_rho_is_clipped_to_0_1_after_an_optimiser_step_and_nothing_else_is_touched():
    net = generator(light=True)
    rhos = [p for name, p in net.named_parameters() if name.endswith("rho")]
    others = {name: p.detach().clone() for name, p in net.named_parameters() if not name.endswith("rho")}
    optimizer = torch.optim.SGD(rhos, lr=1.0)
    # Push AdaLIN's rho (0.9) up past 1 and LIN's rho (0) down past 0.
    loss = sum(-p.sum() if p.detach().mean() > 0.5 else p.sum() for p in rhos)
    loss.backward()
    optimizer.step()
    assert max(p.max().item() for p in rhos) > 1 and min(p.min().item() for p in rhos) < 0
    clip_rho(net)
    assert all(torch.equal(p.detach().unique(), torch.tensor([1.0])) or
               torch.equal(p.detach().unique(), torch.tensor([0.0])) for p in rhos)
    for name, p in net.named_parameters():
        if name in others:
            assert torch.equal(p, others[name]), name


# --- CAM ---------------------------------------------------------------------------------------


def test_the_generator_heatmap_is_the_fused_cam_feature_map_summed_over_channels():
    net = generator(light=True)
    captured = {}
    net.conv1x1.register_forward_hook(lambda module, args, out: captured.setdefault("fused", out))
    _, cam_logit, heatmap = net(torch.rand(1, 3, 32, 32))
    assert torch.allclose(heatmap, torch.relu(captured["fused"]).sum(dim=1, keepdim=True))
    features = captured["fused"]
    assert features.shape == (1, 16, 8, 8)


def test_the_cam_logits_come_from_average_and_max_pooled_features():
    net = generator(light=True)
    captured = {}
    net.DownBlock.register_forward_hook(lambda module, args, out: captured.setdefault("x", out))
    _, cam_logit, _ = net(torch.rand(1, 3, 32, 32))
    x = captured["x"]
    assert torch.allclose(cam_logit[:, 0], x.mean(dim=(2, 3)) @ net.gap_fc.weight[0])
    assert torch.allclose(cam_logit[:, 1], x.amax(dim=(2, 3)) @ net.gmp_fc.weight[0])


@pytest.mark.parametrize("layers", [4, 5, 7])
def test_discriminators_return_patch_logits_cam_logits_and_heatmap(layers):
    size = discriminator_min_size(layers)
    disc = Discriminator(3, 4, layers)
    out, cam_logit, heatmap = disc(torch.rand(2, 3, size, size))
    assert out.shape == (2, 1, 1, 1) and cam_logit.shape == (2, 2) and heatmap.shape == (2, 1, 2, 2)
    with pytest.raises(RuntimeError):  # one pixel less cannot be judged
        disc(torch.rand(1, 3, size - 4, size - 4))


def test_discriminator_weights_are_spectrally_normalised():
    torch.manual_seed(0)
    disc = Discriminator(3, 4, 4)
    with torch.no_grad():
        for _ in range(30):  # each training forward runs one power iteration
            disc(torch.rand(1, 3, 12, 12))
    for layer in (disc.model[1], disc.model[4], disc.gap_fc, disc.conv):
        sigma = torch.linalg.matrix_norm(layer.weight.detach().flatten(1), ord=2).item()
        assert sigma == pytest.approx(1.0, rel=0.02)
        assert torch.linalg.matrix_norm(layer.weight_orig.detach().flatten(1), ord=2).item() != pytest.approx(1.0)


# --- configs -----------------------------------------------------------------------------------


def test_configs_round_trip_and_check_themselves():
    paper = UGATITTrainConfig.preset("kim2020")
    assert (paper.steps, paper.batch_size, paper.lr, paper.betas, paper.weight_decay) == (
        1_000_000, 1, 1e-4, (0.5, 0.999), 1e-4)
    assert (paper.adv_weight, paper.cycle_weight, paper.identity_weight, paper.cam_weight) == (1, 10, 10, 1000)
    assert (paper.arch.light, paper.arch.ngf, paper.arch.n_res, paper.arch.img_size) == (False, 64, 4, 256)
    assert (paper.global_layers, paper.local_layers, paper.decay) == (7, 5, True)
    assert UGATITTrainConfig.preset("kim2020_light").arch.light is True
    assert UGATITTrainConfig.from_json(paper.to_json()) == paper
    with pytest.raises(ValueError, match="img_size: Input should be a multiple of 4; got 250"):
        UGATITConfig.from_dict({"img_size": 250})
    with pytest.raises(ValueError, match="global_layers=7 needs arch.img_size of at least 96; got 64"):
        UGATITTrainConfig(arch=UGATITConfig(img_size=64))
    with pytest.raises(ValueError, match="in_channels == arch.out_channels"):
        UGATITTrainConfig(arch=UGATITConfig(in_channels=1))
