"""Putting a photo into a StyleGAN2 model: the latent whose image looks most like it.

    result = project(G, open_image("me.jpg"), space="w", on_progress=show, should_stop=cancelled)
    save_latent("me.npz", result.ws, space=result.space, distance=result.distance_label)
    result.image.save("me-projected.png")

The optimiser is the paper's projector (Karras et al. 2020, section 5; NVlabs
stylegan2-ada-pytorch ``projector.py``), written from its formulas:

- w starts at w_avg, the mean of ``w_avg_samples`` mapped z (seeded), and w_std is their spread,
  ``sqrt(sum |w - w_avg|^2 / samples)``;
- at step t (as a fraction of ``steps``) the learning rate is ``lr`` times a cosine ramp down
  over the last ``lr_rampdown`` and a linear ramp up over the first ``lr_rampup``; the w that is
  rendered gets Gaussian noise of scale ``w_std * initial_noise_factor * max(0, 1 - t /
  noise_ramp_length) ** 2``, which explores early and vanishes after three quarters;
- Adam (betas 0.9, 0.999) moves w and every layer's noise map; the loss is the distance to the
  target plus ``noise_regularize`` times the squared autocorrelations of each noise map with
  itself shifted by a pixel, summed over a pyramid down to 8 x 8, so the maps cannot carry the
  image; after each step every map is normalised back to zero mean and unit variance.

``space="w"`` optimises one w shared by every layer (the paper's), ``"w+"`` one per layer: closer
to the photo, further from what the model knows, so mixing and editing it behave less well.

The target is centre-cropped to a square and resized to the model's resolution (Lanczos), and
target and rendered image go to the distance at 256 px at most (area downsampling), as the
reference does for its VGG16. The distance is LPIPS-VGG16 when its weights are on this machine
(``mlcore.metrics.projection_distance``), else the clearly labelled non-perceptual fallback; the
label travels with the result. The result's image is rendered from its ws with the model's own
constant noise, as opening the saved latent again will render it (the optimised noise maps are
a device of the search, not part of the latent: NVlabs' proj.png is made the same way).

Defaults by device: 1000 steps on CUDA (the paper's), 300 on a CPU, where a step at 256 px
costs the better part of a second with LPIPS; the plateau stop usually ends sooner.
"""

from __future__ import annotations

import copy
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from mlcore.images import pil_to_tensor
from mlcore.stylegan2.generate import synthesize, to_pil
from mlcore.stylegan2.networks import Generator

__all__ = [
    "DISTANCE_SIZE",
    "SPACES",
    "ProjectionProgress",
    "ProjectionResult",
    "default_steps",
    "learning_rate",
    "noise_regularization",
    "prepare_target",
    "project",
    "w_noise_scale",
]

log = logging.getLogger(__name__)

SPACES = ("w", "w+")
DISTANCE_SIZE = 256  # target and image reach the distance at most this big, as NVlabs' VGG16
Distance = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class ProjectionProgress:
    """After ``step`` of ``steps``: the distance of that step's image, and every
    ``progress_every`` steps (and at the last) the image so far (rendered as the result is)."""

    step: int
    steps: int
    distance: float
    image: Image.Image | None = None


@dataclass(frozen=True)
class ProjectionResult:
    """What a projection found. ``distances`` has one entry per step run (of the image with
    that step's w noise); ``distance`` is the final image's own."""

    ws: torch.Tensor  # 1 x num_ws x w_dim, on the CPU (in w space every row is the same w)
    image: Image.Image
    distance_label: str
    steps_run: int
    distances: list[float]
    stopped: Literal["done", "plateau", "cancelled"]
    distance: float = math.nan
    space: str = "w"
    steps: int = 0  # the steps asked for


def default_steps(device: str | torch.device) -> int:
    """1000 optimisation steps on a GPU (the paper's), 300 on a CPU."""
    return 1000 if torch.device(device).type == "cuda" else 300


def learning_rate(t: float, *, lr: float = 0.1, rampdown: float = 0.25, rampup: float = 0.05) -> float:
    """The projector's learning rate at ``t`` (0..1 of the way): cosine down over the last
    ``rampdown``, linear up over the first ``rampup``."""
    down = min(1.0, (1.0 - t) / rampdown) if rampdown > 0 else 1.0
    up = min(1.0, t / rampup) if rampup > 0 else 1.0
    return lr * (0.5 - 0.5 * math.cos(down * math.pi)) * up


