"""Images from a StyleGAN2 generator: seeds, truncation, style mixing, interpolation, latents.

    G = load_generator("faces.safetensors")
    images = generate(G, [0, 1, 2], truncation_psi=0.7)           # PIL images, the same every time
    ws = ws_from_seeds(G, [1, 2])                                 # N x num_ws x w_dim
    mixed = mix(ws, ws_from_seeds(G, [7]), "coarse")              # seed 7's pose, seeds 1 and 2's detail
    save_latent("a.npz", ws[:1], seed=1, truncation=0.7, space="w")

Seeds mean what they mean in NVlabs stylegan2-ada-pytorch ``generate.py``: z is
``numpy.random.RandomState(seed).randn(1, z_dim)``, so a seed picked in their tools gives the
same image here from the same weights. 8-bit output is theirs too, ``(x * 127.5 + 128)`` clamped
to 0..255 and truncated (not rounded) to uint8. With ``noise_mode="random"`` each image draws
its noise from a torch generator seeded by its seed, so even "random" noise repeats per seed
(NVlabs draws it from the global RNG, so theirs does not).

Which ws drive which resolution, and the coarse, middle and fine ranges (``ws_resolutions``,
``layer_ranges``), are mlcore.stylegan2.layers' rule, torch-free so the site shares it: coarse
4-8 px (pose, face shape), middle 16-32 px (features), fine 64 px and up (colour, micro detail).
A 32 px model has no fine layers: its "fine" range is empty.

Latents are ``.npz`` files readable by numpy alone (no pickle): ``w`` holds N x num_ws x w_dim
float32, the key NVlabs' projector writes and their ``generate.py --projected-w`` reads, and
``meta`` a JSON object (model sha256, seed, truncation, space...).
"""

from __future__ import annotations

import io
import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from mlcore.checkpoint import CheckpointError, load_model
from mlcore.fileio import atomic_write
from mlcore.stylegan2 import layers as layers_
from mlcore.stylegan2.networks import NOISE_MODES, Generator, build

__all__ = [
    "LAYER_RANGE_NAMES",
    "generate",
    "interpolate",
    "layer_ranges",
    "load_generator",
    "load_latent",
    "mix",
    "mixing_grid",
    "resolve_layers",
    "save_latent",
    "save_webp",
    "synthesize",
    "to_pil",
    "to_uint8",
    "ws_from_seeds",
    "ws_resolutions",
    "z_from_seed",
]

log = logging.getLogger(__name__)

FAMILY = "stylegan2"
LAYER_RANGE_NAMES = layers_.LAYER_RANGE_NAMES
# numpy's RandomState takes seeds of 32 bits.
MAX_SEED = 2**32 - 1


def load_generator(path: str | os.PathLike, *, device: str | torch.device = "cpu") -> Generator:
    """The generator of a Restyle checkpoint of family stylegan2, in eval mode and without
    gradients; ``CheckpointError`` (a ValueError) for a file of another family."""
    checkpoint = load_model(path, device="cpu")
    if checkpoint.family != FAMILY:
        raise CheckpointError(f"{path}: a {checkpoint.family} checkpoint, not a StyleGAN2 generator "
                              f"(generate, mix and project need a stylegan2 model)")
    G = build(checkpoint.config)
    G.load_state_dict(checkpoint.state_dict, strict=True)
    G = G.eval().requires_grad_(False).to(device)
    log.info("loaded StyleGAN2 generator %r (%d px) from %s on %s", checkpoint.meta.get("name", ""),
             G.img_resolution, path, device)
    return G


def _device(G: Generator) -> torch.device:
    return next(G.parameters()).device


def _check_seed(seed: int) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed <= MAX_SEED:
        raise ValueError(f"a seed is a whole number from 0 to {MAX_SEED}; got {seed!r}")
    return int(seed)


def z_from_seed(seed: int, z_dim: int) -> torch.Tensor:
    """1 x z_dim float32: ``numpy.random.RandomState(seed).randn(1, z_dim)``, as NVlabs generate.py."""
    return torch.from_numpy(np.random.RandomState(_check_seed(seed)).randn(1, z_dim).astype(np.float32))


