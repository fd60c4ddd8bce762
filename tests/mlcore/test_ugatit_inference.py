"""Running U-GAT-IT generators on pictures: light at any size, full at its training size with
resizing around it, the [0, 1] <-> [-1, 1] mapping, and the attention heat map."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from mlcore.checkpoint import save_model
from mlcore.fast_style import FastStyleConfig
from mlcore.fast_style.networks import build as build_network
from mlcore.inference import Inferer
from mlcore.ugatit import UGATITConfig
from mlcore.ugatit.inferer import attention, translate
from mlcore.ugatit.networks import build as build_generator
from mlcore.ugatit.inferer import heatmap_to_unit, jet, translate_with_heatmap

LIGHT = UGATITConfig(light=True, ngf=4, n_res=1, img_size=32)
FULL = UGATITConfig(light=False, ngf=4, n_res=1, img_size=32)


def generator(config):
    torch.manual_seed(0)
    return build_generator(config).eval()


def direct(net, x01):
    """The network on [-1, 1] images, back in [0, 1]: what translate must equal without resizing."""
    with torch.no_grad():
        return ((net(x01 * 2 - 1)[0] + 1) / 2).clamp(0, 1)


@pytest.mark.parametrize("config", [LIGHT, FULL], ids=["light", "full"])
def test_at_the_training_size_translate_is_the_network_in_minus_one_to_one(config):
    net, x = generator(config), torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        assert torch.allclose(translate(net, x), direct(net, x), atol=1e-6)


@pytest.mark.parametrize("size", [(37, 53), (5, 3), (1, 1), (64, 100), (8, 8)])
def test_a_light_model_translates_any_size(size):
    net = generator(LIGHT)
    with torch.no_grad():
        y, heat = translate_with_heatmap(net, torch.rand(1, 3, *size))
    assert y.shape == (1, 3, *size) and heat.shape == (1, 1, *size)
    assert 0 <= y.min() and y.max() <= 1


def test_a_light_model_pads_by_reflection_and_crops_back():
    net, x = generator(LIGHT), torch.rand(1, 3, 37, 53)
    padded = F.pad(x, (0, 3, 0, 3), mode="reflect")  # to 40 x 56
    with torch.no_grad():
        assert torch.allclose(translate(net, x), direct(net, padded)[..., :37, :53], atol=1e-6)


def test_a_full_model_works_at_its_size_and_resizes_other_pictures_in_and_out():
    net, x = generator(FULL), torch.rand(1, 3, 37, 53)
    with torch.no_grad():
        y = translate(net, x)
        assert y.shape == (1, 3, 37, 53)
        at_size = direct(net, F.interpolate(x, size=(32, 32), mode="bilinear", antialias=True,
                                            align_corners=False))
        back = F.interpolate(at_size * 2 - 1, size=(37, 53), mode="bilinear", align_corners=False)
        assert torch.allclose(y, ((back + 1) / 2).clamp(0, 1), atol=1e-5)


def test_the_input_is_left_untouched_and_dtype_device_follow_it():
    net, x = generator(LIGHT), torch.rand(1, 3, 20, 24)
    before = x.clone()
    with torch.no_grad():
        y = translate(net.to(torch.bfloat16), x.to(torch.bfloat16))
    assert torch.equal(x, before) and y.dtype == torch.bfloat16


def test_grey_models_take_and_give_rgb():
    net = generator(UGATITConfig(light=True, ngf=4, n_res=1, img_size=32, in_channels=1, out_channels=1))
    with torch.no_grad():
        y = translate(net, torch.rand(1, 3, 16, 16))
    assert y.shape == (1, 3, 16, 16) and torch.equal(y[:, 0], y[:, 1]) and torch.equal(y[:, 1], y[:, 2])


def test_the_heatmap_is_scaled_from_0_to_1_per_picture_and_coloured_with_jet():
    heat = torch.tensor([[[[2.0, 4.0], [6.0, 10.0]]], [[[3.0, 3.0], [3.0, 3.0]]]])
    unit = heatmap_to_unit(heat)
    assert torch.equal(unit[0], torch.tensor([[[0.0, 0.25], [0.5, 1.0]]]))
    assert torch.equal(unit[1], torch.zeros(1, 2, 2))  # a flat map is all "no attention"
    colours = jet(torch.tensor([0.0, 0.5, 1.0]).view(1, 1, 1, 3))
    assert colours[0, :, 0, 0].tolist() == [0.0, 0.0, 0.5]  # dark blue
    assert colours[0, :, 0, 1].tolist() == [0.5, 1.0, 0.5]  # green in the middle
    assert colours[0, :, 0, 2].tolist() == [0.5, 0.0, 0.0]  # dark red


def test_the_attention_hook_is_the_generators_heatmap_at_the_picture_size():
    net, x = generator(LIGHT), torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        picture = attention(net, x)
        heat = net(x * 2 - 1)[2]
    assert picture.shape == (1, 3, 32, 32)
    expected = jet(heatmap_to_unit(F.interpolate(heat, size=(32, 32), mode="bilinear", align_corners=False)))
    assert torch.allclose(picture, expected, atol=1e-6)


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ugatit-inference")
    torch.manual_seed(0)
    ugatit = save_model(folder / "full.safetensors", family="ugatit", config=FULL,
                        state_dict=build_generator(FULL).state_dict(), meta={"direction": "A2B"})
    style_config = FastStyleConfig(channels=(4, 8, 16), num_residual_blocks=1)
    fast = save_model(folder / "fast.safetensors", family="fast_style", config=style_config,
                      state_dict=build_network(style_config).state_dict())
    return ugatit, fast


def test_inferer_attention_gives_an_rgb_picture_of_the_input_size(checkpoints):
    inferer = Inferer.load(checkpoints[0])
    assert inferer.has_attention
    picture = Image.new("RGBA", (45, 31), (200, 100, 50, 128))
    heat = inferer.attention(picture)
    assert heat.size == (45, 31) and heat.mode == "RGB"
    assert inferer.translate(picture).size == (45, 31)


def test_families_without_attention_say_so(checkpoints):
    inferer = Inferer.load(checkpoints[1])
    assert not inferer.has_attention
    with pytest.raises(ValueError, match="fast_style models have no attention map"):
        inferer.attention(Image.new("RGB", (8, 8)))
