"""Serving stored images (a conversion's original, result, thumbnail; a model's preview) and a
StyleGAN2 projection's latent (.npz): pages and API share this.

Every file goes out with a Content-Type we chose from the stored format (never sniffed, never
the client's), `nosniff`, and a Content-Security-Policy of its own that lets a browser show the
image and nothing else: opened directly, a file that somehow held markup could run no script and
load nothing. The header is set here so it holds whatever policy the pages have; a page-level
CSP middleware (django-csp 4) leaves a response that already carries one alone.

From the object store a file is streamed as it arrives (translator/storage_reads.py): the first
bytes go out before the last are fetched, and no copy of it is held in memory or on disk.
"""
import logging
import unicodedata
from urllib.parse import quote

from django.http import FileResponse, Http404

from .storage_reads import open_stream
from .uploads import CONTENT_TYPES

log = logging.getLogger(__name__)

MEDIA_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
# Our own files' extensions (photos are named after their format, results by the worker).
_EXTENSION_TYPES = {"jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp",
                    "npz": "application/octet-stream"}
# Bytes per read of a stream from the store: FileResponse's 4 KiB would mean a write to the
# client (and a read from the store's socket) per 4 KiB; a local file goes out through the
# server's file wrapper instead.
STREAM_BLOCK_SIZE = 64 * 1024


def conversion_file_response(conversion, kind, *, download=False):
    """A streaming response for one of the conversion's files; Http404 if it does not exist."""
    photo = {"original": conversion.photo, "style": conversion.style_image}.get(kind)
    field = {
        "original": conversion.photo.image,
        "style": conversion.style_image.image if conversion.style_image else None,
        "result": conversion.result,
        "thumbnail": conversion.thumbnail,
        "intermediate": conversion.intermediate,
        "latent": conversion.latent,
    }.get(kind)
    if not field:
        raise Http404(f"This conversion has no {kind} file (it is {conversion.get_status_display().lower()}).")
    stem = (conversion.photo.original_name.rsplit(".", 1)[0] or "photo")[:80]
    ext = field.name.rsplit(".", 1)[-1]
    ext = "jpg" if ext == "jpeg" else ext  # photos are stored as .jpeg; people know .jpg
    if kind == "original":
        name = f"{stem}.{ext}"
    elif kind == "style":
        name = conversion.style_image.original_name or f"style.{ext}"
    elif kind == "latent":
        name = f"{stem}-{conversion.art_model.slug}-latent.{ext}"
        download = True  # data for mlcore (or NVlabs' tools), not something a browser shows
    elif kind == "result":
        # What a person saves: named after the photo and the model, as they read them on the page.
        name = f"{stem} - {conversion.art_model.name}.{ext}"
    else:
        name = f"{stem} - {conversion.art_model.name} ({kind}).{ext}"
    # The progress image changes under the same URL while a slow job runs.
    cache = "private, no-cache" if kind == "intermediate" else "private, max-age=3600"
    content_type = CONTENT_TYPES.get(photo.format) if photo else None
    return media_response(
        field, what=f"{kind} file", cache=cache, content_type=content_type, download=download, filename=name
    )


def media_response(field, *, what, cache, content_type=None, download=False, filename=None):
    """A FieldFile as an image response with our headers; Http404 when the file is gone from
    storage (a row whose file was lost is a missing thing, not a server error)."""
    try:
        handle, length = open_stream(field)
    except FileNotFoundError:
        log.warning("the %s %s is missing from storage", what, field.name)
        raise Http404(f"The {what} is missing: it is no longer in storage.")
    content_type = content_type or _EXTENSION_TYPES.get(field.name.rsplit(".", 1)[-1].lower(), "application/octet-stream")
    response = FileResponse(handle, as_attachment=download, filename=filename or "", content_type=content_type)
    if filename:
        response["Content-Disposition"] = content_disposition(filename, download=download)
    if length is not None:  # a stream has no size FileResponse can find: the store's answer gives it
        response["Content-Length"] = length
        response.block_size = STREAM_BLOCK_SIZE
    response["Cache-Control"] = cache
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = MEDIA_CSP
    return response


def generation_file_response(generation, kind, *, download=False):
    """A generated image's PNG, thumbnail or latent (.npz of its ws); Http404 if it has none."""
    field = {"image": generation.image, "thumbnail": generation.thumbnail, "latent": generation.latent}.get(kind)
    if not field:
        raise Http404(f"This generated image has no {kind} file (it is {generation.get_status_display().lower()}).")
    stem = f"{generation.art_model.slug}-" + (f"seed{generation.seed}" if generation.seed is not None else f"mix-{generation.id.hex[:8]}")
    ext = field.name.rsplit(".", 1)[-1]
    content_type = "application/octet-stream" if kind == "latent" else None
    return media_response(
        field, what=f"{kind} file", cache="private, max-age=3600", content_type=content_type,
        download=download or kind == "latent", filename=f"{stem}.{ext}",
    )


def content_disposition(filename, *, download):
    """The Content-Disposition of a file named `filename`, whatever characters it holds.

    RFC 6266: `filename*` carries the name in UTF-8, percent-encoded (RFC 5987), for every
    browser of the last decade; `filename` is an ASCII stand-in for older clients (accents
    dropped, anything else an underscore). Control characters and path separators, which a
    client could take for a folder, are removed from both; a name left empty becomes "image".
    """
    clean = "".join(
        ch for ch in unicodedata.normalize("NFC", filename) if unicodedata.category(ch)[0] != "C" and ch not in "/\\"
    ).strip().lstrip(".")
    clean = clean or "image"
    fallback = "".join(
        ch if " " <= ch <= "~" and ch not in '"\\%' else "_"
        for ch in unicodedata.normalize("NFKD", clean) if not unicodedata.combining(ch)
    )
    kind = "attachment" if download else "inline"
    return f'{kind}; filename="{fallback}"; filename*=UTF-8\'\'{quote(clean, safe="")}'
