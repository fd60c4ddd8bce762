""""Put my photo into this model": a StyleGAN2 conversion optimises a latent of the model's
generator until the picture it makes looks like the user's photo (mlcore.stylegan2.project,
the paper's projector). Minutes per photo, so it runs on the slow queue and, like Gatys,
reports the image so far and stops when it is cancelled. The result is the projected image; the
latent (.npz) is kept with it, for mixing it with other styles."""
import logging
import tempfile
import threading
import time
from pathlib import Path

from django.conf import settings

log = logging.getLogger(__name__)

SPACES = ("w", "w+")

_distance_cache = {}  # (preference, VGG16 weights, device) -> (distance module, label), one per process
_distance_lock = threading.Lock()


def projection_settings(version):
    """(space, steps) of a projection with `version`: its config may name them
    ("projection_space", "projection_steps"); otherwise this server's settings say."""
    config = version.config or {}
    space = config.get("projection_space") or settings.RESTYLE_PROJECTION_SPACE
    if space not in SPACES:
        log.warning("%s names projection space %r; using %s", version, space, settings.RESTYLE_PROJECTION_SPACE)
        space = settings.RESTYLE_PROJECTION_SPACE
    steps = int(config.get("projection_steps") or settings.RESTYLE_PROJECTION_STEPS)
    return space, steps


def _distance():
    """The distance projection minimises and its label: LPIPS-VGG16 when this worker has its
    weights (and RESTYLE_PROJECTION_DISTANCE asks for it), else mlcore's labelled fallback."""
    from mlcore.metrics import projection_distance

    key = (settings.RESTYLE_PROJECTION_DISTANCE, settings.RESTYLE_VGG16_WEIGHTS, settings.RESTYLE_INFERENCE_DEVICE)
    with _distance_lock:
        if key not in _distance_cache:
            _distance_cache.clear()  # one VGG16 at a time is plenty
            _distance_cache[key] = projection_distance(
                key[0], vgg16_weights=key[1], device=settings.RESTYLE_INFERENCE_DEVICE
            )
        return _distance_cache[key]


def release_distance():
    with _distance_lock:
        _distance_cache.clear()


def project_photo(conversion, *, report, should_stop):
    """Project the conversion's photo into its StyleGAN2 model's latent space.

    `report(progress, detail, jpeg_or_None)` is called as it goes and `should_stop()` is polled;
    returns None when it was stopped, else an Outcome with the projected image and the latent.
    """
    from mlcore.images import open_image
    from mlcore.metrics import FALLBACK_LABEL
    from mlcore.stylegan2.generate import save_latent
    from mlcore.stylegan2.project import project

    from . import reproduce
    from .inference import Outcome, encode_thumbnail, inferer_for

    version = conversion.model_version
    sha256 = reproduce.checkpoint_hash(conversion)
    inferer, load_seconds = inferer_for(version)
    started = time.perf_counter()
    distance, distance_label = _distance()
    load_seconds += time.perf_counter() - started
    recorded = reproduce.recorded_family_settings(conversion)
    if recorded:  # a run again: the space and steps of the run it repeats
        space, steps = recorded["space"], int(recorded["steps"])
    else:
        space, steps = projection_settings(version)
    with conversion.photo.image.open("rb") as fh:
        photo = open_image(fh)

    def on_progress(update):
        if update.image is None:
            return  # only steps with an image are worth a write to the database
        report(update.step / update.steps, f"step {update.step} of {update.steps}",
               encode_thumbnail(update.image, side=1024))

    started = time.perf_counter()
    result = project(
        inferer.net, photo, space=space, steps=steps, distance=distance,
        progress_every=settings.RESTYLE_PROJECTION_PROGRESS_EVERY,
        on_progress=on_progress, should_stop=should_stop, seed=conversion.seed or 0,
    )
    run_seconds = time.perf_counter() - started
    if result.stopped == "cancelled":
        return None
    label = result.distance_label or distance_label
    log.info("conversion %s: projected into %s (%s, %d of %d steps, %s, final distance %.4f)", conversion.pk,
             version, space, result.steps_run, steps, result.stopped,
             result.distances[-1] if result.distances else float("nan"))
    with tempfile.TemporaryDirectory() as tmp:
        path = save_latent(
            Path(tmp) / "latent.npz", result.ws, space=space, model=version.art_model.slug,
            model_version=version.number, steps=result.steps_run, distance=label,
        )
        latent = Path(path or Path(tmp) / "latent.npz").read_bytes()
    # Only a caveat goes with the result: the fallback distance is not perceptual.
    caveat = label if label == FALLBACK_LABEL or label.startswith("fallback") else ""
    record = reproduce.run_settings(conversion, family_settings={"space": space, "steps": steps, "distance": label})
    caveat = "; ".join(filter(None, [caveat, reproduce.caveat(conversion, record)]))
    return Outcome(result.image, load_seconds, run_seconds, caveat, latent=latent, checkpoint_sha256=sha256,
                   run_settings=record)
