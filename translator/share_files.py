"""The files a share link serves: a result or thumbnail as the worker wrote it, and the photo
itself (only when the owner chose to include it) re-encoded without its metadata.

The worker makes results and thumbnails from the network's pixels (translator.worker.inference
encodes a new image), so they carry none of the photo's EXIF, XMP or comments; they go out as
stored. The stored photo is the uploaded file re-encoded (translator.uploads) and may keep the
camera's EXIF (GPS position, camera, time taken), so a shared original is decoded, turned
upright, and encoded again from its pixels alone. Its ICC colour profile is kept: it is what
makes a wide-gamut phone photo look right, and it says nothing about the person.
"""
import io
import logging

from django.http import Http404, HttpResponse
from PIL import Image, ImageOps

from .files import MEDIA_CSP, media_response
from .uploads import CONTENT_TYPES

log = logging.getLogger(__name__)

# Never cached by a shared cache or kept by the browser: a revoked link must stop showing at once.
SHARE_CACHE = "private, no-store"


def shared_file_response(conversion, kind, *, download=False):
    """The result or thumbnail of `conversion` as the worker stored it; Http404 if it has none."""
    field = {"result": conversion.result, "thumbnail": conversion.thumbnail}.get(kind)
    if not field:
        raise Http404(f"No {kind} file.")
    ext = field.name.rsplit(".", 1)[-1]
    # Named after the model only: the photo's own file name may say more than its owner shares.
    return media_response(
        field, what=f"shared {kind}", cache=SHARE_CACHE, download=download,
        filename=f"restyle-{conversion.art_model.slug}.{ext}",
    )


def clean_photo_bytes(photo):
    """(bytes, content type) of `photo` upright and re-encoded from its pixels: no EXIF, XMP,
    comment or text chunks survive, only the ICC profile of an RGB image."""
    with photo.image.open("rb") as handle:
        with Image.open(handle) as opened:
            upright = ImageOps.exif_transpose(opened)
            upright.load()
    icc = upright.info.get("icc_profile") if upright.mode in ("RGB", "RGBA") else None
    has_alpha = upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info
    fmt = photo.format.upper()
    mode = "RGBA" if has_alpha and fmt != "JPEG" else "RGB"
    clean = upright.convert(mode)
    # convert() copies the source's info (EXIF, XMP, comment, dpi...); encoders read some of it.
    clean.info = {}
    options = {"icc_profile": icc} if icc else {}
    buf = io.BytesIO()
    if fmt == "JPEG":
        clean.save(buf, "JPEG", quality=90, **options)
    elif fmt == "WEBP":
        clean.save(buf, "WEBP", quality=90, **options)
    else:
        fmt = "PNG"
        clean.save(buf, "PNG", compress_level=6, **options)
    return buf.getvalue(), CONTENT_TYPES.get(fmt, "image/png")


def shared_original_response(conversion, *, download=False):
    """The conversion's photo without its metadata (clean_photo_bytes); Http404 when the file is
    gone from storage."""
    try:
        body, content_type = clean_photo_bytes(conversion.photo)
    except FileNotFoundError:
        log.warning("the shared original %s is missing from storage", conversion.photo.image.name)
        raise Http404("No original file.")
    response = HttpResponse(body, content_type=content_type)
    ext = {"image/jpeg": "jpg", "image/webp": "webp"}.get(content_type, "png")
    disposition = "attachment" if download else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="restyle-original.{ext}"'
    response["Cache-Control"] = SHARE_CACHE
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = MEDIA_CSP
    return response