def ws_from_seeds(G: Generator, seeds: Sequence[int], *, truncation_psi: float = 1.0,
                  truncation_cutoff: int | None = None) -> torch.Tensor:
    """N x num_ws x w_dim: each seed's z through the mapping network, truncated towards w_avg
    (psi 1: none; 0: w_avg itself), on G's device."""
    if len(seeds) == 0:
        raise ValueError("no seeds given")
    device = _device(G)
    with torch.no_grad():
        # One seed at a time: a batched matmul rounds differently with the batch size, and a
        # seed's w must not depend on which other seeds came with it (the mapping is cheap).
        return torch.cat([G.mapping(z_from_seed(seed, G.z_dim).to(device), None, truncation_psi=truncation_psi,
                                    truncation_cutoff=truncation_cutoff) for seed in seeds])


def synthesize(G: Generator, ws: torch.Tensor, *, noise_mode: str = "const") -> torch.Tensor:
    """N x C x R x R images in about -1..1 from N x num_ws x w_dim ws (no gradients)."""
    if noise_mode not in NOISE_MODES:
        raise ValueError(f"noise mode must be one of {', '.join(NOISE_MODES)}; got {noise_mode!r}")
    with torch.no_grad():
        return G.synthesis(ws.to(_device(G)), noise_mode=noise_mode)


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """N x C x H x W in -1..1 -> N x H x W x C uint8 on the CPU: ``(x * 127.5 + 128)`` clamped to
    0..255, as NVlabs generate.py (the cast truncates)."""
    if images.ndim != 4:
        raise ValueError(f"expected N x C x H x W images; got {tuple(images.shape)}")
    return (images.detach() * 127.5 + 128).clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).cpu()


def to_pil(images: torch.Tensor) -> list[Image.Image]:
    """N x C x H x W in -1..1 -> N PIL images (RGB, or L for a grey model)."""
    pixels = to_uint8(images).numpy()
    if pixels.shape[-1] == 1:
        return [Image.fromarray(np.ascontiguousarray(p[..., 0]), "L") for p in pixels]
    return [Image.fromarray(np.ascontiguousarray(p), "RGB") for p in pixels]


def _synthesize_seeded(G: Generator, ws: torch.Tensor, seeds: Sequence[int], noise_mode: str,
                       batch_size: int) -> torch.Tensor:
    """Images of ``ws`` in batches; random noise drawn per image from its own seed."""
    if batch_size < 1:
        raise ValueError(f"batch size must be at least 1; got {batch_size}")
    if noise_mode != "random":
        return torch.cat([synthesize(G, chunk, noise_mode=noise_mode) for chunk in ws.split(batch_size)])
    device = _device(G)
    images = []
    for w, seed in zip(ws.split(1), seeds):
        # The synthesis layers draw noise from torch's global RNG: fork it so the caller's
        # stream is untouched, and seed it so the same seed gives the same noise.
        with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
            torch.manual_seed(seed)
            images.append(synthesize(G, w, noise_mode="random"))
    return torch.cat(images)


def generate(G: Generator, seeds: Sequence[int], *, truncation_psi: float = 0.7, noise_mode: str = "const",
             batch_size: int = 1, truncation_cutoff: int | None = None) -> list[Image.Image]:
    """One PIL image per seed, in the order of ``seeds``: the same pixels for a seed every time.

    ``batch_size`` 1 (the default) renders each image alone, so its pixels do not depend on the
    other seeds of the call; larger batches are faster on a GPU, but batched convolutions round
    differently with the batch, and a pixel can then come out one level apart from the same
    seed rendered alone.
    """
    seeds = [_check_seed(s) for s in seeds]
    ws = ws_from_seeds(G, seeds, truncation_psi=truncation_psi, truncation_cutoff=truncation_cutoff)
    images = to_pil(_synthesize_seeded(G, ws, seeds, noise_mode, batch_size))
    log.info("generated %d images (truncation %g, noise %s)", len(images), truncation_psi, noise_mode)
    return images


# --- which ws drive which resolution ----------------------------------------------------------


def _num_ws(G_or_num_ws: Generator | int) -> int:
    return layers_.check_num_ws(G_or_num_ws if isinstance(G_or_num_ws, int) else G_or_num_ws.num_ws)


def ws_resolutions(G_or_num_ws: Generator | int) -> list[int]:
    """For each ws index, the resolution in pixels of the convolution it modulates (the last
    one: the output resolution, where it drives only the final ToRGB); mlcore.stylegan2.layers."""
    return layers_.ws_resolutions(_num_ws(G_or_num_ws))


