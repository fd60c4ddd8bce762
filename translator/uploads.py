"""Checking an uploaded image before anything is stored or queued.

The web form and the REST API both call `validate_image_upload`, so they accept and refuse the
same files with the same words.
"""
import warnings
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from PIL import Image, ImageFile, UnidentifiedImageError

ACCEPTED_FORMATS = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WebP"}
ACCEPTED_WORDS = "a JPEG, PNG or WebP image"

# A truncated file is an error, never a silently grey-padded image.
ImageFile.LOAD_TRUNCATED_IMAGES = False


@dataclass(frozen=True)
class CheckedImage:
    format: str  # Pillow's name: JPEG, PNG or WEBP
    width: int
    height: int
    size_bytes: int


def _megabytes(n):
    if n < 1024 * 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n / (1024 * 1024):.1f} MB"


def _megapixels(n):
    return f"{n / 1_000_000:.1f} megapixels"


def validate_image_upload(upload):
    """Return what the file is, or raise ValidationError with a message for the person."""
    size = upload.size or 0
    if size == 0:
        raise ValidationError("The file is empty. Choose a photo to upload.", code="empty")
    limit = settings.RESTYLE_MAX_UPLOAD_BYTES
    if size > limit:
        raise ValidationError(
            f"The file is {_megabytes(size)}; the limit is {_megabytes(limit)}.", code="too_large"
        )

    upload.seek(0)
    try:
        # Opening reads only the header: the format comes from the bytes, never the file name,
        # and the dimensions are known before a single pixel is decoded.
        with warnings.catch_warnings():
            # Our own pixel limit below is the guard; Pillow's error stays as the backstop for
            # headers so large that even opening refuses them.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(upload) as image:
                fmt = image.format
                width, height = image.size
                if fmt not in ACCEPTED_FORMATS:
                    raise ValidationError(
                        f"{fmt} files are not accepted. Upload {ACCEPTED_WORDS}.", code="format"
                    )
                _check_dimensions(width, height)
                # Decode every pixel: catches truncated and corrupt files now, not in the worker.
                image.load()
    except ValidationError:
        raise
    except Image.DecompressionBombError:
        raise ValidationError(
            f"The image is too large to process; the limit is "
            f"{_megapixels(settings.RESTYLE_MAX_PIXELS)}.",
            code="too_many_pixels",
        )
    except UnidentifiedImageError:
        raise ValidationError(
            f"This file is not an image we can read. Upload {ACCEPTED_WORDS}.", code="not_image"
        )
    except (OSError, SyntaxError, ValueError) as exc:
        # Pillow raises these for truncated or corrupt data.
        raise ValidationError(
            f"The image is damaged or incomplete and cannot be read ({exc}).", code="corrupt"
        )
    finally:
        upload.seek(0)
    return CheckedImage(format=fmt, width=width, height=height, size_bytes=size)


def _check_dimensions(width, height):
    pixels = width * height
    if pixels > settings.RESTYLE_MAX_PIXELS:
        raise ValidationError(
            f"The image is {width}×{height} pixels ({_megapixels(pixels)}); the limit is "
            f"{_megapixels(settings.RESTYLE_MAX_PIXELS)}.",
            code="too_many_pixels",
        )
    smallest = settings.RESTYLE_MIN_SIDE
    if min(width, height) < smallest:
        raise ValidationError(
            f"The image is {width}×{height} pixels; each side must be at least {smallest} pixels.",
            code="too_small",
        )
