"""StyleGAN2's training objectives (Karras et al. 2020, section 4 and appendix B; the formulas of
NVlabs stylegan2-ada-pytorch ``training/loss.py`` and ``training/training_loop.py``).

- The non-saturating logistic GAN loss (Goodfellow et al. 2014): G minimises
  ``softplus(-D(G(z)))``, D minimises ``softplus(D(G(z))) + softplus(-D(x))``.
- R1 (Mescheder et al. 2018) on reals: ``gamma / 2 * |grad_x D(x)|^2``.
- Path-length regularisation: for ``y ~ N(0, I) / sqrt(H W)``, the length
  ``|J_w^T y|`` (the gradient of ``sum(G(w) * y)`` with respect to w, squared, summed over
  w's features, averaged over the ws, square-rooted) should stay at its running mean ``a``:
  penalty ``(|J_w^T y| - a)^2``, with ``a`` an exponential moving average (decay 0.01).
- Lazy regularisation: a regulariser that runs every k steps is multiplied by k, and Adam's
  learning rate and betas are adjusted by ``k / (k + 1)`` to account for the extra steps.
- The EMA generator's half-life in images, with an optional ramp-up over the first images.

The penalties build their graphs with ``create_graph=True`` so that the final backward
differentiates through the gradient (double backward).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

__all__ = [
    "generator_loss",
    "discriminator_loss",
    "r1_penalty",
    "path_lengths",
    "path_length_noise",
    "lazy_adam",
    "ema_beta",
]


def generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """Non-saturating logistic loss of G: mean of ``softplus(-D(G(z)))`` (= -log sigmoid)."""
    return F.softplus(-fake_logits).mean()


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """Logistic loss of D: mean ``softplus(D(fake))`` plus mean ``softplus(-D(real))``."""
    return F.softplus(fake_logits).mean() + F.softplus(-real_logits).mean()


def r1_penalty(real_logits: torch.Tensor, real_images: torch.Tensor) -> torch.Tensor:
    """Per image ``|grad_x D(x)|^2`` (summed over pixels and channels); ``real_images`` must be
    the tensor (requiring grad) that the logits were computed from."""
    (grads,) = torch.autograd.grad(outputs=[real_logits.sum()], inputs=[real_images], create_graph=True)
    return grads.square().sum(dim=[1, 2, 3])


def path_length_noise(images: torch.Tensor) -> torch.Tensor:
    """``y ~ N(0, I) / sqrt(H W)``: the image-space direction of the path-length Jacobian product,
    scaled so that the expected length does not depend on the resolution."""
    return torch.randn_like(images) / math.sqrt(images.shape[2] * images.shape[3])


def path_lengths(images: torch.Tensor, ws: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """Per image ``sqrt(mean over ws of |d sum(images * noise) / d w|^2)``; ``ws`` must be the
    tensor (requiring grad) that ``images`` were synthesised from."""
    (grads,) = torch.autograd.grad(outputs=[(images * noise).sum()], inputs=[ws], create_graph=True)
    return grads.square().sum(dim=2).mean(dim=1).sqrt()


def lazy_adam(lr: float, betas: tuple[float, float], interval: int | None) -> tuple[float, tuple[float, float]]:
    """Adam's learning rate and betas for a network regularised every ``interval`` steps:
    ``lr * r`` and ``beta ** r`` with ``r = interval / (interval + 1)`` (None: not lazy, unchanged)."""
    if interval is None:
        return lr, (betas[0], betas[1])
    ratio = interval / (interval + 1)
    return lr * ratio, (betas[0] ** ratio, betas[1] ** ratio)


def ema_beta(batch_size: int, images_seen: int, *, ema_kimg: float, ema_rampup: float | None) -> float:
    """How much of the EMA generator a step keeps: ``0.5 ** (batch / half_life)``, the half-life
    ``ema_kimg * 1000`` images, at most ``images_seen * ema_rampup`` with a ramp-up (so the EMA
    follows G closely at first). A half-life of 0 copies G (beta 0)."""
    half_life = ema_kimg * 1000
    if ema_rampup is not None:
        half_life = min(half_life, images_seen * ema_rampup)
    return 0.5 ** (batch_size / max(half_life, 1e-8))