def layer_ranges(G_or_num_ws: Generator | int) -> dict[str, tuple[int, int]]:
    """{"coarse": (0, a), "middle": (a, b), "fine": (b, num_ws)}: ws ranges (start, stop) of the
    4-8 px, 16-32 px and 64 px-and-up layers; together they cover every ws once. The rule is
    mlcore.stylegan2.layers' (torch-free, so the site uses it too)."""
    return layers_.layer_ranges(_num_ws(G_or_num_ws))


def resolve_layers(layers: str | tuple[int, int], num_ws: int) -> tuple[int, int]:
    """A range name of ``layer_ranges`` or a (start, stop) pair, checked against ``num_ws``."""
    if isinstance(layers, str):
        ranges = layer_ranges(num_ws)
        if layers not in ranges:
            raise ValueError(f"layers must be one of {', '.join(LAYER_RANGE_NAMES)} or a (start, stop) "
                             f"range; got {layers!r}")
        return ranges[layers]
    try:
        start, stop = (int(v) for v in layers)
    except (TypeError, ValueError):
        raise ValueError(f"layers must be a range name or a (start, stop) pair; got {layers!r}") from None
    if not 0 <= start < stop <= num_ws:
        raise ValueError(f"layer range ({start}, {stop}) is outside the model's ws 0..{num_ws - 1} "
                         f"(start < stop <= {num_ws})")
    return start, stop


def mix(ws_a: torch.Tensor, ws_b: torch.Tensor, layers: str | tuple[int, int]) -> torch.Tensor:
    """A copy of ``ws_a`` whose ``layers`` range (a name of ``layer_ranges`` or (start, stop))
    comes from ``ws_b``; a batch of one on either side is broadcast to the other's batch."""
    if ws_a.ndim != 3 or ws_b.ndim != 3 or ws_a.shape[1:] != ws_b.shape[1:]:
        raise ValueError(f"mix takes two N x num_ws x w_dim ws of one model; got {tuple(ws_a.shape)} "
                         f"and {tuple(ws_b.shape)}")
    start, stop = resolve_layers(layers, ws_a.shape[1])
    n = max(ws_a.shape[0], ws_b.shape[0])
    if {ws_a.shape[0], ws_b.shape[0]} - {1, n}:
        raise ValueError(f"mix takes batches of one size (or of one); got {ws_a.shape[0]} and {ws_b.shape[0]}")
    out = ws_a.expand(n, -1, -1).clone()
    out[:, start:stop] = ws_b.to(out.device, out.dtype).expand(n, -1, -1)[:, start:stop]
    return out


def mixing_grid(G: Generator, row_ws: torch.Tensor, col_ws: torch.Tensor, layers: str | tuple[int, int], *,
                noise_mode: str = "const", batch_size: int = 1) -> Image.Image:
    """The style-mixing figure of the paper (NVlabs style_mixing.py): the column sources along
    the top, the row sources down the left, and in each cell the row's ws with the column's
    ``layers`` range (``batch_size`` as in ``generate``: 1 gives each cell the pixels of the
    same mix rendered alone)."""
    rows, cols = row_ws.shape[0], col_ws.shape[0]
    cells = mix(row_ws.repeat_interleave(cols, dim=0), col_ws.repeat(rows, 1, 1), layers)
    everything = torch.cat([col_ws.to(cells.device), row_ws.to(cells.device), cells])
    images = to_pil(torch.cat([synthesize(G, chunk, noise_mode=noise_mode) for chunk in everything.split(batch_size)]))
    col_images, row_images, cell_images = images[:cols], images[cols:cols + rows], images[cols + rows:]
    size = G.img_resolution
    grid = Image.new(images[0].mode, ((cols + 1) * size, (rows + 1) * size), "white" if images[0].mode == "RGB" else 255)
    for j, image in enumerate(col_images):
        grid.paste(image, ((j + 1) * size, 0))
    for i, image in enumerate(row_images):
        grid.paste(image, (0, (i + 1) * size))
        for j in range(cols):
            grid.paste(cell_images[i * cols + j], ((j + 1) * size, (i + 1) * size))
    return grid


# --- interpolation ---------------------------------------------------------------------------


