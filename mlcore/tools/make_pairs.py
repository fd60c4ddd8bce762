"""Paired training sets made from any folder of photos, in the A|B side-by-side layout.

There are no real paired sets on these machines; this makes one. Each pair is a random square
crop of a random photo (a side between half and all of the photo's shorter side), resized to
``size`` x ``size``, as B, and A derived from it:

- ``edges2photo``: A is an edge map like pix2pix's edges2shoes: black lines on white where the
  Sobel gradient of the (slightly blurred) grey picture is among the strongest 12% of the crop;
- ``gray2color``: A is the crop in grey (ITU-R 601 luma, as RGB), B the colours.

The output is ``out_dir/00000.jpg``, ``00001.jpg``... each ``2 size x size`` (A left, B right),
a pure function of the source files and ``seed``. JPEG blocks are 8 px, so with a ``size`` that
is a multiple of 8 (256) no block straddles the seam between A and B.
"""

from __future__ import annotations

import logging
import os
import random
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter


__all__ = ["KINDS", "make_pairs", "edge_map", "gray_version"]

log = logging.getLogger(__name__)

KINDS = ("edges2photo", "gray2color")
_EDGE_SHARE = 0.12  # share of the pixels drawn as edges
_JPEG_QUALITY = 95


def edge_map(photo: Image.Image) -> Image.Image:
    """Black edges on white (RGB) of an RGB picture: thresholded Sobel gradient magnitude."""
    grey = np.asarray(photo.convert("L").filter(ImageFilter.GaussianBlur(1.0)), dtype=np.float32)
    padded = np.pad(grey, 1, mode="edge")
    # Sobel: [1 2 1] smoothing across, central difference along.
    gx = (padded[:-2, 2:] + 2 * padded[1:-1, 2:] + padded[2:, 2:]
          - padded[:-2, :-2] - 2 * padded[1:-1, :-2] - padded[2:, :-2])
    gy = (padded[2:, :-2] + 2 * padded[2:, 1:-1] + padded[2:, 2:]
          - padded[:-2, :-2] - 2 * padded[:-2, 1:-1] - padded[:-2, 2:])
    magnitude = np.hypot(gx, gy)
    threshold = max(float(np.quantile(magnitude, 1.0 - _EDGE_SHARE)), 1e-6)  # a flat crop stays white
    lines = np.where(magnitude > threshold, 0, 255).astype(np.uint8)
    return Image.fromarray(lines).convert("RGB")


def gray_version(photo: Image.Image) -> Image.Image:
    """The picture in grey, as RGB."""
    return photo.convert("L").convert("RGB")


def make_pairs(
    src_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    kind: str = "edges2photo",
    count: int = 100,
    size: int = 256,
    seed: int = 0,
) -> list[Path]:
    """Write ``count`` A|B pairs of ``kind`` made from the photos under ``src_dir`` into
    ``out_dir`` (created; it must not hold images already). Returns the files written."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}; got {kind!r}")
    if count < 1 or size < 2:
        raise ValueError(f"count must be at least 1 and size at least 2; got count={count}, size={size}")
    # Here, not at the top: mlcore.data brings torch, and the command line lists KINDS for --help.
    from mlcore.data import IMAGE_SUFFIXES, find_images, load_image

    sources = find_images(src_dir)
    out_dir = Path(out_dir)
    if out_dir.is_dir() and any(p.suffix.lower() in IMAGE_SUFFIXES for p in out_dir.rglob("*")):
        raise ValueError(f"{out_dir} already holds images; choose an empty or new folder")
    out_dir.mkdir(parents=True, exist_ok=True)
    derive = edge_map if kind == "edges2photo" else gray_version

    rng = random.Random(f"restyle-make-pairs:{seed}")
    # Draw every pair's source and crop first, then visit each source once.
    plan = [(rng.randrange(len(sources)), rng.uniform(0.5, 1.0), rng.random(), rng.random()) for _ in range(count)]
    written: list[Path] = []
    for source_index in sorted({p[0] for p in plan}):
        photo = load_image(sources[source_index])
        for number, (index, scale, x, y) in enumerate(plan):
            if index != source_index:
                continue
            side = max(1, round(scale * min(photo.size)))
            left, top = round(x * (photo.width - side)), round(y * (photo.height - side))
            crop = photo.crop((left, top, left + side, top + side)).resize((size, size), Image.Resampling.BICUBIC)
            pair = Image.new("RGB", (2 * size, size))
            pair.paste(derive(crop), (0, 0))
            pair.paste(crop, (size, 0))
            path = out_dir / f"{number:05d}.jpg"
            # Full-resolution chroma (4:4:4): subsampled chroma is interpolated across the seam
            # when decoded, which would leak B's colours into the edge of a grey A.
            pair.save(path, quality=_JPEG_QUALITY, subsampling=0)
            written.append(path)
    written.sort()
    log.info("made %d %s pairs of %d px from %d photos in %s into %s",
             count, kind, size, len(sources), src_dir, out_dir)
    return written
