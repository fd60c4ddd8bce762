"""The memory a translation needs is known before it runs, and a translation can be kept within a
budget. Random weights: memory does not depend on what the weights are."""
import json
import subprocess
import sys
import textwrap

import pytest
import torch
from PIL import Image

from mlcore.inference import Inferer, MemoryBudgetError
from mlcore.registry import get_family

MiB = 2**20


def inferer(family="fast_style", **config):
    record = get_family(family)
    cfg = record.config_class(**config)
    return Inferer(record.build(cfg), family=record, config=cfg)


MEASURE = textwrap.dedent("""
    import json, sys, torch
    from mlcore.inference import Inferer
    from mlcore.bench.harness import peak_rss, reset_peak_rss
    from mlcore.registry import get_family
    family, side, config = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
    record = get_family(family)
    cfg = record.config_class(**config)
    # The estimate models eager torch (Inferer.translate keeps ONNX Runtime to budgets that
    # hold ONNX_MEMORY_FACTOR times it: test_inference_memory_backend below).
    inf = Inferer(record.build(cfg), family=record, config=cfg, backend="torch")
    estimate = inf.memory.bytes_for(side, side)
    x = torch.rand(1, 3, side, side)
    before = reset_peak_rss()
    inf.translate_tensor(x)
    after = peak_rss()
    # The estimate counts the input tensor too, which exists before the measurement starts.
    print(json.dumps({"estimate": estimate, "measured": after - before + x.numel() * 4}))
""")


@pytest.mark.parametrize("family, config", [("fast_style", {"variant": "engstrom"}), ("pix2pix", {})])
def test_the_estimate_matches_the_memory_a_real_translation_takes(family, config):
    out = subprocess.run([sys.executable, "-c", MEASURE, family, "1024", json.dumps(config)],
                         capture_output=True, text=True, check=True).stdout
    figures = json.loads(out.splitlines()[-1])
    assert figures["measured"] > 200 * MiB  # a real translation, not a no-op
    # Never below what is used (the budget would be broken), and not wastefully above it.
    assert 0.95 < figures["estimate"] / figures["measured"] < 1.6, figures


def test_memory_grows_with_the_pixels_for_a_fully_convolutional_network_and_not_for_a_fixed_size_one():
    fast = inferer(variant="engstrom").memory
    # 32 channels of float32 at full size, a few alive at once; the reflect margin's pixels
    # (48 on each side, mlcore.fast_style.inferer) add about a quarter at the fitted sizes.
    assert 750 < fast.per_pixel < 1100
    # Full U-GAT-IT runs at its training size: only the resized image grows with the photo.
    ugatit = inferer("ugatit", light=False).memory
    assert ugatit.per_pixel < 60 and ugatit.fixed > 50 * MiB


def test_an_image_too_large_for_the_budget_is_shrunk_keeping_its_shape():
    net = inferer(variant="engstrom", channels=(4, 8, 8), num_residual_blocks=1)
    budget = net.memory.bytes_for(300, 200)
    assert net.fit_size(300, 200, budget) == (300, 200)
    width, height = net.fit_size(1500, 1000, budget)
    assert net.memory.bytes_for(width, height) <= budget
    assert 290 <= width <= 300 and abs(width / height - 1.5) < 0.01

    photo = Image.new("RGBA", (1500, 1000), (10, 20, 30, 128))
    result = net.translate(photo, max_bytes=budget, tile=None)  # shrinking, not tiling (test_tiling.py)
    assert result.size == (width, height) and result.mode == "RGBA"
    assert net.translate(photo).size == (1500, 1000)  # no budget, no shrinking


def test_a_budget_too_small_for_any_image_is_refused_in_words():
    net = inferer(variant="engstrom")
    with pytest.raises(MemoryBudgetError, match=r"fast_style needs about \d+ MiB .* 1 MiB is allowed"):
        net.fit_size(4000, 3000, 1 * MiB)


def test_a_whole_photo_runs_on_onnx_runtime_only_when_its_larger_peak_fits_the_budget(monkeypatch):
    from mlcore import inference

    net = inferer(variant="johnson", channels=(4, 8, 8), num_residual_blocks=1)
    net.translate_tensor(torch.rand(1, 3, 200, 300))  # "auto" exports for a shape it has seen
    assert net.backend_for(200, 300) == "onnxruntime"
    used = []
    real = Inferer.translate_tensor
    monkeypatch.setattr(Inferer, "translate_tensor",
                        lambda self, x, eager=False, **rest: used.append(eager) or real(self, x, eager=eager, **rest))
    estimate = net.memory.bytes_for(300, 200)
    photo = Image.new("RGB", (300, 200), (10, 20, 30))
    net.translate(photo, max_bytes=estimate * inference.ONNX_MEMORY_FACTOR, tile=None)
    net.translate(photo, max_bytes=estimate * 1.1, tile=None)  # fits eager torch, not ONNX Runtime
    net.translate(photo)  # no budget: the fast backend
    assert used == [False, True, False]
