"""Inferer: the web app's way to run a model on an uploaded picture."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

from mlcore.checkpoint import CheckpointError, save_model
from mlcore.fast_style import FastStyleConfig
from mlcore.fast_style.networks import build as build_network
from mlcore.images import open_image
from mlcore.inference import Inferer, parse_dtype

CONFIG = FastStyleConfig(variant="engstrom", channels=(4, 8, 16), num_residual_blocks=1)


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory):
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("tiny") / "tiny.safetensors"
    return save_model(path, family="fast_style", config=CONFIG,
                      state_dict=build_network(CONFIG).state_dict(), meta={"name": "Tiny"})


@pytest.fixture(scope="module")
def inferer(tiny_checkpoint):
    return Inferer.load(tiny_checkpoint)


def _palette_image(transparent: bool) -> Image.Image:
    img = Image.new("P", (13, 9))
    img.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    img.paste(1, (0, 0, 6, 9))
    buffer = io.BytesIO()
    img.save(buffer, "PNG", **({"transparency": 1} if transparent else {}))
    return open_image(io.BytesIO(buffer.getvalue()))


INPUTS = {
    "RGB": (lambda: Image.new("RGB", (13, 9), (10, 200, 30)), "RGB"),
    "RGBA": (lambda: Image.new("RGBA", (13, 9), (10, 200, 30, 77)), "RGBA"),
    "LA": (lambda: Image.new("LA", (13, 9), (100, 77)), "RGBA"),
    "L": (lambda: Image.new("L", (13, 9), 100), "RGB"),
    "P": (lambda: _palette_image(transparent=False), "RGB"),
    "P-transparent": (lambda: _palette_image(transparent=True), "RGBA"),
    "I;16": (lambda: Image.fromarray(np.full((9, 13), 40000, dtype=np.uint16)), "RGB"),
    "CMYK": (lambda: Image.new("CMYK", (13, 9), (0, 50, 100, 0)), "RGB"),
}


@pytest.mark.parametrize("kind", INPUTS)
def test_output_keeps_the_size_and_the_transparency(inferer, kind):
    make, expected_mode = INPUTS[kind]
    img = make()
    result = inferer.translate(img)
    assert result.size == img.size == (13, 9)
    assert result.mode == expected_mode
    if expected_mode == "RGBA":
        alpha_in = np.asarray(img.convert("RGBA").getchannel("A"))
        assert np.array_equal(np.asarray(result.getchannel("A")), alpha_in)


def test_sixteen_bit_input_gives_the_result_of_its_8_bit_equivalent(inferer):
    deep = np.linspace(0, 65535, 9 * 13).reshape(9, 13).astype(np.uint16)
    eight = np.rint(deep / 257.0).astype(np.uint8)  # clipping instead would make it all white
    result = inferer.translate(Image.fromarray(deep))
    expected = inferer.translate(Image.fromarray(np.stack([eight] * 3, axis=-1)))
    assert np.array_equal(np.asarray(result), np.asarray(expected))


def test_un_transposed_photo_comes_back_upright(inferer):
    img = Image.new("RGB", (16, 8), (200, 10, 10))
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    img.save(buffer, "JPEG", exif=exif.tobytes())
    raw = Image.open(io.BytesIO(buffer.getvalue()))  # opened without open_image
    assert raw.size == (16, 8)
    assert inferer.translate(raw).size == (8, 16)


def test_translate_never_modifies_its_input(inferer):
    img = Image.new("RGBA", (13, 9), (10, 200, 30, 77))
    before = img.tobytes()
    inferer.translate(img)
    assert img.tobytes() == before and img.mode == "RGBA"

    x = torch.rand(1, 3, 9, 13)
    x_before = x.clone()
    y = inferer.translate_tensor(x)
    assert torch.equal(x, x_before)
    assert y.dtype == torch.float32 and y.shape == x.shape


def test_properties_describe_the_loaded_model(inferer):
    assert inferer.family == "fast_style"
    assert inferer.config == CONFIG
    assert inferer.meta == {"name": "Tiny"}
    assert not inferer.net.training
    assert not any(p.requires_grad for p in inferer.net.parameters())


def test_bf16_on_cpu_runs_and_stays_close_to_fp32(wave_checkpoint, chelsea_path):
    img = open_image(chelsea_path).crop((0, 0, 96, 64))
    fp32 = np.asarray(Inferer.load(wave_checkpoint).translate(img), dtype=np.float64)
    bf16_inferer = Inferer.load(wave_checkpoint, dtype="bf16")
    assert next(bf16_inferer.net.parameters()).dtype == torch.bfloat16
    bf16 = np.asarray(bf16_inferer.translate(img), dtype=np.float64)
    assert bf16.shape == fp32.shape
    mae = np.abs(bf16 - fp32).mean()
    assert mae < 3.0, f"bf16 differs from fp32 by {mae:.2f}/255 on average"


def test_loading_something_else_is_a_checkpoint_error(tmp_path):
    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0 not a model")
    with pytest.raises(CheckpointError):
        Inferer.load(tmp_path / "photo.jpg")


def test_dtype_names():
    assert parse_dtype("fp16") is torch.float16 and parse_dtype(torch.bfloat16) is torch.bfloat16
    with pytest.raises(ValueError, match="unknown dtype 'int8'"):
        parse_dtype("int8")
