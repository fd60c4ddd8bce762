"""What a generation task runs: a StyleGAN2 generator loaded once per process, a Generation
row's ws worked out (from its seed, or two sources' ws mixed), the image synthesised with the
recorded noise mode, and the PNG, thumbnail and latent (.npz of ws) encoded for storage.

Seeds mean what they mean in NVlabs generate.py (mlcore.stylegan2.generate.z_from_seed), so the
same seed, truncation and noise mode "const" give the same pixels, here and in their tools.
"""
import io
import logging
import os
import tempfile
import time
from dataclasses import dataclass

from django.conf import settings

from .checkpoints import StoredFileCorrupt
from .inference import is_out_of_memory, release_memory
from .loaded import loaded

log = logging.getLogger(__name__)

class SourceUnavailable(Exception):
    """A mix source that is gone or does not fit the generator; the message is for the user."""


def generator_for(version):
    """The loaded generator of a ModelVersion and the seconds it took to load (0 when cached)."""
    from mlcore.stylegan2.generate import load_generator

    return loaded(version, kind="generator",
                  load=lambda path: load_generator(path, device=settings.RESTYLE_INFERENCE_DEVICE))


@dataclass(frozen=True)
class Made:
    image: object  # PIL image, side x side
    ws: object  # torch tensor [1, num_ws, w_dim] on the CPU
    load_seconds: float
    run_seconds: float


def make(generation):
    """The image and ws of a Generation row (with its model_version and sources loaded)."""
    import torch
    from mlcore.stylegan2 import generate as sg

    G, load_seconds = generator_for(generation.model_version)
    started = time.perf_counter()
    with torch.no_grad():
        if generation.kind == generation.Kind.MIX:
            ws = sg.mix(_source_ws(G, generation, "a"), _source_ws(G, generation, "b"), generation.layers)
            image = sg.to_pil(sg.synthesize(G, ws, noise_mode=generation.noise_mode))[0]
        else:
            ws = sg.ws_from_seeds(G, [generation.seed], truncation_psi=generation.truncation)
            # generate() draws even "random" noise from the seed, so a seed row is repeatable in every mode.
            image = sg.generate(G, [generation.seed], truncation_psi=generation.truncation,
                                noise_mode=generation.noise_mode)[0]
    return Made(image, ws.detach().to("cpu"), load_seconds, time.perf_counter() - started)


def _source_ws(G, generation, side):
    """ws [1, num_ws, w_dim] of one side of a mix: a seed's (with the mix's truncation), or the
    stored latent of the generation or projected photo it names."""
    from mlcore.stylegan2 import generate as sg

    seed = getattr(generation, f"source_{side}_seed")
    if seed is not None:
        return sg.ws_from_seeds(G, [seed], truncation_psi=generation.truncation)
    source = getattr(generation, f"source_{side}_generation") or getattr(generation, f"source_{side}_conversion")
    if source is None or not source.latent:
        raise SourceUnavailable("One of the images this mix was made from was deleted before it ran.")
    return _ws_of_file(G, source.latent)


def _ws_of_file(G, field):
    import torch
    from mlcore.stylegan2.generate import load_latent

    # load_latent reads a path; the storage may be an object store, so copy it out first.
    fd, path = tempfile.mkstemp(suffix=".npz")
    try:
        with os.fdopen(fd, "wb") as out, field.open("rb") as src:
            out.write(src.read())
        ws, _meta = load_latent(path)
    except FileNotFoundError:
        raise SourceUnavailable("The latent of an image this mix was made from is missing from storage.")
    except ValueError as exc:  # not a latent file mlcore can read
        log.warning("an unreadable latent %s: %s", field.name, exc)
        raise SourceUnavailable("The latent of an image this mix was made from could not be read.")
    finally:
        os.unlink(path)
    ws = ws.to(torch.float32)
    if ws.ndim == 3 and ws.shape[1] == 1:  # one w for every layer (a W-space latent)
        ws = ws.repeat(1, G.num_ws, 1)
    if ws.ndim != 3 or tuple(ws.shape[1:]) != (G.num_ws, G.w_dim):
        raise SourceUnavailable("A latent this mix was made from does not fit this model.")
    return ws[:1].to(G.mapping.w_avg.device)


def encode_png(image):
    buf = io.BytesIO()
    image.save(buf, "PNG", compress_level=6)
    return buf.getvalue()


def encode_latent(ws, **meta):
    """The .npz bytes of `ws` and its metadata (mlcore.stylegan2.generate.save_latent's format)."""
    from mlcore.stylegan2.generate import save_latent

    fd, path = tempfile.mkstemp(suffix=".npz")
    os.close(fd)
    try:
        # Empty values (a mix has no seed) are left out: every stored value is a plain number or text.
        save_latent(path, ws, **{k: v for k, v in meta.items() if v not in (None, "")})
        with open(path, "rb") as fh:
            return fh.read()
    finally:
        os.unlink(path)


def failure_reason(exc, *, generation_id):
    """What to tell the user when making an image raised `exc`, for failures this server knows;
    None for any other."""
    from mlcore.checkpoint import CheckpointError

    if isinstance(exc, SourceUnavailable):
        return str(exc)
    if isinstance(exc, (CheckpointError, StoredFileCorrupt)):
        log.error("generation %s: the model file did not load", generation_id, exc_info=exc)
        return ("This model's network file could not be loaded. Please choose another model; "
                "an administrator has to reinstall this one.")
    if is_out_of_memory(exc):
        log.warning("generation %s ran out of memory: %s", generation_id, exc)
        release_memory()
        return "The worker ran out of memory making this image. Please try again."
    return None
