"""Gatys et al. 2016: style transfer by optimising the pixels of the picture itself.

    result = run_gatys(open_image("photo.jpg"), open_image("starry_night.jpg"), GatysConfig(),
                       on_progress=show, should_stop=cancelled, progress_every=10)
    result.image.save("out.png")

The image starts as the photo (or noise) at ``config.size`` and is changed to lower
``content_weight * content + style_weight * style + tv_weight * tv`` (mlcore.losses) on a
frozen VGG19 (mlcore.vgg): content at relu4_2, style Gram matrices at relu1_1..relu5_1.

A step is one loss evaluation: for L-BFGS (``torch.optim.LBFGS`` with ``max_iter=1`` and no line
search, so its history carries over between steps) one iteration, for Adam one update. Pixels
are clamped to [0, 1] before each evaluation. torch's L-BFGS ignores curvature pairs with
y·s < 1e-10, so with a loss far below the usual range (a random VGG, tiny weights) it crawls
like plain gradient descent: raise the weights then. ``should_stop()`` is polled before every step;
``on_progress`` gets a ``GatysProgress`` (with the current picture) every ``progress_every``
steps and after the last one. The result is the best picture seen (L-BFGS can overshoot), with
``stopped`` set when should_stop ended it early.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from PIL import Image

from mlcore import images
from mlcore.engine.precision import Precision
from mlcore.gatys.config import GatysConfig
from mlcore.losses import content_loss, gram_matrix, style_loss, total_variation
from mlcore.vgg import VGGFeatures, load_vgg

__all__ = ["run_gatys", "GatysProgress", "GatysResult"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GatysProgress:
    """Passed to ``on_progress``."""

    step: int
    total_steps: int
    losses: dict[str, float]  # weighted content, style, tv and their sum "loss" of ``image``
    image: Image.Image  # the picture this step scored (before its update), RGB, output size
    elapsed_seconds: float
    eta_seconds: float
    labels: tuple[str, ...] = ()  # e.g. the random-VGG warning


@dataclass(frozen=True)
class GatysResult:
    image: Image.Image  # the best picture seen (lowest loss)
    steps: int  # steps done
    stopped: bool  # True when should_stop ended the run before config.steps
    losses: dict[str, float]  # the best picture's loss terms
    labels: tuple[str, ...] = field(default_factory=tuple)


def run_gatys(
    content: Image.Image,
    style: Image.Image,
    config: GatysConfig | None = None,
    *,
    vgg: VGGFeatures | None = None,
    vgg_weights: str | None = None,
    device: str | torch.device = "cpu",
    precision: str = "fp32",
    on_progress: Callable[[GatysProgress], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    progress_every: int = 10,
) -> GatysResult:
    """Paint ``content`` in the style of ``style``; see the module docstring.

    ``vgg`` reuses an already loaded VGG19 (a worker serving many jobs); otherwise one is
    loaded with ``config.loss_network`` and ``vgg_weights`` (see mlcore.vgg). ``precision``
    is "fp32" or "bf16" (autocast of the VGG passes); fp16 has no loss scaling here.
    """
    config = config or GatysConfig()
    if precision not in ("fp32", "bf16"):
        raise ValueError(f"Gatys runs in fp32 or bf16; got {precision!r}")
    if progress_every < 1:
        raise ValueError("progress_every must be at least 1")
    device = torch.device(device)
    if vgg is None:
        vgg = load_vgg("vgg19", config.loss_network, path=vgg_weights, pooling=config.pooling, device=device)
    labels = (vgg.label,) if vgg.is_random else ()
    autocast = Precision(precision, device).autocast

    content_x = _resized(content, config.size).to(device)
    style_x = _resized(style, max(16, round(config.size * config.style_scale))).to(device)
    with torch.no_grad(), autocast():
        content_target = vgg(content_x, [config.content_layer])[config.content_layer].float()
        style_targets = {k: gram_matrix(v) for k, v in vgg(style_x, config.style_layers).items()}
    layers = list(dict.fromkeys([config.content_layer, *config.style_layers]))

    if config.init == "content":
        x = content_x.clone(memory_format=torch.contiguous_format)  # LBFGS views grads flat
    else:
        generator = torch.Generator().manual_seed(config.seed)
        x = torch.rand(content_x.shape, generator=generator).to(device)
    x.requires_grad_(True)
    if config.optimizer == "lbfgs":
        optimizer: torch.optim.Optimizer = torch.optim.LBFGS([x], lr=1.0, max_iter=1, history_size=100)
    else:
        optimizer = torch.optim.Adam([x], lr=config.lr)

    best = {"loss": math.inf, "image": x.detach().clone(), "losses": {}}
    latest: dict[str, Any] = {}

    def evaluate(*, backward: bool) -> torch.Tensor:
        with torch.no_grad():
            x.clamp_(0.0, 1.0)
        with torch.set_grad_enabled(backward), autocast():
            features = vgg(x, layers)
        c = config.content_weight * content_loss(features[config.content_layer], content_target)
        s = config.style_weight * style_loss(features, style_targets)
        t = config.tv_weight * total_variation(x)
        total = c + s + t
        terms = {"loss": total.item(), "content": c.item(), "style": s.item(), "tv": t.item()}
        latest.update(losses=terms, image=x.detach().clone())  # x before this step's update
        if terms["loss"] < best["loss"]:
            best.update(loss=terms["loss"], image=latest["image"], losses=terms)
        return total

    def closure() -> torch.Tensor:
        optimizer.zero_grad(set_to_none=True)
        total = evaluate(backward=True)
        total.backward()
        return total

    started = time.perf_counter()
    step, stopped = 0, False
    while step < config.steps:
        if should_stop is not None and should_stop():
            stopped = True
            break
        if config.optimizer == "lbfgs":
            optimizer.step(closure)
        else:
            closure()
            optimizer.step()
        step += 1
        if on_progress is not None and (step % progress_every == 0 or step == config.steps):
            elapsed = time.perf_counter() - started
            on_progress(GatysProgress(
                step=step, total_steps=config.steps, losses=dict(latest["losses"]),
                image=images.tensor_to_pil(latest["image"]), elapsed_seconds=elapsed,
                eta_seconds=elapsed / step * (config.steps - step), labels=labels,
            ))
    if step:
        evaluate(backward=False)  # the last update's picture has not been scored yet
    log.info("Gatys %s after %d of %d steps (loss %.4g)", "stopped" if stopped else "done",
             step, config.steps, best["loss"])
    return GatysResult(image=images.tensor_to_pil(best["image"].clamp(0, 1)), steps=step, stopped=stopped,
                       losses=dict(best["losses"]), labels=labels)


def _resized(img: Image.Image, longest: int) -> torch.Tensor:
    rgb, _ = images.split_alpha(img)
    scale = longest / max(rgb.size)
    size = (max(1, round(rgb.width * scale)), max(1, round(rgb.height * scale)))
    if size != rgb.size:
        rgb = rgb.resize(size, Image.Resampling.BICUBIC)
    return images.pil_to_tensor(rgb)
