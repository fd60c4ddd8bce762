"""Checking an uploaded image before anything is stored or queued, and cleaning it.

The web form and the REST API both call `clean_image_upload`, so they accept and refuse the
same files with the same words. What is stored is never the uploaded bytes: the image is
decoded, turned upright and encoded again, so nothing the client appended (a script, a ZIP)
and no metadata (EXIF with GPS, XMP, comments) survives. The dataset importer only needs the
check and calls `validate_image_upload`.
"""
import logging
import tempfile
import unicodedata
import warnings
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from PIL import ExifTags, Image, ImageFile, JpegImagePlugin, UnidentifiedImageError

log = logging.getLogger(__name__)

ACCEPTED_FORMATS = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WebP"}
ACCEPTED_WORDS = "a JPEG, PNG or WebP image"
CONTENT_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}

# A truncated file is an error, never a silently grey-padded image.
ImageFile.LOAD_TRUNCATED_IMAGES = False

# Pillow's transposition for each EXIF orientation (as in ImageOps.exif_transpose).
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
# What each encoder can write; anything else is converted first (it does not occur for images
# Pillow decodes from these formats today, but a new Pillow must not turn that into a 500).
_WRITABLE_MODES = {
    "JPEG": {"L", "RGB", "CMYK"},
    "PNG": {"1", "L", "LA", "P", "RGB", "RGBA", "I;16", "I;16B"},
    "WEBP": {"RGB", "RGBA"},
}
JPEG_QUALITY = 95
WEBP_QUALITY = 95
PNG_COMPRESS_LEVEL = 3


@dataclass(frozen=True)
class CheckedImage:
    format: str  # Pillow's name: JPEG, PNG or WEBP
    width: int  # upright: after the EXIF orientation when `content` is set
    height: int
    size_bytes: int  # of `content` when set, else of the upload
    # The re-encoded image to store (clean_image_upload only): a django File, in memory for
    # small images and in a temporary file past FILE_UPLOAD_MAX_MEMORY_SIZE.
    content: File | None = None


def _megabytes(n):
    if n < 1024 * 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n / (1024 * 1024):.1f} MB"


def _megapixels(n):
    return f"{n / 1_000_000:.1f} megapixels"


def validate_image_upload(upload):
    """Return what the file is, or raise ValidationError with a message for the person."""
    size = _check_size(upload)
    image = _decoded(upload)
    try:
        return CheckedImage(format=image.format, width=image.width, height=image.height, size_bytes=size)
    finally:
        _release(image)


def clean_image_upload(upload):
    """Check the upload as `validate_image_upload` does, then re-encode it for storing.

    Returns a CheckedImage whose `content` holds the new file: upright (the EXIF orientation
    applied), in the upload's own format, with its ICC colour profile and nothing else of its
    metadata. Only one decoded copy of the image is held (two, briefly, while it is rotated).
    """
    _check_size(upload)
    image = _decoded(upload)
    try:
        fmt = image.format
        options = _encoder_options(image, upload)
        image = _writable(_upright(image), fmt, options)
        try:
            content = _encode(image, fmt, options)
        except (OSError, ValueError) as exc:
            # What the source carried (an ICC profile too long for a JPEG, say) cannot be
            # written again; logged in full, since it may also be a fault of ours.
            log.warning("could not re-encode an upload", exc_info=True)
            raise ValidationError(
                f"The image is damaged or incomplete and cannot be read ({exc}).", code="corrupt"
            )
        return CheckedImage(format=fmt, width=image.width, height=image.height, size_bytes=content.size, content=content)
    finally:
        _release(image)
        upload.seek(0)


def display_name(name, limit=255):
    """The client's file name made fit to show: its last path part, printable characters only,
    at most `limit` long (the extension kept). It is a label: no file is ever named after it."""
    name = unicodedata.normalize("NFC", str(name or ""))
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    # Category C: control characters (NUL, newlines), format characters (right-to-left
    # overrides that make "gpj.exe" read as "exe.jpg"), surrogates, private use, unassigned.
    name = "".join(ch for ch in name if not unicodedata.category(ch).startswith("C"))
    name = " ".join(name.split()).strip(". ")
    if len(name) > limit:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 16:
            name = f"{stem[: limit - len(ext) - 1].rstrip('. ')}.{ext}"
        else:
            name = name[:limit].rstrip(". ")
    return name


def _check_size(upload):
    size = upload.size or 0
    if size == 0:
        raise ValidationError("The file is empty. Choose a photo to upload.", code="empty")
    limit = settings.RESTYLE_MAX_UPLOAD_BYTES
    if size > limit:
        raise ValidationError(
            f"The file is {_megabytes(size)}; the limit is {_megabytes(limit)}.", code="too_large"
        )
    return size


