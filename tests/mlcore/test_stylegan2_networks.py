"""StyleGAN2 networks: shapes at every resolution, NVlabs' tensor names, the equalised-lr gains,
w_avg and truncation, every layer kind and both whole networks against the slow reference
written from the formulas (stylegan2_reference.py), the configs, and the family's registration."""

import math

import pytest
import stylegan2_reference as ref
import torch

from mlcore.config import ConfigError
from mlcore.registry import get_family
from mlcore.stylegan2 import networks
from mlcore.stylegan2.config import (
    RESOLUTIONS,
    StyleGAN2Config,
    StyleGAN2TrainConfig,
    auto_config,
)
from mlcore.stylegan2.networks import (
    Conv2dLayer,
    Discriminator,
    FullyConnectedLayer,
    Generator,
    MappingNetwork,
    SynthesisLayer,
    ToRGBLayer,
    build,
    build_discriminator,
)

SMALL = StyleGAN2Config(resolution=32, z_dim=16, w_dim=16, mapping_layers=2, channel_base=512, channel_max=32,
                        num_fp16_res=0, conv_clamp=None)


def perturbed(module, seed=0, scale=0.1):
    """``module`` with every parameter moved off its initial value (zero biases and noise
    strengths would hide mistakes in how they are applied)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(torch.randn(p.shape, generator=g, dtype=p.dtype) * scale)
    return module


# --- shapes -----------------------------------------------------------------------------------

@pytest.mark.parametrize("resolution", RESOLUTIONS)
def test_generator_and_discriminator_shapes_at_every_resolution(resolution):
    # Few channels (4 at most, 1 at 1024 px) so 1024 px runs in seconds on a CPU.
    config = StyleGAN2Config(resolution=resolution, z_dim=8, w_dim=8, mapping_layers=1, channel_base=1024,
                             channel_max=4, num_fp16_res=0, conv_clamp=None)
    G, D = build(config).eval(), build_discriminator(config, mbstd_group_size=2).eval()
    log2 = int(math.log2(resolution))
    assert G.num_ws == config.num_ws == 2 * log2 - 2
    assert G.synthesis.block_resolutions == [2 ** i for i in range(2, log2 + 1)]
    assert D.block_resolutions == [2 ** i for i in range(log2, 2, -1)]
    with torch.no_grad():
        ws = G.mapping(torch.randn(2, 8), None)
        assert ws.shape == (2, G.num_ws, 8)
        img = G.synthesis(ws, noise_mode="const")
        assert img.shape == (2, 3, resolution, resolution) and img.dtype == torch.float32
        assert D(img, None).shape == (2, 1)
    top = getattr(G.synthesis, f"b{resolution}")
    assert top.conv0.noise_const.shape == top.conv1.noise_const.shape == (resolution, resolution)


@pytest.mark.parametrize("resolution", [16, 48, 2048])
def test_resolutions_outside_32_to_1024_or_not_powers_of_two_are_refused(resolution):
    message = f"power of two from 32 to 1024.*got {resolution}"
    with pytest.raises(ConfigError, match=message):
        StyleGAN2Config.from_dict({"resolution": resolution})
    with pytest.raises(ValueError, match=message):
        Generator(z_dim=8, w_dim=8, img_resolution=resolution)
    with pytest.raises(ValueError, match=message):
        Discriminator(img_resolution=resolution)


def test_the_synthesis_network_refuses_ws_of_the_wrong_shape():
    G = build(SMALL)
    with pytest.raises(ValueError, match=r"ws must be N x 8 x 16; got \(2, 7, 16\)"):
        G.synthesis(torch.zeros(2, 7, 16))
    with pytest.raises(ValueError, match="noise_mode must be one of random, const, none"):
        G.synthesis(torch.zeros(2, 8, 16), noise_mode="fixed")


# --- NVlabs names and shapes ------------------------------------------------------------------

def _synthesis_layer(prefix, in_channels, out_channels, w_dim, resolution):
    # NVlabs SynthesisLayer: resample_filter buffer, affine (FullyConnectedLayer w_dim -> in),
    # weight [out, in, 3, 3], noise_const buffer [res, res], noise_strength [], bias [out].
    return {f"{prefix}.resample_filter": (4, 4), f"{prefix}.affine.weight": (in_channels, w_dim),
            f"{prefix}.affine.bias": (in_channels,), f"{prefix}.weight": (out_channels, in_channels, 3, 3),
            f"{prefix}.noise_const": (resolution, resolution), f"{prefix}.noise_strength": (),
            f"{prefix}.bias": (out_channels,)}


def _torgb(prefix, in_channels, w_dim):
    # NVlabs ToRGBLayer: affine, weight [3, in, 1, 1], bias [3]; no filter.
    return {f"{prefix}.affine.weight": (in_channels, w_dim), f"{prefix}.affine.bias": (in_channels,),
            f"{prefix}.weight": (3, in_channels, 1, 1), f"{prefix}.bias": (3,)}


# SMALL's channels: min(512 / res, 32) = 32 at 4, 8 and 16 px, 16 at 32 px; w_dim 16.
NVLABS_G_32PX = {
    "mapping.w_avg": (16,),
    "mapping.fc0.weight": (16, 16), "mapping.fc0.bias": (16,),
    "mapping.fc1.weight": (16, 16), "mapping.fc1.bias": (16,),
    "synthesis.b4.const": (32, 4, 4), "synthesis.b4.resample_filter": (4, 4),
    **_synthesis_layer("synthesis.b4.conv1", 32, 32, 16, 4), **_torgb("synthesis.b4.torgb", 32, 16),
    "synthesis.b8.resample_filter": (4, 4),
    **_synthesis_layer("synthesis.b8.conv0", 32, 32, 16, 8), **_synthesis_layer("synthesis.b8.conv1", 32, 32, 16, 8),
    **_torgb("synthesis.b8.torgb", 32, 16),
    "synthesis.b16.resample_filter": (4, 4),
    **_synthesis_layer("synthesis.b16.conv0", 32, 32, 16, 16),
    **_synthesis_layer("synthesis.b16.conv1", 32, 32, 16, 16), **_torgb("synthesis.b16.torgb", 32, 16),
    "synthesis.b32.resample_filter": (4, 4),
    **_synthesis_layer("synthesis.b32.conv0", 32, 16, 16, 32),
    **_synthesis_layer("synthesis.b32.conv1", 16, 16, 16, 32), **_torgb("synthesis.b32.torgb", 16, 16),
}

# NVlabs DiscriminatorBlock: resample_filter; fromrgb (first block), conv0, conv1 (down),
# skip (1x1, down, no bias), each Conv2dLayer with its own resample_filter. Epilogue b4: conv
# over C + 1 mbstd channel, fc from C x 4 x 4, out to one logit.
NVLABS_D_32PX = {
    "b32.resample_filter": (4, 4),
    "b32.fromrgb.weight": (16, 3, 1, 1), "b32.fromrgb.bias": (16,), "b32.fromrgb.resample_filter": (4, 4),
    "b32.conv0.weight": (16, 16, 3, 3), "b32.conv0.bias": (16,), "b32.conv0.resample_filter": (4, 4),
    "b32.conv1.weight": (32, 16, 3, 3), "b32.conv1.bias": (32,), "b32.conv1.resample_filter": (4, 4),
    "b32.skip.weight": (32, 16, 1, 1), "b32.skip.resample_filter": (4, 4),
    **{key: shape for res in (16, 8) for key, shape in {
        f"b{res}.resample_filter": (4, 4),
        f"b{res}.conv0.weight": (32, 32, 3, 3), f"b{res}.conv0.bias": (32,), f"b{res}.conv0.resample_filter": (4, 4),
        f"b{res}.conv1.weight": (32, 32, 3, 3), f"b{res}.conv1.bias": (32,), f"b{res}.conv1.resample_filter": (4, 4),
        f"b{res}.skip.weight": (32, 32, 1, 1), f"b{res}.skip.resample_filter": (4, 4),
    }.items()},
    "b4.conv.weight": (32, 33, 3, 3), "b4.conv.bias": (32,), "b4.conv.resample_filter": (4, 4),
    "b4.fc.weight": (32, 512), "b4.fc.bias": (32,),
    "b4.out.weight": (1, 32), "b4.out.bias": (1,),
}


def _shapes(module):
    return {key: tuple(value.shape) for key, value in module.state_dict().items()}


def test_generator_tensors_are_named_and_shaped_as_nvlabs():
    assert _shapes(build(SMALL)) == NVLABS_G_32PX


def test_discriminator_tensors_are_named_and_shaped_as_nvlabs():
    assert _shapes(build_discriminator(SMALL)) == NVLABS_D_32PX


def test_a_state_dict_with_nvlabs_keys_loads_strictly_and_is_used():
    g = torch.Generator().manual_seed(1)
    state = {key: torch.randn(shape, generator=g) for key, shape in NVLABS_G_32PX.items()}
    G = build(SMALL)
    G.load_state_dict(state, strict=True)
    assert torch.equal(G.synthesis.b32.conv0.noise_const, state["synthesis.b32.conv0.noise_const"])
    assert torch.equal(G.mapping.w_avg, state["mapping.w_avg"])
    build_discriminator(SMALL).load_state_dict(
        {key: torch.randn(shape, generator=g) for key, shape in NVLABS_D_32PX.items()}, strict=True)


# --- equalised learning rate and initialisation -----------------------------------------------

def test_fully_connected_gains_are_lr_over_sqrt_fan_in_and_lr():
    layer = FullyConnectedLayer(400, 300, lr_multiplier=0.01, bias_init=0.5)
    assert layer.weight_gain == pytest.approx(0.01 / 20) and layer.bias_gain == 0.01
    assert layer.weight.std().item() == pytest.approx(100.0, rel=0.02)  # N(0, 1) / lr
    assert torch.all(layer.bias == 0.5)
    x = torch.randn(5, 400)
    expected = x @ (layer.weight * 0.01 / 20).T + layer.bias * 0.01
    assert torch.allclose(layer(x), expected, atol=1e-5)
    assert layer(x).std().item() == pytest.approx(1.0, rel=0.15)  # unit-variance in, out


def test_convolution_and_torgb_gains_are_one_over_sqrt_fan_in():
    assert Conv2dLayer(16, 8, 3).weight_gain == pytest.approx(1 / math.sqrt(16 * 9))
    assert Conv2dLayer(16, 8, 1).weight_gain == pytest.approx(1 / 4)
    assert ToRGBLayer(64, 3, w_dim=16).weight_gain == pytest.approx(1 / 8)
    conv = Conv2dLayer(16, 8, 3)
    assert torch.all(conv.bias == 0) and conv.weight.std().item() == pytest.approx(1.0, rel=0.1)


def test_mapping_layers_use_lr_multiplier_0_01_and_style_affines_start_at_bias_1():
    G = build(SMALL)
    for layer in (G.mapping.fc0, G.mapping.fc1):
        assert layer.weight_gain == pytest.approx(0.01 / 4) and layer.bias_gain == 0.01
        assert layer.activation == "lrelu"
    for layer in (G.synthesis.b8.conv0, G.synthesis.b8.conv1):
        assert layer.affine.weight_gain == pytest.approx(1 / 4) and torch.all(layer.affine.bias == 1)
        assert layer.noise_strength.item() == 0  # noise starts switched off, as NVlabs
    assert torch.all(G.synthesis.b32.torgb.affine.bias == 1)


def test_w_avg_follows_the_batch_mean_with_beta_0_995_only_when_asked():
    mapping = perturbed(MappingNetwork(16, 0, 16, 8, num_layers=2))
    start = torch.randn(16)
    mapping.w_avg.copy_(start)
    z = torch.randn(6, 16)
    ws = mapping(z, None)
    assert torch.equal(mapping.w_avg, start)  # a plain forward does not move it
    mean = ws[:, 0].mean(dim=0)
    mapping(z, None, update_emas=True)
    assert torch.allclose(mapping.w_avg, mean + 0.995 * (start - mean), atol=1e-6)


def test_truncation_pulls_w_towards_w_avg_by_psi_up_to_the_cutoff():
    mapping = perturbed(MappingNetwork(16, 0, 16, 8, num_layers=2))
    mapping.w_avg.copy_(torch.randn(16))
    z = torch.randn(3, 16)
    ws = mapping(z, None)
    truncated = mapping(z, None, truncation_psi=0.7)
    assert torch.allclose(truncated, mapping.w_avg + 0.7 * (ws - mapping.w_avg), atol=1e-6)
    cut = mapping(z, None, truncation_psi=0.7, truncation_cutoff=3)
    assert torch.allclose(cut[:, :3], truncated[:, :3]) and torch.equal(cut[:, 3:], ws[:, 3:])


def test_mapping_is_the_explicit_matmuls():
    mapping = perturbed(MappingNetwork(16, 0, 16, 8, num_layers=2)).double()
    z = torch.randn(4, 16, dtype=torch.float64) * 3
    x = z / torch.sqrt(z.square().mean(dim=1, keepdim=True) + 1e-8)
    for layer in (mapping.fc0, mapping.fc1):
        x = ref.lrelu(ref.fc(x, layer.weight, layer.bias, lr_multiplier=0.01))
    assert torch.allclose(mapping(z, None), x[:, None].expand(4, 8, 16), atol=1e-10)


def test_a_conditional_mapping_embeds_the_label():
    mapping = MappingNetwork(16, 5, 16, 8, num_layers=2)
    assert mapping.fc0.weight.shape == (16, 32) and mapping.embed.weight.shape == (16, 5)
    c = torch.eye(5)[:2]
    assert not torch.allclose(mapping(torch.zeros(2, 16) + 1, c)[0], mapping(torch.zeros(2, 16) + 1, c)[1])
    with pytest.raises(ValueError, match="c must be N x 5"):
        mapping(torch.zeros(2, 16), None)


# --- layers and networks against the reference ------------------------------------------------

def ref_synthesis_layer(layer, x, w, *, up):
    styles = ref.fc(w, layer.affine.weight, layer.affine.bias)
    y = ref.modulated_conv(x, layer.weight, styles, conv=ref.conv_up if up else ref.conv_same)
    y = y + layer.noise_const * layer.noise_strength + layer.bias[None, :, None, None]
    return ref.lrelu(y, clamp=layer.conv_clamp)


def ref_torgb(layer, x, w):
    styles = ref.fc(w, layer.affine.weight, layer.affine.bias) / math.sqrt(x.shape[1])
    y = ref.modulated_conv(x, layer.weight, styles, demodulate=False) + layer.bias[None, :, None, None]
    return y if layer.conv_clamp is None else y.clamp(-layer.conv_clamp, layer.conv_clamp)


def ref_synthesis(synthesis, ws):
    b4 = synthesis.b4
    x = b4.const[None].repeat(ws.shape[0], 1, 1, 1)
    x = ref_synthesis_layer(b4.conv1, x, ws[:, 0], up=False)
    img = ref_torgb(b4.torgb, x, ws[:, 1])
    i = 1
    for res in synthesis.block_resolutions[1:]:
        block = getattr(synthesis, f"b{res}")
        x = ref_synthesis_layer(block.conv0, x, ws[:, i], up=True)
        x = ref_synthesis_layer(block.conv1, x, ws[:, i + 1], up=False)
        img = ref.upsample(img) + ref_torgb(block.torgb, x, ws[:, i + 2])  # the ToRGB shares the next w
        i += 2
    return img


@pytest.mark.parametrize("up", [False, True])
@pytest.mark.parametrize("fused", [True, False])
def test_synthesis_layer_matches_the_reference(up, fused):
    layer = perturbed(SynthesisLayer(6, 5, w_dim=8, resolution=8, up=2 if up else 1, conv_clamp=0.8)).double()
    with torch.no_grad():
        layer.noise_strength.fill_(0.3)
    x = torch.randn(2, 6, 4 if up else 8, 4 if up else 8, dtype=torch.float64)
    w = torch.randn(2, 8, dtype=torch.float64)
    y = layer(x, w, noise_mode="const", fused_modconv=fused)
    assert y.abs().max().item() == pytest.approx(0.8)  # the clamp is in play
    assert torch.allclose(y, ref_synthesis_layer(layer, x, w, up=up), atol=1e-9)


@pytest.mark.parametrize("fused", [True, False])
def test_torgb_matches_the_reference(fused):
    layer = perturbed(ToRGBLayer(6, 3, w_dim=8)).double()
    x, w = torch.randn(2, 6, 8, 8, dtype=torch.float64), torch.randn(2, 8, dtype=torch.float64)
    assert torch.allclose(layer(x, w, fused_modconv=fused), ref_torgb(layer, x, w), atol=1e-10)


@pytest.mark.parametrize("fused", [True, False])
def test_the_synthesis_network_matches_the_reference_composition(fused):
    G = perturbed(build(SMALL.replace(conv_clamp=2.0))).double()
    ws = torch.randn(2, G.num_ws, 16, dtype=torch.float64)
    with torch.no_grad():
        img = G.synthesis(ws, noise_mode="const", fused_modconv=fused)
        assert torch.allclose(img, ref_synthesis(G.synthesis, ws), atol=1e-8)


def ref_conv_layer(layer, x, route, *, gain=1.0):
    w = layer.weight / math.sqrt(layer.weight[0].numel())
    y = route(x, w)
    if layer.bias is not None:
        y = y + layer.bias[None, :, None, None]
    clamp = None if layer.conv_clamp is None else layer.conv_clamp * gain
    if layer.activation == "lrelu":
        return ref.lrelu(y, gain=ref.LRELU_GAIN * gain, clamp=clamp)
    return y * gain


def ref_discriminator(D, img, group_size):
    x = None
    for res in D.block_resolutions:
        block = getattr(D, f"b{res}")
        if x is None:
            x = ref_conv_layer(block.fromrgb, img, ref.correlate)
        y = ref_conv_layer(block.skip, x, ref.conv1x1_down, gain=math.sqrt(0.5))
        x = ref_conv_layer(block.conv0, x, ref.conv_same)
        x = y + ref_conv_layer(block.conv1, x, ref.conv_down, gain=math.sqrt(0.5))
    x = ref.minibatch_std(x, group_size)
    x = ref_conv_layer(D.b4.conv, x, ref.conv_same).flatten(1)
    x = ref.lrelu(ref.fc(x, D.b4.fc.weight, D.b4.fc.bias))
    return ref.fc(x, D.b4.out.weight, D.b4.out.bias)


def test_the_residual_discriminator_matches_the_reference():
    D = perturbed(build_discriminator(SMALL.replace(conv_clamp=1.5), mbstd_group_size=2)).double()
    img = torch.randn(4, 3, 32, 32, dtype=torch.float64)
    with torch.no_grad():
        assert torch.allclose(D(img, None), ref_discriminator(D, img, 2), atol=1e-8)


# --- noise, determinism, precision ------------------------------------------------------------

def test_const_noise_is_deterministic_and_random_noise_is_not():
    G = perturbed(build(SMALL)).eval()
    z = torch.randn(2, 16)
    with torch.no_grad():
        const = G(z, None, noise_mode="const")
        assert torch.equal(const, G(z, None, noise_mode="const"))
        assert not torch.allclose(G(z, None, noise_mode="random"), G(z, None, noise_mode="random"))
        assert not torch.allclose(G(z, None, noise_mode="none"), const)
        with torch.no_grad():
            for module in G.modules():
                if isinstance(module, SynthesisLayer):
                    module.noise_strength.zero_()
        assert torch.equal(G(z, None, noise_mode="none"), G(z, None, noise_mode="const"))


def test_fused_and_separate_modulation_give_the_same_generator_output():
    G = perturbed(build(SMALL))
    z = torch.randn(3, 16)
    with torch.no_grad():
        fused = G(z, None, noise_mode="const", fused_modconv=True)
        separate = G(z, None, noise_mode="const", fused_modconv=False)
    assert torch.allclose(fused, separate, atol=1e-4)


def test_float16_blocks_stay_float32_on_the_cpu():
    config = SMALL.replace(num_fp16_res=4, conv_clamp=256.0)
    G, D = build(config).eval(), build_discriminator(config, mbstd_group_size=2).eval()
    assert [getattr(G.synthesis, f"b{r}").use_fp16 for r in (4, 8, 16, 32)] == [False, True, True, True]
    assert [getattr(D, f"b{r}").use_fp16 for r in (32, 16, 8)] == [True, True, True]
    z = torch.randn(2, 16)
    with torch.no_grad():
        img = G(z, None, noise_mode="const")
        assert img.dtype == torch.float32
        assert torch.equal(img, G(z, None, noise_mode="const", force_fp32=True))
        assert D(img, None).dtype == torch.float32


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_float16_blocks_on_cuda_stay_close_to_float32():
    config = StyleGAN2Config.preset("tiny64").replace(num_fp16_res=2, conv_clamp=256.0)
    G = perturbed(build(config)).cuda().eval()
    D = build_discriminator(config, mbstd_group_size=2).cuda().eval()
    z = torch.randn(4, config.z_dim, device="cuda")
    with torch.no_grad():
        mixed = G(z, None, noise_mode="const")
        full = G(z, None, noise_mode="const", force_fp32=True)
        assert mixed.dtype == torch.float32
        assert (mixed - full).abs().max().item() < 0.05 * full.abs().max().item()
        assert torch.allclose(D(mixed, None), D(mixed, None, force_fp32=True), rtol=0.05, atol=0.05)


# --- configs ----------------------------------------------------------------------------------

def test_paper_presets_follow_nvlabs_cfg_specs():
    assert StyleGAN2Config.preset("paper256").channel_base == 16384
    assert StyleGAN2Config.preset("paper512").channel_base == 32768
    assert StyleGAN2Config.preset("paper1024").channel_base == 32768
    for name, (batch, group, lr, gamma, ema) in {"paper256": (64, 8, 0.0025, 1.0, 20.0),
                                                 "paper512": (64, 8, 0.0025, 0.5, 20.0),
                                                 "paper1024": (32, 4, 0.002, 2.0, 10.0)}.items():
        config = StyleGAN2TrainConfig.preset(name)
        assert (config.batch_size, config.mbstd_group_size, config.lr, config.r1_gamma, config.ema_kimg) == \
            (batch, group, lr, gamma, ema)
        assert config.arch.mapping_layers == 8 and config.arch.num_fp16_res == 4 and config.arch.conv_clamp == 256
        assert config.steps * config.batch_size == 25_000_000  # 25000 kimg
        assert config.betas == (0.0, 0.99) and config.pl_weight == 2.0 and config.style_mixing_prob == 0.9
        assert (config.g_reg_interval, config.d_reg_interval) == (4, 16)


def test_auto_follows_nvlabs_rules():
    arch, numbers = auto_config(256)
    assert numbers == {"mb": 16, "mbstd": 4, "fmaps": 0.5, "lrate": 0.0025, "gamma": pytest.approx(0.8192),
                       "ema": 5.0, "ramp": 0.05, "map": 2}
    assert (arch.channel_base, arch.mapping_layers, arch.resolution) == (16384, 2, 256)
    arch, numbers = auto_config(1024, gpus=8)
    assert (numbers["mb"], numbers["mbstd"], numbers["lrate"], arch.channel_base) == (32, 4, 0.002, 32768)
    assert numbers["gamma"] == pytest.approx(0.0002 * 1024 ** 2 / 32)
    assert auto_config(32, gpus=2).train["mb"] == 64  # min(4096 / 32, 32) per GPU, at most 64
    train = StyleGAN2TrainConfig.auto(512)
    assert (train.batch_size, train.arch.channel_base, train.ema_rampup, train.lr) == (8, 32768, 0.05, 0.0025)


def test_tiny_presets_build_small_networks_and_round_trip_through_json():
    for name in ("tiny32", "tiny64"):
        config = StyleGAN2TrainConfig.preset(name)
        assert StyleGAN2TrainConfig.from_json(config.to_json()) == config
        assert sum(p.numel() for p in build(config.arch).parameters()) < 500_000


def test_the_training_config_refuses_a_batch_the_minibatch_std_cannot_split():
    with pytest.raises(ConfigError, match="batch_size \\(6\\) must be a multiple of mbstd_group_size \\(4\\)"):
        StyleGAN2TrainConfig.preset("tiny32", batch_size=6, mbstd_group_size=4)


# --- the family -------------------------------------------------------------------------------

def test_the_family_is_registered_as_a_generator_that_refuses_to_translate_photos():
    family = get_family("stylegan2")
    assert family.label == "StyleGAN2 (Karras et al. 2020)" and family.generator
    assert family.config_class is StyleGAN2Config and family.training.config_class is StyleGAN2TrainConfig
    G = family.build(StyleGAN2Config.preset("tiny32"))
    assert isinstance(G, Generator)
    with pytest.raises(ValueError, match="StyleGAN2 makes images from seeds; it does not translate photos"):
        family.translate(G, torch.rand(1, 3, 32, 32))
    assert not get_family("pix2pix").generator


def test_build_and_build_discriminator_follow_the_config():
    config = StyleGAN2Config.preset("tiny64").replace(img_channels=1, mapping_layers=3)
    G, D = networks.build(config), networks.build_discriminator(config, mbstd_group_size=2)
    assert (G.z_dim, G.w_dim, G.img_resolution, G.img_channels, G.mapping.num_layers) == (64, 64, 64, 1, 3)
    assert G.synthesis.b64.torgb.weight.shape[0] == 1 and D.b64.fromrgb.weight.shape[1] == 1
    assert D.b4.mbstd.group_size == 2


def test_a_generator_saved_as_an_mlcore_checkpoint_loads_and_draws_the_same_pictures(tmp_path):
    from mlcore.checkpoint import save_model
    from mlcore.inference import Inferer

    config = StyleGAN2Config.preset("tiny32")
    G = perturbed(build(config)).eval()  # noise strengths are 0-d tensors: safetensors must keep them
    path = save_model(tmp_path / "g.safetensors", family="stylegan2", config=config, state_dict=G.state_dict())
    loaded = Inferer.load(path).net
    z = torch.randn(2, config.z_dim)
    with torch.no_grad():
        assert torch.equal(loaded(z, None, noise_mode="const"), G(z, None, noise_mode="const"))
