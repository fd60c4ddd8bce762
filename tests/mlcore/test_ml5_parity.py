"""The imported ml5.js network computes what TensorFlow computes (in its ``edges="exact"``
mode; the default mirrors a margin out first, tests/mlcore/test_fast_style_edges.py).

The reference below is written from TensorFlow's definitions, in NumPy (float64, HWC), and
reads the raw ``Variable_N`` files itself, so it shares no code with mlcore's importer or
networks:

- ``tf.nn.conv2d(padding='SAME')``: output ceil(n / stride); total padding
  max((out - 1) * stride + k - n, 0), half before and the odd pixel after; zeros.
- ``tf.nn.conv2d_transpose(padding='SAME')`` to stride * n: every input pixel scatters
  ``value x kernel`` into a (k x k) window at stride spacing; the result is then cut where the
  SAME convolution from stride * n back to n would have padded.
- instance norm as in Engstrom's code: moments over H, W (biased variance), eps 1e-3 inside
  the square root, scale * normalised + shift.
- output tanh(x) * 150 + 127.5, clipped to 0..255.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mlcore.images import open_image, pil_to_tensor
from mlcore.inference import Inferer


def read_tf_variables(folder: Path) -> dict[int, np.ndarray]:
    manifest = json.loads((folder / "manifest.json").read_text())
    variables = {}
    for name, entry in manifest.items():
        var_id = 0 if name == "Variable" else int(name.rsplit("_", 1)[1])
        raw = np.fromfile(folder / entry["filename"], dtype="<f4")
        variables[var_id] = raw.reshape(entry["shape"]).astype(np.float64)
    return variables


def tf_same(n: int, k: int, stride: int) -> tuple[int, int, int]:
    """(pad before, pad after, output size) of TF 'SAME' along one axis."""
    out = -(-n // stride)
    total = max((out - 1) * stride + k - n, 0)
    return total // 2, total - total // 2, out


def conv2d_same(x: np.ndarray, w: np.ndarray, stride: int) -> np.ndarray:
    """x: H x W x Cin; w: k x k x Cin x Cout (TF layout). One matmul per kernel tap."""
    k = w.shape[0]
    top, bottom, out_h = tf_same(x.shape[0], k, stride)
    left, right, out_w = tf_same(x.shape[1], k, stride)
    padded = np.pad(x, ((top, bottom), (left, right), (0, 0)))
    out = np.zeros((out_h, out_w, w.shape[3]))
    for dy in range(k):
        for dx in range(k):
            window = padded[dy : dy + stride * (out_h - 1) + 1 : stride,
                            dx : dx + stride * (out_w - 1) + 1 : stride]
            out += window @ w[dy, dx]
    return out


def conv2d_transpose_same(x: np.ndarray, w: np.ndarray, stride: int) -> np.ndarray:
    """x: H x W x Cin; w: k x k x Cout x Cin (TF layout); output stride*H x stride*W x Cout."""
    k = w.shape[0]
    h, wd, _ = x.shape
    full = np.zeros(((h - 1) * stride + k, (wd - 1) * stride + k, w.shape[2]))
    for dy in range(k):  # input pixel (i, j) adds x[i, j] @ w[dy, dx].T at (i*s + dy, j*s + dx)
        for dx in range(k):
            full[dy : dy + stride * (h - 1) + 1 : stride,
                 dx : dx + stride * (wd - 1) + 1 : stride] += x @ w[dy, dx].T
    out_h, out_w = h * stride, wd * stride
    top = tf_same(out_h, k, stride)[0]
    left = tf_same(out_w, k, stride)[0]
    return full[top : top + out_h, left : left + out_w]


def instance_norm(x: np.ndarray, shift: np.ndarray, scale: np.ndarray) -> np.ndarray:
    mean = x.mean(axis=(0, 1))
    var = ((x - mean) ** 2).mean(axis=(0, 1))
    return scale * (x - mean) / np.sqrt(var + 1e-3) + shift


def engstrom_forward(rgb255: np.ndarray, v: dict[int, np.ndarray]) -> np.ndarray:
    """TF forward pass of the ml5.js style network: H x W x 3 in 0..255 -> 0..255."""

    def conv_in(x, var_id, stride, relu=True):
        y = instance_norm(conv2d_same(x, v[var_id], stride), v[var_id + 1], v[var_id + 2])
        return np.maximum(y, 0) if relu else y

    def deconv_in(x, var_id):
        y = instance_norm(conv2d_transpose_same(x, v[var_id], 2), v[var_id + 1], v[var_id + 2])
        return np.maximum(y, 0)

    x = conv_in(rgb255, 0, 1)
    x = conv_in(x, 3, 2)
    x = conv_in(x, 6, 2)
    for block in (9, 15, 21, 27, 33):
        x = x + conv_in(conv_in(x, block, 1), block + 3, 1, relu=False)
    x = deconv_in(x, 39)
    x = deconv_in(x, 42)
    x = conv_in(x, 45, 1, relu=False)
    return np.clip(np.tanh(x) * 150 + 127.5, 0, 255)


def reference(img: Image.Image, wave_dir: Path) -> np.ndarray:
    """The TF result cut to the input size (TF itself returns 4 * ceil(n / 4) rows/columns)."""
    rgb = np.asarray(img.convert("RGB"), dtype=np.float64)
    out = engstrom_forward(rgb, read_tf_variables(wave_dir))
    return out[: img.height, : img.width]


def test_reference_transposed_conv_is_the_adjoint_of_the_same_conv():
    # Guards the reference itself: <conv(a), b> == <a, conv_transpose(b)> for stride 2.
    rng = np.random.default_rng(0)
    w = rng.normal(size=(3, 3, 4, 5))  # conv: 4 -> 5 channels; transpose: 5 -> 4
    a = rng.normal(size=(8, 6, 4))
    b = rng.normal(size=(4, 3, 5))
    assert np.sum(conv2d_same(a, w, 2) * b) == pytest.approx(np.sum(a * conv2d_transpose_same(b, w, 2)))


def test_full_chelsea_image_matches_the_tensorflow_reference(wave_exact_checkpoint, wave_dir, chelsea_path):
    img = open_image(chelsea_path)
    assert img.size == (451, 300)  # odd width: TF computes 452 columns, we return 451
    inferer = Inferer.load(wave_exact_checkpoint)
    expected = reference(img, wave_dir) / 255.0

    ours = np.asarray(inferer.translate(img), dtype=np.float64) / 255.0
    assert ours.shape == expected.shape == (300, 451, 3)
    mae = np.abs(ours - expected).mean()
    # 8-bit rounding alone costs about 0.25/255 on average.
    assert mae < 1 / 255, f"MAE {mae * 255:.4f}/255 against the TF reference (limit 1/255)"

    unrounded = inferer.translate_tensor(pil_to_tensor(img))[0].permute(1, 2, 0).double().numpy()
    error = np.abs(unrounded - expected)
    assert error.mean() < 0.01 / 255, f"float MAE {error.mean() * 255:.6f}/255 (limit 0.01/255)"
    assert error.max() < 0.1 / 255, f"float max error {error.max() * 255:.5f}/255 (limit 0.1/255)"


def test_odd_height_crop_matches_the_tensorflow_reference(wave_exact_checkpoint, wave_dir, chelsea_path):
    img = open_image(chelsea_path).crop((100, 50, 250, 151))  # 150 x 101: odd height, even width
    inferer = Inferer.load(wave_exact_checkpoint)

    ours = inferer.translate_tensor(pil_to_tensor(img))[0].permute(1, 2, 0).double().numpy()
    expected = reference(img, wave_dir) / 255.0

    assert ours.shape == expected.shape == (101, 150, 3)
    error = np.abs(ours - expected)
    assert error.mean() < 0.01 / 255, f"float MAE {error.mean() * 255:.6f}/255 (limit 0.01/255)"
    assert error.max() < 0.1 / 255, f"float max error {error.max() * 255:.5f}/255 (limit 0.1/255)"


@pytest.mark.parametrize("size", [(1, 1), (3, 6), (9, 5)])
def test_tiny_images_match_the_tensorflow_reference(wave_exact_checkpoint, wave_dir, size):
    rng = np.random.default_rng(sum(size))
    img = Image.fromarray(rng.integers(0, 256, size=(*size, 3), dtype=np.uint8))
    inferer = Inferer.load(wave_exact_checkpoint)

    ours = inferer.translate_tensor(pil_to_tensor(img))[0].permute(1, 2, 0).double().numpy()
    expected = reference(img, wave_dir) / 255.0

    assert ours.shape == expected.shape == (*size, 3)
    error = np.abs(ours - expected).max()
    assert error < 0.1 / 255, f"max error {error * 255:.5f}/255 (limit 0.1/255)"
