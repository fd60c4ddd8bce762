"""What a conversion task runs: loaded networks are cached per process, photos are translated
within the memory budget, Gatys jobs and StyleGAN2 projections report progress, results are
encoded for storage, and a failure is told to the user in words."""
import io
import logging
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from PIL import Image

from ..models import Family
from .checkpoints import StoredFileCorrupt
from .loaded import forget_all, loaded

log = logging.getLogger(__name__)

def inferer_for(version):
    """The loaded network of a ModelVersion and the seconds it took to load (0 when cached)."""
    from mlcore.inference import Inferer

    return loaded(version, kind="inferer", load=lambda path: Inferer.load(
        path, device=settings.RESTYLE_INFERENCE_DEVICE, dtype=settings.RESTYLE_INFERENCE_DTYPE
    ))


@dataclass(frozen=True)
class Outcome:
    image: object  # PIL image, the size its conversion asked for (StyleGAN2: the model's)
    load_seconds: float
    run_seconds: float
    label: str = ""  # a caveat to show with the result
    latent: bytes | None = None  # a StyleGAN2 projection's latent (.npz bytes)
    checkpoint_sha256: str = ""  # the checkpoint it loaded (translator.worker.reproduce)
    run_settings: dict | None = None  # what it ran with, for "Run again"


def convert(conversion, *, report, should_stop):
    """The conversion's result (an Outcome), or None when it was stopped early. `report` and
    `should_stop` matter to the slow, optimising families only (see paint_with_gatys)."""
    if conversion.art_model.family == Family.GATYS:
        return paint_with_gatys(conversion, report=report, should_stop=should_stop)
    if conversion.art_model.family == Family.STYLEGAN2:
        from .projection import project_photo

        return project_photo(conversion, report=report, should_stop=should_stop)
    return translate_photo(conversion)


def translate_photo(conversion):
    """A feed-forward network (fast style, pix2pix, U-GAT-IT) on the conversion's photo, at the
    size the conversion asked for (its run time includes that scaling): whole, in tiles when it
    would not fit in memory whole (mlcore.inference), or shrunk to fit for a model that cannot
    convert in tiles."""
    from mlcore.images import open_image

    from . import reproduce
    from .output_size import fit_long_side

    sha256 = reproduce.checkpoint_hash(conversion)
    inferer, load_seconds = inferer_for(conversion.model_version)
    with conversion.photo.image.open("rb") as fh:
        image = open_image(fh)
    started = time.perf_counter()
    image = fit_long_side(image, conversion.output_long_side)
    # A run again runs on the backend its original ran on: ONNX Runtime and eager torch agree
    # within 1/255, not bit for bit.
    backend = (reproduce.recorded_family_settings(conversion) or {}).get("backend")
    result = inferer.translate(image, max_bytes=settings.RESTYLE_CONVERSION_MEMORY_MB * 2**20,
                               backend=backend if backend in ("torch", "onnxruntime") else None)
    label = ""
    if result.size != image.size:
        # Models that convert in tiles keep the photo's size; only the others are shrunk.
        why = (" This model reads the whole picture at once, so it cannot convert it in parts."
               if not inferer.can_tile else "")
        label = (f"Converted at {result.width}×{result.height}, the largest this server converts with this "
                 f"model (the photo is {image.width}×{image.height}).{why}")
    # The record says which backend ran (a run again asks for the same one).
    record = reproduce.run_settings(conversion, family_settings={"backend": inferer.last_backend})
    label = "; ".join(filter(None, [label, reproduce.caveat(conversion, record)]))
    return Outcome(result, load_seconds, time.perf_counter() - started, label,
                   checkpoint_sha256=sha256, run_settings=record)


def release_memory():
    """After a failed allocation: drop the loaded networks and the GPU's cached blocks, so the
    worker goes on with its memory back."""
    import gc

    import torch

    from .projection import release_distance

    forget_all()
    with _cache_lock:
        _vgg_cache.clear()
    release_distance()
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def is_out_of_memory(exc):
    """Whether `exc` says an allocation failed (on the CPU or the GPU)."""
    import torch

    if isinstance(exc, (MemoryError, torch.OutOfMemoryError)):
        return True
    return isinstance(exc, RuntimeError) and ("can't allocate memory" in str(exc) or "out of memory" in str(exc))


def failure_reason(exc, *, conversion_id):
    """What to tell the user when converting raised `exc`, for the failures this server knows
    (logged here, and memory given back after an allocation failed); None for any other."""
    from mlcore.checkpoint import CheckpointError
    from mlcore.inference import MemoryBudgetError
    from mlcore.vgg import MissingVGGWeightsError

    from .reproduce import ReproduceRefused

    if isinstance(exc, ReproduceRefused):
        log.warning("conversion %s: not run again: %s", conversion_id, exc)
        return str(exc)
    if isinstance(exc, MemoryBudgetError):
        log.warning("conversion %s: %s (RESTYLE_CONVERSION_MEMORY_MB)", conversion_id, exc)
        return ("This model needs more memory than this server gives a conversion; an "
                "administrator has to raise RESTYLE_CONVERSION_MEMORY_MB or use a smaller model.")
    if isinstance(exc, (CheckpointError, StoredFileCorrupt)):
        log.error("conversion %s: the model file did not load", conversion_id, exc_info=exc)
        return ("The conversion failed: this model's network file could not be loaded. "
                "Please choose another model; an administrator has to reinstall this one.")
    if isinstance(exc, MissingVGGWeightsError):
        log.error("conversion %s: no VGG19 weights on this worker", conversion_id, exc_info=exc)
        return ("This model is not set up on the server yet (its VGG19 loss network is missing). "
                "An administrator has to provide RESTYLE_VGG19_WEIGHTS.")
    if is_out_of_memory(exc):
        log.warning("conversion %s ran out of memory: %s", conversion_id, exc)
        release_memory()
        return "The worker ran out of memory converting this photo. Try a smaller photo."
    return None


