"""Fast style networks: sizes, the pytorch/examples layout, config and registry."""

from __future__ import annotations

import json

import pytest
import torch

from mlcore.fast_style import FastStyleConfig
from mlcore.fast_style.inferer import translate
from mlcore.fast_style.networks import build
from mlcore.fast_style.networks import EngstromNet, TransformerNet, same_padding
from mlcore.registry import UnknownFamilyError, family_names, get_family

SIZES = [(1, 1), (2, 3), (5, 7), (31, 17), (64, 64), (33, 48)]


@pytest.fixture(scope="module", params=[TransformerNet, EngstromNet], ids=lambda c: c.__name__)
def small_net(request):
    torch.manual_seed(0)
    return request.param(channels=(4, 8, 16), num_residual_blocks=2).eval()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_output_has_the_input_size(small_net, size):
    x = torch.rand(1, 3, *size) * 255
    with torch.no_grad():
        y = small_net(x)
    assert y.shape == (1, 3, *size)
    assert torch.isfinite(y).all()


def test_full_size_networks_keep_odd_sizes():
    for cls in (TransformerNet, EngstromNet):
        with torch.no_grad():
            assert cls().eval()(torch.rand(2, 3, 13, 22) * 255).shape == (2, 3, 13, 22)


def test_transformer_net_uses_the_pytorch_examples_parameter_names():
    keys = set(TransformerNet().state_dict())
    expected_sample = {
        "conv1.conv2d.weight", "conv1.conv2d.bias", "in1.weight", "in1.bias",
        "conv3.conv2d.weight", "in3.bias",
        "res1.conv1.conv2d.weight", "res1.in1.weight", "res5.conv2.conv2d.bias", "res5.in2.bias",
        "deconv1.conv2d.weight", "in4.weight", "deconv2.conv2d.bias", "in5.bias",
        "deconv3.conv2d.weight", "deconv3.conv2d.bias",
    }
    assert expected_sample <= keys
    assert len(keys) == 4 * 3 + 5 * 8 + 4 * 2 + 2  # conv1-3 + IN, 5 blocks, deconv1-2 + IN, deconv3
    assert not any("running" in k for k in keys)


def test_engstrom_net_has_no_conv_bias_and_an_output_norm():
    params = dict(EngstromNet().named_parameters())
    biases = [name for name in params if name.endswith(".bias")]
    assert biases and all(name.split(".")[-2].startswith("in") for name in biases)  # IN shifts only
    assert params["deconv1.weight"].shape == (128, 64, 3, 3)  # ConvTranspose2d: in, out, k, k
    assert params["in6.weight"].shape == (3,)


@pytest.mark.parametrize(
    ("size", "kernel", "stride", "expected"),
    [(8, 3, 2, (0, 1)), (7, 3, 2, (1, 1)), (1, 3, 2, (1, 1)), (10, 9, 1, (4, 4)), (5, 3, 1, (1, 1))],
)
def test_same_padding_follows_tensorflow(size, kernel, stride, expected):
    assert same_padding(size, kernel, stride) == expected


def test_engstrom_output_stays_in_0_255():
    torch.manual_seed(2)
    net = EngstromNet(channels=(4, 8, 16), num_residual_blocks=1).eval()
    with torch.no_grad():
        y = net(torch.rand(1, 3, 20, 20) * 255 * 50)
    assert y.min() >= 0 and y.max() <= 255


def test_translate_maps_unit_range_and_leaves_its_input_alone():
    torch.manual_seed(3)
    net = TransformerNet(channels=(4, 8, 16), num_residual_blocks=1).eval()
    x = torch.rand(1, 3, 9, 11)
    before = x.clone()
    with torch.no_grad():
        y = translate(net, x)
        raw = net(before * 255)
    assert torch.equal(x, before)
    assert y.shape == x.shape and 0 <= y.min() and y.max() <= 1
    assert torch.allclose(y, (raw / 255).clamp(0, 1))


# --- config ----------------------------------------------------------------------------------


def test_config_round_trips_through_json():
    config = FastStyleConfig(variant="engstrom", channels=(16, 32, 64), num_residual_blocks=3)
    text = config.to_json()
    assert json.loads(text) == {
        "variant": "engstrom", "channels": [16, 32, 64], "num_residual_blocks": 3
    }
    assert FastStyleConfig.from_json(text) == config


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"variant": "gatys"}, "variant: Input should be 'johnson' or 'engstrom'; got 'gatys'"),
        ({"channels": [32, 64]}, "channels.2: Field required; got [32, 64]"),
        ({"channels": [32, 0, 128]}, "channels.1: Input should be greater than or equal to 1; got 0"),
        ({"num_residual_blocks": -1}, "num_residual_blocks: Input should be greater than or equal to 0; got -1"),
        ({"num_residual_blocks": True}, "num_residual_blocks: Input should be a valid integer; got True"),
        ({"depth": 5}, "depth: unknown field"),
    ],
)
def test_config_rejects_bad_values_clearly(data, message):
    with pytest.raises(ValueError) as refused:
        FastStyleConfig.from_json(json.dumps(data))
    assert str(refused.value) == message


def test_config_rejects_text_that_is_not_json():
    with pytest.raises(ValueError, match="not valid JSON"):
        FastStyleConfig.from_json("variant=johnson")


# --- registry --------------------------------------------------------------------------------


def test_fast_style_family_is_registered_and_builds_each_variant():
    family = get_family("fast_style")
    assert "fast_style" in family_names()
    assert family.config_class is FastStyleConfig
    assert isinstance(family.build(FastStyleConfig(variant="johnson")), TransformerNet)
    assert isinstance(build(FastStyleConfig(variant="engstrom")), EngstromNet)


def test_unknown_family_error_names_the_known_families():
    with pytest.raises(KeyError) as info:
        get_family("stylegan9")
    assert isinstance(info.value, UnknownFamilyError)
    assert str(info.value) == "unknown model family 'stylegan9' (known families: fast_style, gatys, pix2pix, stylegan2, ugatit)"
