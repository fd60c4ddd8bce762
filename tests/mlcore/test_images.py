"""mlcore.images: opening, mode handling and the tensor convention."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

from mlcore.images import open_image, pil_to_tensor, split_alpha, tensor_to_pil


def _jpeg_with_orientation(width: int, height: int, orientation: int) -> bytes:
    img = Image.new("RGB", (width, height), (200, 30, 30))
    img.paste((30, 30, 200), (0, 0, width // 2, height))  # left half blue
    exif = Image.Exif()
    exif[0x0112] = orientation
    buffer = io.BytesIO()
    img.save(buffer, "JPEG", exif=exif.tobytes(), quality=95)
    return buffer.getvalue()


# --- open_image ------------------------------------------------------------------------------


def test_open_image_applies_exif_orientation(tmp_path):
    path = tmp_path / "portrait.jpg"
    path.write_bytes(_jpeg_with_orientation(40, 20, orientation=6))  # stored landscape, rotate 90

    img = open_image(path)

    assert img.size == (20, 40)
    assert img.getexif().get(0x0112, 1) == 1  # not rotated a second time later
    # Orientation 6 turns the left (blue) half into the top half.
    assert img.getpixel((10, 5))[2] > 150 and img.getpixel((10, 35))[0] > 150


def test_open_image_accepts_a_binary_file_object_and_detaches_from_it():
    stream = io.BytesIO(_jpeg_with_orientation(40, 20, orientation=6))
    img = open_image(stream)
    stream.close()
    assert img.size == (20, 40)
    assert img.convert("RGB").getpixel((0, 0))  # pixels are loaded


def test_open_image_rejects_data_that_is_not_an_image():
    with pytest.raises(OSError):
        open_image(io.BytesIO(b"definitely not an image"))


# --- split_alpha -----------------------------------------------------------------------------


def _rgb_values(img: Image.Image) -> np.ndarray:
    assert img.mode == "RGB"
    return np.asarray(img)


def test_rgb_passes_through_without_alpha():
    img = Image.new("RGB", (3, 2), (10, 20, 30))
    rgb, alpha = split_alpha(img)
    assert alpha is None and (_rgb_values(rgb) == (10, 20, 30)).all()


def test_rgba_splits_colour_and_alpha():
    img = Image.new("RGBA", (3, 2), (10, 20, 30, 40))
    rgb, alpha = split_alpha(img)
    assert (_rgb_values(rgb) == (10, 20, 30)).all()
    assert alpha.mode == "L" and (np.asarray(alpha) == 40).all()


def test_la_becomes_grey_rgb_and_alpha():
    img = Image.new("LA", (3, 2), (90, 7))
    rgb, alpha = split_alpha(img)
    assert (_rgb_values(rgb) == 90).all() and (np.asarray(alpha) == 7).all()


@pytest.mark.parametrize(
    ("mode", "colour", "expected"),
    [("L", 77, (77, 77, 77)), ("1", 1, (255, 255, 255)), ("CMYK", (0, 0, 0, 0), (255, 255, 255))],
)
def test_opaque_modes_become_rgb(mode, colour, expected):
    rgb, alpha = split_alpha(Image.new(mode, (4, 3), colour))
    assert alpha is None
    assert rgb.size == (4, 3) and (_rgb_values(rgb) == expected).all()


def test_palette_without_transparency_is_opaque_rgb():
    img = Image.new("P", (2, 2))
    img.putpalette([255, 0, 0, 0, 255, 0] + [0] * 762)
    img.putpixel((1, 1), 1)
    rgb, alpha = split_alpha(img)
    assert alpha is None
    assert rgb.getpixel((0, 0)) == (255, 0, 0) and rgb.getpixel((1, 1)) == (0, 255, 0)


def test_palette_with_a_transparent_index_gets_an_alpha_mask():
    img = Image.new("P", (2, 2))
    img.putpalette([255, 0, 0, 0, 255, 0] + [0] * 762)
    img.putpixel((1, 1), 1)
    img.info["transparency"] = 1  # as a GIF or palette PNG with tRNS loads
    buffer = io.BytesIO()
    img.save(buffer, "PNG", transparency=1)
    reopened = open_image(io.BytesIO(buffer.getvalue()))

    rgb, alpha = split_alpha(reopened)

    assert alpha is not None
    assert alpha.getpixel((0, 0)) == 255 and alpha.getpixel((1, 1)) == 0
    assert rgb.getpixel((0, 0)) == (255, 0, 0)


@pytest.mark.parametrize("mode", ["I;16", "I;16B"])
def test_sixteen_bit_grey_is_scaled_not_clipped(mode):
    values = np.array([[0, 257, 32768, 65535]], dtype="<u2" if mode == "I;16" else ">u2")
    img = Image.fromarray(values)
    assert img.mode == mode
    rgb, alpha = split_alpha(img)
    assert alpha is None
    assert _rgb_values(rgb)[0, :, 0].tolist() == [0, 1, 128, 255]


def test_sixteen_bit_png_from_disk_keeps_its_tones(tmp_path):
    values = (np.linspace(0, 65535, 64).reshape(8, 8)).astype(np.uint16)
    Image.fromarray(values).save(tmp_path / "deep.png")
    rgb, _ = split_alpha(open_image(tmp_path / "deep.png"))
    grey = _rgb_values(rgb)[..., 0].astype(int)
    assert np.abs(grey - np.rint(values / 257.0)).max() == 0
    assert grey.min() == 0 and grey.max() == 255 and len(np.unique(grey)) == 64


def test_32_bit_integer_grey_is_read_as_16_bit_range():
    img = Image.fromarray(np.array([[0, 65535, 70000, -5]], dtype=np.int32))
    assert img.mode == "I"
    rgb, _ = split_alpha(img)
    assert _rgb_values(rgb)[0, :, 0].tolist() == [0, 255, 255, 0]


def test_float_grey_follows_pillows_0_255_scale():
    img = Image.fromarray(np.array([[0.0, 127.6, 300.0, -1.0]], dtype=np.float32))
    assert img.mode == "F"
    rgb, _ = split_alpha(img)
    assert _rgb_values(rgb)[0, :, 0].tolist() == [0, 128, 255, 0]


# --- tensors ---------------------------------------------------------------------------------


def test_pil_to_tensor_follows_the_convention():
    img = Image.new("RGB", (5, 3), (255, 0, 51))
    t = pil_to_tensor(img)
    assert t.shape == (1, 3, 3, 5) and t.dtype == torch.float32
    assert t[0, :, 0, 0].tolist() == pytest.approx([1.0, 0.0, 0.2])


def test_uint8_round_trip_is_exact():
    rng = np.random.default_rng(0)
    array = rng.integers(0, 256, size=(17, 23, 3), dtype=np.uint8)
    back = tensor_to_pil(pil_to_tensor(Image.fromarray(array)))
    assert back.mode == "RGB" and np.array_equal(np.asarray(back), array)


def test_pil_to_tensor_drops_alpha_of_other_modes():
    t = pil_to_tensor(Image.new("RGBA", (2, 2), (0, 255, 0, 0)))
    assert t.shape == (1, 3, 2, 2) and t[0, 1].eq(1).all()


def test_tensor_to_pil_clamps_rounds_and_leaves_the_tensor_alone():
    t = torch.tensor([[[[-0.5, 0.5]], [[1.5, 0.2]], [[0.998, 0.0]]]])  # 1 x 3 x 1 x 2
    before = t.clone()
    img = tensor_to_pil(t)
    assert torch.equal(t, before)
    assert img.size == (2, 1)
    assert img.getpixel((0, 0)) == (0, 255, 254) and img.getpixel((1, 0)) == (128, 51, 0)


def test_tensor_to_pil_accepts_chw_and_other_dtypes():
    img = tensor_to_pil(torch.ones(3, 2, 4, dtype=torch.bfloat16))
    assert img.size == (4, 2) and img.getpixel((0, 0)) == (255, 255, 255)


@pytest.mark.parametrize("shape", [(2, 3, 4, 4), (1, 4, 4, 4), (4, 4)])
def test_tensor_to_pil_rejects_other_shapes(shape):
    with pytest.raises(ValueError):
        tensor_to_pil(torch.zeros(shape))