def interpolate(G: Generator, seeds: Sequence[int], *, frames_per_seed: int = 24, truncation_psi: float = 0.7,
                loop: bool = True, noise_mode: str = "const", batch_size: int = 8) -> list[Image.Image]:
    """Frames walking in W from each seed's w to the next (linearly: W is not Gaussian, so the
    spherical path z needs does not apply), ``frames_per_seed`` per step; with ``loop`` the walk
    returns to the first seed and its last frame leads back into the first, else it ends on the
    last seed. ``noise_mode="random"`` would flicker: the default is const."""
    seeds = [_check_seed(s) for s in seeds]
    if len(seeds) < 2:
        raise ValueError("interpolation needs at least two seeds")
    if frames_per_seed < 1:
        raise ValueError(f"frames per seed must be at least 1; got {frames_per_seed}")
    ws = ws_from_seeds(G, seeds, truncation_psi=truncation_psi)
    targets = torch.cat([ws[1:], ws[:1]]) if loop else ws[1:]
    starts = ws[: targets.shape[0]]
    t = torch.arange(frames_per_seed, device=ws.device, dtype=ws.dtype) / frames_per_seed
    path = starts[:, None] + (targets - starts)[:, None] * t[None, :, None, None]  # steps x frames x num_ws x w_dim
    path = path.reshape(-1, *ws.shape[1:])
    if not loop:
        path = torch.cat([path, ws[-1:]])
    frames = to_pil(torch.cat([synthesize(G, chunk, noise_mode=noise_mode) for chunk in path.split(batch_size)]))
    log.info("interpolated %d frames between %d seeds", len(frames), len(seeds))
    return frames


def save_webp(frames: Sequence[Image.Image], path: str | os.PathLike, *, fps: float = 24.0,
              quality: int = 90) -> Path:
    """An animated WebP of ``frames`` looping forever, ``1000 / fps`` ms per frame; written
    atomically."""
    if not frames:
        raise ValueError("no frames to save")
    if fps <= 0:
        raise ValueError(f"fps must be positive; got {fps}")
    duration = max(1, round(1000 / fps))

    def write(handle) -> None:
        frames[0].save(handle, format="WEBP", save_all=True, append_images=list(frames[1:]), duration=duration,
                       loop=0, quality=quality)

    path = atomic_write(path, write)
    log.info("wrote %d frames at %g fps to %s", len(frames), fps, path)
    return path


# --- latents ---------------------------------------------------------------------------------


def save_latent(path: str | os.PathLike, ws: torch.Tensor, **meta: Any) -> Path:
    """Write ws (N x num_ws x w_dim, or num_ws x w_dim for one) and JSON-able ``meta`` (e.g.
    model_sha256, seed, truncation, space) to an ``.npz`` file, atomically."""
    array = ws.detach().to("cpu", torch.float32).numpy()
    if array.ndim == 2:
        array = array[None]
    if array.ndim != 3:
        raise ValueError(f"ws must be N x num_ws x w_dim; got {tuple(ws.shape)}")
    try:
        meta_json = json.dumps(meta, sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"latent metadata must be JSON-serialisable: {exc}") from exc
    buffer = io.BytesIO()
    np.savez(buffer, w=array, meta=np.array(meta_json))
    return atomic_write(path, lambda handle: handle.write(buffer.getvalue()))


def load_latent(path: str | os.PathLike) -> tuple[torch.Tensor, dict[str, Any]]:
    """(ws N x num_ws x w_dim float32, meta) from ``save_latent``'s file or an NVlabs projector
    ``.npz`` (``w``; no meta). Never unpickles anything."""
    try:
        with np.load(path, allow_pickle=False) as data:
            key = next((k for k in ("w", "ws") if k in data.files), None)
            if key is None:
                raise ValueError(f"{path}: not a latent file (no 'w' or 'ws' array; it has {', '.join(data.files) or 'nothing'})")
            array = np.asarray(data[key], dtype=np.float32)
            meta_text = str(data["meta"]) if "meta" in data.files else "{}"
    except (OSError, EOFError) as exc:
        raise ValueError(f"{path}: not a readable .npz latent file ({exc})") from exc
    except ValueError as exc:
        if str(exc).startswith(str(path)):
            raise
        raise ValueError(f"{path}: not a readable .npz latent file ({exc})") from exc
    if array.ndim == 2:
        array = array[None]
    if array.ndim != 3 or not np.isfinite(array).all():
        raise ValueError(f"{path}: the latent must be finite N x num_ws x w_dim; got shape {array.shape}")
    try:
        meta = json.loads(meta_text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: unreadable latent metadata ({exc})") from exc
    if not isinstance(meta, dict):
        raise ValueError(f"{path}: latent metadata must be a JSON object")  # noqa: TRY004 (a bad file, not a bad argument)
    return torch.from_numpy(array), meta

