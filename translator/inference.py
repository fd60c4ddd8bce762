"""Running mlcore networks inside a worker: loaded networks are cached per process, results are
encoded for storage. mlcore stays ignorant of Django; this is the only place that joins them."""
import io
import logging
import threading
import time
from collections import OrderedDict

from django.conf import settings
from PIL import Image

log = logging.getLogger(__name__)

_cache = OrderedDict()  # (version id, checkpoint name) -> Inferer, least recently used first
_cache_lock = threading.Lock()


def inferer_for(version):
    """The loaded network of a ModelVersion and the seconds it took to load (0 when cached)."""
    from mlcore.inference import Inferer

    key = (version.pk, version.checkpoint.name)
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key], 0.0
        started = time.perf_counter()
        inferer = Inferer.load(
            version.checkpoint.path,
            device=settings.RESTYLE_INFERENCE_DEVICE,
            dtype=settings.RESTYLE_INFERENCE_DTYPE,
        )
        _cache[key] = inferer
        while len(_cache) > settings.RESTYLE_INFERER_CACHE_SIZE:
            _cache.popitem(last=False)
        return inferer, time.perf_counter() - started


def encode_result(image):
    """(bytes, extension): PNG when the image has transparency to keep, else a high-quality JPEG."""
    buf = io.BytesIO()
    if image.mode == "RGBA":
        image.save(buf, "PNG", optimize=False, compress_level=6)
        return buf.getvalue(), "png"
    image.convert("RGB").save(buf, "JPEG", quality=92, subsampling=0, optimize=True)
    return buf.getvalue(), "jpg"


def encode_thumbnail(image, side=None):
    side = side or settings.RESTYLE_THUMBNAIL_SIDE
    thumb = image.copy()
    thumb.thumbnail((side, side), Image.Resampling.LANCZOS)
    if thumb.mode == "RGBA":
        # JPEG has no alpha: show transparent parts on white, as the page background is.
        background = Image.new("RGB", thumb.size, "white")
        background.paste(thumb, mask=thumb.getchannel("A"))
        thumb = background
    buf = io.BytesIO()
    thumb.convert("RGB").save(buf, "JPEG", quality=85, optimize=True)
    return buf.getvalue()