def loss_network_ready():
    """Whether this machine has the VGG19 that Gatys paints with (or is told to use random weights)."""
    from mlcore.vgg import imagenet_weights_on_disk

    return settings.RESTYLE_LOSS_NETWORK == "random" or imagenet_weights_on_disk(
        "vgg19", path=settings.RESTYLE_VGG19_WEIGHTS
    )


_vgg_cache = {}  # (weights, path, pooling, device) -> VGG19 features, one per worker process
_cache_lock = threading.Lock()


def _loss_network(pooling):
    from mlcore.vgg import load_vgg

    key = (settings.RESTYLE_LOSS_NETWORK, settings.RESTYLE_VGG19_WEIGHTS, pooling, settings.RESTYLE_INFERENCE_DEVICE)
    with _cache_lock:
        if key not in _vgg_cache:
            _vgg_cache.clear()  # one VGG19 (550 MB) at a time is plenty
            _vgg_cache[key] = load_vgg(
                "vgg19", key[0], path=key[1], pooling=pooling, device=settings.RESTYLE_INFERENCE_DEVICE
            )
        return _vgg_cache[key]


def paint_with_gatys(conversion, *, report, should_stop):
    """Gatys et al. optimisation of the photo towards the user's style image.

    `report(progress, detail, jpeg_or_None)` is called as it goes; `should_stop()` is polled and
    ends the job early, in which case None is returned. The loss network is this server's
    (RESTYLE_LOSS_NETWORK), whatever the version's settings say. The conversion's seed seeds
    the noise start; a run again paints with the settings recorded by the run it repeats.
    """
    from mlcore.gatys import GatysConfig
    from mlcore.gatys.inferer import run_gatys
    from mlcore.images import open_image

    from . import reproduce

    recorded = reproduce.recorded_family_settings(conversion)
    if recorded is not None and recorded.get("loss_network", settings.RESTYLE_LOSS_NETWORK) != settings.RESTYLE_LOSS_NETWORK:
        raise reproduce.ReproduceRefused(
            f"The conversion you ran again painted with the {recorded.get('loss_network')} loss network, and this "
            f"server now paints with {settings.RESTYLE_LOSS_NETWORK}, so the same pixels cannot be promised; it was not run."
        )
    base = recorded if recorded is not None else (conversion.model_version.config or {})
    seeded = {"seed": conversion.seed} if conversion.seed is not None else {}
    config = GatysConfig.from_dict({**base, **seeded, "loss_network": settings.RESTYLE_LOSS_NETWORK})
    started = time.perf_counter()
    vgg = _loss_network(config.pooling)
    load_seconds = time.perf_counter() - started
    with conversion.photo.image.open("rb") as fh:
        content = open_image(fh)
    with conversion.style_image.image.open("rb") as fh:
        style = open_image(fh)

    def on_progress(update):
        report(
            update.step / update.total_steps,
            f"step {update.step} of {update.total_steps}",
            encode_thumbnail(update.image, side=1024),
        )

    started = time.perf_counter()
    outcome = run_gatys(
        content,
        style,
        config,
        vgg=vgg,
        device=settings.RESTYLE_INFERENCE_DEVICE,
        on_progress=on_progress,
        should_stop=should_stop,
        progress_every=settings.RESTYLE_GATYS_PROGRESS_EVERY,
    )
    if outcome.stopped:
        return None
    # Gatys paints at the configured size; the result is then the size the conversion asked for.
    from ..output_sizes import fitted

    image = outcome.image.resize(fitted(*content.size, conversion.output_long_side), Image.Resampling.LANCZOS)
    record = reproduce.run_settings(conversion, family_settings=config.to_dict(), dtype="fp32")
    label = "; ".join([*outcome.labels, *filter(None, [reproduce.caveat(conversion, record)])])
    return Outcome(image, load_seconds, time.perf_counter() - started, label, run_settings=record)


def encode_result(image):
    """(bytes, extension): PNG when the image has transparency to keep, else a high-quality JPEG."""
    buf = io.BytesIO()
    if image.mode == "RGBA":
        image.save(buf, "PNG", optimize=False, compress_level=6)
        return buf.getvalue(), "png"
    return save_jpeg(image.convert("RGB"), quality=92, subsampling=0), "jpg"


def encode_thumbnail(image, side=None):
    side = side or settings.RESTYLE_THUMBNAIL_SIDE
    thumb = image.copy()
    thumb.thumbnail((side, side), Image.Resampling.LANCZOS)
    if thumb.mode == "RGBA":
        # JPEG has no alpha: show transparent parts on white, as the page background is.
        background = Image.new("RGB", thumb.size, "white")
        background.paste(thumb, mask=thumb.getchannel("A"))
        thumb = background
    return save_jpeg(thumb.convert("RGB"), quality=85)


def save_jpeg(image, **options):
    """JPEG bytes, with optimised Huffman tables when Pillow can: it sizes the buffer of an
    optimised JPEG at one byte per pixel, which a detailed image at high quality outgrows
    ("Suspension not allowed here"); such an image is saved without the optimisation."""
    try:
        buf = io.BytesIO()
        image.save(buf, "JPEG", optimize=True, **options)
    except OSError:
        buf = io.BytesIO()
        image.save(buf, "JPEG", **options)
    return buf.getvalue()
