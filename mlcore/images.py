"""The one image convention at mlcore boundaries, and every conversion to and from it.

Convention: an image tensor that crosses an mlcore boundary (inferers, trainers, data loaders,
losses) is ``float32``, shaped ``N x 3 x H x W`` (NCHW), RGB channel order, values in
``[0, 1]``. Anything else (a network's own 0..255 or -1..1 range, bf16/fp16, a device) is a
private detail of the code that needs it and is converted back before returning.

On the PIL side:
- ``open_image`` is how images enter mlcore from disk or an upload: it loads the pixels fully
  and applies the EXIF orientation, so a phone photo taken in portrait is portrait here too.
- ``split_alpha`` reduces any Pillow mode to 8-bit RGB plus an optional 8-bit alpha mask, so
  the networks only ever see RGB and the alpha can be put back on the result.
- ``pil_to_tensor`` / ``tensor_to_pil`` convert between 8-bit RGB and the tensor convention;
  the round trip is exact for 8-bit images.
"""

from __future__ import annotations

import os
from typing import BinaryIO

import numpy as np
import torch
from PIL import Image, ImageOps

__all__ = ["open_image", "split_alpha", "pil_to_tensor", "tensor_to_pil", "exif_orientation"]

_EXIF_ORIENTATION = 0x0112

# Pillow's 16-bit greyscale modes. Their values run 0..65535; Pillow's own convert("L")
# clips them at 255 instead of scaling, which turns a normal 16-bit photo white.
_SIXTEEN_BIT_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N"})


def open_image(source: str | os.PathLike | BinaryIO) -> Image.Image:
    """Open an image from a path or a binary file object, load it, apply EXIF orientation.

    The returned image holds its own pixels (the file can be closed or deleted) and carries no
    orientation tag any more. Pillow's errors (``PIL.UnidentifiedImageError``, an ``OSError``)
    propagate for data that is not an image.
    """
    with Image.open(source) as img:
        img.load()
        # exif_transpose returns a new image in every case, detached from the file.
        return ImageOps.exif_transpose(img)


def exif_orientation(img: Image.Image) -> int:
    """The EXIF Orientation value of ``img`` (1, "as stored", when it has none)."""
    try:
        return int(img.getexif().get(_EXIF_ORIENTATION, 1))
    except Exception:  # a broken EXIF block must not stop a conversion
        return 1


def split_alpha(img: Image.Image) -> tuple[Image.Image, Image.Image | None]:
    """Split any Pillow image into an 8-bit RGB image and an 8-bit alpha mask (or None).

    Alpha is returned when the image has transparency in any form: an alpha band (RGBA, LA,
    PA, RGBa, La), a palette with alpha, or a ``transparency`` entry (P, L and RGB images with
    a transparent colour). 16-bit greyscale (I;16, I;16B, ...) and 32-bit integer ``I`` images
    are taken as 0..65535 and scaled to 0..255; ``F`` (float) images follow Pillow's own
    convention of 0..255 and are clipped.
    """
    if img.mode in _SIXTEEN_BIT_MODES or img.mode == "I":
        return _grey_to_rgb(np.asarray(img).astype(np.float64) * (255.0 / 65535.0)), None
    if img.mode == "F":
        return _grey_to_rgb(np.asarray(img, dtype=np.float64)), None
    if img.has_transparency_data:
        if img.mode == "La":  # premultiplied LA: Pillow converts it only to LA
            img = img.convert("LA")
        rgba = img.convert("RGBA")
        return rgba.convert("RGB"), rgba.getchannel("A")
    if img.mode == "RGB":
        return img, None
    try:
        return img.convert("RGB"), None
    except ValueError as exc:  # e.g. LAB, which Pillow cannot convert without a profile
        raise ValueError(f"unsupported image mode {img.mode!r}: {exc}") from exc


def _grey_to_rgb(values: np.ndarray) -> Image.Image:
    grey = np.clip(np.rint(values), 0, 255).astype(np.uint8)
    return Image.fromarray(np.ascontiguousarray(np.stack([grey] * 3, axis=-1)))


def pil_to_tensor(img: Image.Image) -> torch.Tensor:
    """A PIL image as a ``1 x 3 x H x W`` float32 tensor in [0, 1] (alpha is dropped).

    Images that are not RGB go through ``split_alpha`` first.
    """
    if img.mode != "RGB":
        img, _ = split_alpha(img)
    array = np.array(img, dtype=np.uint8, copy=True)  # H x W x 3, writable for torch
    return torch.from_numpy(array).permute(2, 0, 1).unsqueeze(0).to(torch.float32).div_(255.0)


def tensor_to_pil(tensor: torch.Tensor) -> Image.Image:
    """A ``1 x 3 x H x W`` (or ``3 x H x W``) tensor in [0, 1] as an 8-bit RGB PIL image.

    Values are clamped to [0, 1] and rounded; any dtype or device is accepted and the caller's
    tensor is left untouched.
    """
    if tensor.dim() == 4:
        if tensor.shape[0] != 1:
            raise ValueError(f"expected a batch of one image, got a batch of {tensor.shape[0]}")
        tensor = tensor[0]
    if tensor.dim() != 3 or tensor.shape[0] != 3:
        raise ValueError(f"expected a 3 x H x W RGB tensor, got shape {tuple(tensor.shape)}")
    # clamp() and mul() allocate new tensors: the caller's tensor is never written to.
    scaled = tensor.detach().to(device="cpu", dtype=torch.float32).clamp(0.0, 1.0).mul(255.0)
    array = scaled.round().to(torch.uint8).permute(1, 2, 0).contiguous().numpy()
    return Image.fromarray(array)
