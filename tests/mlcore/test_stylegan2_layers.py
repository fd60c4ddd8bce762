"""mlcore.stylegan2.layers: the torch-free rule for which ws drive which resolution and the
coarse, middle and fine ranges, the one rule both generate.layer_ranges and the site use."""
import subprocess
import sys

import pytest

from mlcore.stylegan2 import layers
from mlcore.stylegan2.config import StyleGAN2Config
from mlcore.stylegan2.generate import layer_ranges
from mlcore.stylegan2.networks import build


@pytest.mark.parametrize("preset", ["tiny32", "tiny64"])
def test_the_ws_count_from_the_resolution_is_the_built_networks(preset):
    config = StyleGAN2Config.preset(preset)
    G = build(config)
    assert layers.num_ws_for_resolution(G.img_resolution) == G.num_ws
    assert layers.ranges_for_resolution(G.img_resolution) == layer_ranges(G)


def test_known_sizes_and_their_empty_ranges():
    # NVlabs' 1024 px FFHQ model has 18 ws, their 256 px ones 14.
    assert [layers.num_ws_for_resolution(r) for r in (32, 64, 128, 256, 512, 1024)] == [8, 10, 12, 14, 16, 18]
    assert layers.ranges_for_resolution(1024) == {"coarse": (0, 3), "middle": (3, 7), "fine": (7, 18)}
    assert layers.empty_ranges(32) == ["fine"]
    assert layers.empty_ranges(64) == [] and layers.empty_ranges(1024) == []


@pytest.mark.parametrize("bad", [0, 3, 48, 100, -32, "32", True, None])
def test_a_resolution_that_is_not_a_power_of_two_is_refused(bad):
    with pytest.raises(ValueError, match="power of two"):
        layers.num_ws_for_resolution(bad)


def test_the_module_imports_no_torch():
    code = "import sys, mlcore.stylegan2.layers as l; l.empty_ranges(32); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