def w_noise_scale(t: float, w_std: float, *, initial_noise_factor: float = 0.05,
                  noise_ramp_length: float = 0.75) -> float:
    """Scale of the Gaussian noise added to w at ``t``: quadratic ramp from ``w_std *
    initial_noise_factor`` to 0 at ``noise_ramp_length``."""
    if noise_ramp_length <= 0:
        return 0.0
    return w_std * initial_noise_factor * max(0.0, 1.0 - t / noise_ramp_length) ** 2


def noise_regularization(noise_maps: list[torch.Tensor]) -> torch.Tensor:
    """Sum over maps and pyramid levels (halving down to 8 x 8) of the squared mean products
    of each map with itself shifted by one pixel, across and down: zero for white noise."""
    total = noise_maps[0].new_zeros(())
    for buf in noise_maps:
        noise = buf[None, None]
        while True:
            total = total + (noise * torch.roll(noise, shifts=1, dims=3)).mean() ** 2
            total = total + (noise * torch.roll(noise, shifts=1, dims=2)).mean() ** 2
            if noise.shape[2] <= 8:
                break
            noise = F.avg_pool2d(noise, kernel_size=2)
    return total


def prepare_target(image: Image.Image, resolution: int, channels: int = 3) -> Image.Image:
    """The photo centre-cropped to a square and resized to ``resolution`` (Lanczos), as RGB
    (or L for a grey model)."""
    width, height = image.size
    side = min(width, height)
    if side < 1:
        raise ValueError("the photo to project is empty")
    left, top = (width - side) // 2, (height - side) // 2
    square = image.crop((left, top, left + side, top + side))
    square = square.convert("L" if channels == 1 else "RGB")
    return square.resize((resolution, resolution), Image.Resampling.LANCZOS)


def _to_distance_input(images01: torch.Tensor) -> torch.Tensor:
    if images01.shape[-1] > DISTANCE_SIZE:
        images01 = F.interpolate(images01, size=(DISTANCE_SIZE, DISTANCE_SIZE), mode="area")
    if images01.shape[1] == 1:  # perceptual distances take RGB
        images01 = images01.expand(-1, 3, -1, -1)
    return images01


def _w_stats(G: Generator, samples: int, seed: int, device: torch.device) -> tuple[torch.Tensor, float]:
    """w_avg (1 x 1 x w_dim) and w_std of ``samples`` mapped z drawn with numpy's RandomState(seed)."""
    z = torch.from_numpy(np.random.RandomState(seed).randn(samples, G.z_dim).astype(np.float32))
    with torch.no_grad():
        w = torch.cat([G.mapping(chunk.to(device), None)[:, :1] for chunk in z.split(4096)])
    w_avg = w.mean(dim=0, keepdim=True)
    w_std = float(((w - w_avg).square().sum() / samples).sqrt())
    return w_avg, w_std