def _decoded(upload):
    """The upload opened and every pixel decoded (the caller closes it), or ValidationError."""
    upload.seek(0)
    image = None
    try:
        # Opening reads only the header: the format comes from the bytes, never the file name,
        # and the dimensions are known before a single pixel is decoded.
        with warnings.catch_warnings():
            # Our own pixel limit below is the guard; Pillow's error stays as the backstop for
            # headers so large that even opening refuses them.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(upload)
            if image.format not in ACCEPTED_FORMATS:
                raise ValidationError(
                    f"{image.format} files are not accepted. Upload {ACCEPTED_WORDS}.", code="format"
                )
            _check_dimensions(*image.size)
            # Decode every pixel: catches truncated and corrupt files now, not in the worker.
            image.load()
        return image
    except ValidationError:
        _release(image)
        raise
    except Image.DecompressionBombError:
        _release(image)
        raise ValidationError(
            f"The image is too large to process; the limit is "
            f"{_megapixels(settings.RESTYLE_MAX_PIXELS)}.",
            code="too_many_pixels",
        )
    except UnidentifiedImageError:
        _release(image)
        raise ValidationError(
            f"This file is not an image we can read. Upload {ACCEPTED_WORDS}.", code="not_image"
        )
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        _release(image)
        # Pillow raises these for truncated or corrupt data (ValueError also for a PNG text
        # chunk that would decompress past Pillow's limit).
        raise ValidationError(
            f"The image is damaged or incomplete and cannot be read ({exc}).", code="corrupt"
        )
    finally:
        upload.seek(0)


def _release(image):
    """Free the decoded pixels. Pillow's ImageFile.close would also close the upload, which is
    the caller's: first drop the file pointer as leaving `with Image.open(upload)` does."""
    if image is None:
        return
    if isinstance(image, ImageFile.ImageFile):
        image.__exit__()
    Image.Image.close(image)


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


def _orientation(image):
    try:
        return int(image.getexif().get(ExifTags.Base.Orientation, 1))
    except Exception:  # noqa: BLE001  Pillow raises many types for a mangled EXIF block
        # Pixels that decode are a photo; a damaged EXIF block is only not believed.
        log.info("unreadable EXIF in an upload; its orientation is ignored", exc_info=True)
        return 1


def _upright(image):
    method = _UPRIGHT.get(_orientation(image))
    if method is None:
        return image
    turned = image.transpose(method)
    _release(image)  # the unturned pixels go before anything else is allocated
    return turned


def _encoder_options(image, upload):
    """How to write the image again, read from the source before it is transposed.

    JPEG: quality 95; chroma 4:2:0 only when the source was 4:2:0, otherwise 4:4:4, so
    re-encoding never throws away colour detail the source had (4:2:2 goes up to 4:4:4).
    PNG: lossless, as always. WebP: lossless when the source was (screenshots, drawings: a
    lossy pass would smear them), quality 95 otherwise (a lossless copy of a lossy photo is
    several times larger and no better).
    """
    options = {}
    icc = image.info.get("icc_profile")
    if icc:  # colour, not privacy: without it a wide-gamut photo looks washed out
        options["icc_profile"] = icc
    if image.format == "JPEG":
        sampling = JpegImagePlugin.get_sampling(image)
        options.update(quality=JPEG_QUALITY, subsampling="4:2:0" if sampling == 2 else "4:4:4")
        # Pillow copies a JPEG's comment and XMP to the new file unless told otherwise.
        options.update(exif=b"", comment=b"", xmp=b"")
    elif image.format == "PNG":
        # zlib level 3, not Pillow's 6: on a 16 MP photo-like PNG 1.3 s instead of 5.3 s, and
        # 8% smaller (12.6 MB against 13.7); on a screenshot-like one as small (1.04 against
        # 1.07 MB). Lossless either way.
        options["compress_level"] = PNG_COMPRESS_LEVEL
        if "transparency" in image.info and image.mode in ("1", "L", "P", "RGB", "I;16"):
            options["transparency"] = image.info["transparency"]
        # No pnginfo: text chunks (comments, XMP, "Raw profile" EXIF) are not written.
    elif image.format == "WEBP":
        if _webp_is_lossless(upload):
            options["lossless"] = True
        else:
            options["quality"] = WEBP_QUALITY
        options.update(exif=b"", xmp=b"")
    return options


def _webp_is_lossless(upload):
    """True when the WebP's (first) image is stored lossless: a VP8L chunk comes before any VP8
    one. Pillow does not say, so walk the RIFF chunks (headers only)."""
    upload.seek(0)
    if upload.read(12)[8:12] != b"WEBP":
        return False
    while True:
        header = upload.read(8)
        if len(header) < 8:
            return False
        kind, length = header[:4], int.from_bytes(header[4:], "little")
        if kind == b"VP8L":
            return True
        if kind == b"VP8 ":
            return False
        if kind == b"ANMF":  # an animation frame: 16 bytes of frame header, then its chunks
            upload.seek(16, 1)
            continue
        upload.seek(length + (length & 1), 1)


def _writable(image, fmt, options):
    if image.mode in _WRITABLE_MODES[fmt]:
        return image
    options.pop("transparency", None)
    alpha = fmt != "JPEG" and ("A" in image.getbands() or "transparency" in image.info)
    converted = image.convert("RGBA" if alpha else "RGB")
    _release(image)
    return converted


def _encode(image, fmt, options):
    # Small images stay in memory; a large one spools to disk instead of sitting in RAM
    # beside its decoded pixels.
    spool = tempfile.SpooledTemporaryFile(
        max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE, dir=settings.FILE_UPLOAD_TEMP_DIR
    )
    image.save(spool, fmt, **options)
    content = File(spool, name=f"upload.{fmt.lower()}")
    content.size = spool.tell()
    spool.seek(0)
    return content
