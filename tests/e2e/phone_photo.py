"""A 12 MP phone photo, made from a real picture: what a person's upload looks like to the site.

A phone's camera writes a 4032x3024 JPEG at about quality 92 with 4:2:0 chroma, sensor noise in
every pixel, and EXIF that names the camera and how the phone was held (Orientation 6: held
upright, stored on its side, the most common case). A real content image of the shared data
is scaled up to fill the frame (its detail is that of the smaller picture, as in a photo a little
out of focus) and given that noise, so the file has a phone photo's size in bytes (a few MB) and
costs what one costs to decode, re-encode and convert. The latency benchmark and the output-size
tests use it.
"""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

WIDTH, HEIGHT = 4032, 3024  # as stored: the sensor's landscape frame
QUALITY = 92
ORIENTATION_TAG = 0x0112
CAMERA = {0x010F: "Restyle test camera", 0x0110: "Phone 12MP", 0x0131: "tests/e2e/phone_photo.py"}


def phone_photo(source: str | Path, *, size=(WIDTH, HEIGHT), orientation=6, noise=4.0, seed=0) -> bytes:
    """JPEG bytes: `source` cropped and scaled to fill `size` (as stored), with Gaussian sensor
    noise of `noise` levels, quality 92, 4:2:0, and EXIF naming a camera and `orientation`."""
    with Image.open(source) as picture:
        frame = ImageOps.fit(ImageOps.exif_transpose(picture).convert("RGB"), size, Image.Resampling.LANCZOS)
    pixels = np.asarray(frame, dtype=np.int16)
    if noise:
        # int16 noise a row band at a time: 12 MP of float64 noise would be 290 MB.
        rng = np.random.default_rng(seed)
        noisy = np.empty(pixels.shape, dtype=np.uint8)
        for top in range(0, pixels.shape[0], 512):
            band = pixels[top:top + 512]
            grain = np.rint(rng.normal(0.0, noise, band.shape)).astype(np.int16)
            noisy[top:top + 512] = np.clip(band + grain, 0, 255)
        frame = Image.fromarray(noisy, "RGB")
    exif = Image.Exif()
    for tag, value in CAMERA.items():
        exif[tag] = value
    exif[ORIENTATION_TAG] = orientation
    buf = io.BytesIO()
    frame.save(buf, "JPEG", quality=QUALITY, subsampling="4:2:0", exif=exif.tobytes())
    return buf.getvalue()


def upright_size(size=(WIDTH, HEIGHT), orientation=6):
    """The size a viewer shows a photo of stored `size` with `orientation` at."""
    return tuple(reversed(size)) if orientation in (5, 6, 7, 8) else tuple(size)