def project(
    G: Generator, target: Image.Image, *, space: str = "w", steps: int | None = None,
    distance: Distance | None = None, lr: float = 0.1, noise_regularize: float = 1e5,
    initial_noise_factor: float = 0.05, noise_ramp_length: float = 0.75, lr_rampdown: float = 0.25,
    lr_rampup: float = 0.05, w_avg_samples: int = 10000, seed: int = 0, patience: int | None = 100,
    min_delta: float = 1e-3, progress_every: int = 10,
    on_progress: Callable[[ProjectionProgress], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> ProjectionResult:
    """Optimise a latent of ``G`` (left unchanged) towards the photo ``target``; see the module
    docstring. ``steps`` None: ``default_steps`` for G's device. ``distance(images01, targets01)
    -> N`` (with a ``label``) defaults to LPIPS-VGG16 or the labelled fallback. The run stops
    early with ``"plateau"`` when for ``patience`` steps (after the learning-rate ramp-up) no
    step's distance beat the best so far by more than ``min_delta`` of it (``patience`` None:
    never), and with ``"cancelled"`` when ``should_stop()``, polled before each step, says so;
    either way the result holds the latent reached."""
    if space not in SPACES:
        raise ValueError(f"projection space must be one of {', '.join(SPACES)}; got {space!r}")
    device = next(G.parameters()).device
    steps = default_steps(device) if steps is None else steps
    if steps < 1:
        raise ValueError(f"projection needs at least one step; got {steps}")
    if w_avg_samples < 2:
        raise ValueError(f"w_avg_samples must be at least 2; got {w_avg_samples}")
    if progress_every < 1:
        raise ValueError(f"progress_every must be at least 1; got {progress_every}")
    if distance is None:
        from mlcore.metrics import projection_distance

        distance, label = projection_distance(device=device)
    else:
        label = getattr(distance, "label", type(distance).__name__)

    target_image = prepare_target(target, G.img_resolution, G.img_channels)
    target01 = pil_to_tensor(target_image)[:, : G.img_channels].to(device)
    target_in = _to_distance_input(target01)

    w_avg, w_std = _w_stats(G, w_avg_samples, seed, device)
    # A private copy: Adam moves its noise maps, and the caller's model must stay as it was.
    searcher = copy.deepcopy(G).eval().requires_grad_(False)
    noise_maps = [buf for name, buf in searcher.synthesis.named_buffers() if "noise_const" in name]
    generator = torch.Generator(device=device).manual_seed(seed)
    with torch.no_grad():
        for buf in noise_maps:
            buf.copy_(torch.randn(buf.shape, generator=generator, device=device))
    for buf in noise_maps:
        buf.requires_grad_(True)
    start = w_avg if space == "w" else w_avg.repeat(1, G.num_ws, 1)
    w_opt = start.detach().clone().requires_grad_(True)
    optimizer = torch.optim.Adam([w_opt, *noise_maps], betas=(0.9, 0.999), lr=lr)
    log.info("projecting into %s of a %d px model: %d steps, distance %s", space, G.img_resolution, steps, label)

    def current_ws() -> torch.Tensor:
        w = w_opt.detach()
        return w.repeat(1, G.num_ws, 1) if space == "w" else w.clone()

    def render(ws: torch.Tensor) -> tuple[Image.Image, torch.Tensor]:
        images = synthesize(G, ws, noise_mode="const")
        return to_pil(images)[0], images

    distances: list[float] = []
    stopped: Literal["done", "plateau", "cancelled"] = "done"
    best, best_step = math.inf, 0
    with torch.enable_grad():
        for step in range(steps):
            if should_stop is not None and should_stop():
                stopped = "cancelled"
                break
            t = step / steps
            for group in optimizer.param_groups:
                group["lr"] = learning_rate(t, lr=lr, rampdown=lr_rampdown, rampup=lr_rampup)
            scale = w_noise_scale(t, w_std, initial_noise_factor=initial_noise_factor,
                                  noise_ramp_length=noise_ramp_length)
            w = w_opt + torch.randn(w_opt.shape, generator=generator, device=device) * scale
            ws = w.repeat(1, G.num_ws, 1) if space == "w" else w
            synth01 = (searcher.synthesis(ws, noise_mode="const") + 1) / 2
            dist = distance(_to_distance_input(synth01), target_in).sum()
            loss = dist + noise_regularization(noise_maps) * noise_regularize
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            with torch.no_grad():
                for buf in noise_maps:
                    buf -= buf.mean()
                    buf *= buf.square().mean().rsqrt()

            value = float(dist.detach())
            distances.append(value)
            done = step + 1
            if on_progress is not None:
                image = render(current_ws())[0] if done % progress_every == 0 or done == steps else None
                on_progress(ProjectionProgress(done, steps, value, image))
            if value < best * (1 - min_delta):
                best, best_step = value, done
            elif patience is not None and t >= lr_rampup and done - best_step >= patience:
                stopped = "plateau"
                break

    ws = current_ws()
    image, images = render(ws)
    with torch.no_grad():
        final = float(distance(_to_distance_input((images + 1) / 2), target_in).sum())
    log.info("projection %s after %d of %d steps: distance %.4g (%s)", stopped, len(distances), steps, final, label)
    return ProjectionResult(ws=ws.cpu(), image=image, distance_label=label, steps_run=len(distances),
                            distances=distances, stopped=stopped, distance=final, space=space, steps=steps)
