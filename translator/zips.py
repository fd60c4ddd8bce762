"""A zip of chosen conversions, streamed as it is written (zipstream-ng): nothing is built in
memory or on disk, so a zip of many large results costs the web process a few blocks at a time.

Entries are the results (and, when asked, the originals), stored uncompressed: JPEG, PNG and
WebP are compressed already, and ZIP_STORED lets the stream go out as fast as files are read.
Each file is opened only when the stream reaches it, from the local folder or the object store
(translator/storage_reads.py), and closed once read.
"""
import logging

from django.conf import settings
from zipstream import ZIP_STORED, ZipStream

from .files import STREAM_BLOCK_SIZE
from .storage_reads import open_stream
from .uploads import display_name

log = logging.getLogger(__name__)


class ZipRefused(Exception):
    """A zip that will not be made, with a message for the person who asked."""


def _stem(name):
    # display_name drops path parts and control characters, so no entry can name a folder.
    name = display_name(name)
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return stem.replace("/", "_").strip(" .") or "photo"


def _extension(field):
    ext = field.name.rsplit(".", 1)[-1].lower() if "." in field.name else "jpg"
    return "jpg" if ext == "jpeg" else ext


class _Names:
    """Entry names made unique the way a file manager does: "a.jpg", "a (2).jpg", ..."""

    def __init__(self):
        self.used = set()

    def unique(self, stem, ext):
        name, n = f"{stem}.{ext}", 1
        while name.lower() in self.used:
            n += 1
            name = f"{stem} ({n}).{ext}"
        self.used.add(name.lower())
        return name


def entries(conversions, *, originals=False):
    """[(entry name, FieldFile)] for the zip: each finished result as "<photo stem> - <model
    name>.<ext>", and with `originals` each photo once as "<photo stem>.<ext>"."""
    names, chosen, photos = _Names(), [], set()
    for conversion in conversions:
        stem = _stem(conversion.photo.original_name)
        if conversion.result:
            model = _stem(conversion.art_model.name)
            chosen.append((names.unique(f"{stem} - {model}", _extension(conversion.result)), conversion.result))
        if originals and conversion.photo_id not in photos:
            photos.add(conversion.photo_id)
            chosen.append((names.unique(stem, _extension(conversion.photo.image)), conversion.photo.image))
    return chosen


def check_selection(conversions, *, originals=False):
    """The entries of a zip that may be made of `conversions`, or ZipRefused saying why not."""
    limit = settings.RESTYLE_ZIP_MAX_ITEMS
    if not conversions:
        raise ZipRefused("Choose at least one of your photos to download.")
    if len(conversions) > limit:
        raise ZipRefused(f"A zip holds at most {limit} items; you chose {len(conversions)}. Download them in parts.")
    chosen = entries(conversions, originals=originals)
    if not chosen:
        raise ZipRefused("None of the chosen items has a result yet: there is nothing to put in a zip.")
    return chosen


def _read(field):
    """The file's bytes, block by block, opened only when the zip reaches it."""
    try:
        handle, _ = open_stream(field)
    except FileNotFoundError:
        # The row's file was lost from storage: the zip goes on without it (the name is logged;
        # the headers went out long ago, so there is no error to answer with).
        log.warning("zip: %s is missing from storage, left out", field.name)
        return
    with handle:
        while block := handle.read(STREAM_BLOCK_SIZE):
            yield block


def stream(chosen):
    """The zip's bytes as an iterator, for a StreamingHttpResponse."""
    zs = ZipStream(compress_type=ZIP_STORED)
    for name, field in chosen:
        zs.add(_read(field), name)
    return iter(zs)
