"""Losses shared by the model families.

Perceptual losses (Gatys et al. 2016; Johnson et al. 2016) work on feature maps of a fixed loss
network (``mlcore.vgg``):

- ``gram_matrix``: G = F Fᵀ / (C·H·W) per image, F the C x (H·W) feature matrix. Normalising by
  C·H·W as Johnson does makes the value independent of the image size, so one style weight
  works for any crop size.
- ``content_loss``: mean squared difference of two feature maps (Johnson's feature
  reconstruction loss, normalised by C·H·W and averaged over the batch).
- ``style_loss``: for each layer, the mean squared difference between the Gram matrices of the
  image and the style target, summed over the layers (layers weighted equally).
- ``total_variation``: the sum over every pair of vertically or horizontally adjacent pixels
  (and channels) of their squared difference, averaged over the batch. This is the
  regulariser of Johnson's released code (``TotalVariation.lua``, beta = 2), without its 1/2.
  Being a sum, it grows with the image size; weights are given for images in [0, 1].

GAN losses, for the adversarial families (Pix2Pix, U-GAT-IT): ``gan_loss(logits, real, mode)``
with mode
- ``"vanilla"``: the original GAN's binary cross-entropy on logits (Goodfellow et al. 2014; the
  non-saturating generator form when the generator asks for ``real=True``), Pix2Pix's default;
- ``"lsgan"``: least squares, (D(x) - 1)² for real and D(x)² for fake (Mao et al. 2017),
  U-GAT-IT's adversarial loss.
Both average over every logit (a PatchGAN's map, a CAM logit vector alike).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F

__all__ = ["gram_matrix", "content_loss", "style_loss", "total_variation", "GAN_MODES", "gan_loss"]

GAN_MODES = ("vanilla", "lsgan")


def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    """``N x C x H x W`` features -> ``N x C x C`` Gram matrices divided by C·H·W.

    Computed in float32 whatever the input dtype: the sums over H·W overflow fp16 easily.
    """
    n, c, h, w = features.shape
    flat = features.reshape(n, c, h * w).float()
    return torch.bmm(flat, flat.transpose(1, 2)) / (c * h * w)


def content_loss(features: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared difference between two feature maps of the same shape."""
    return F.mse_loss(features.float(), target.float())


def style_loss(
    features: Mapping[str, torch.Tensor], target_grams: Mapping[str, torch.Tensor]
) -> torch.Tensor:
    """Sum over ``target_grams``' layers of the mean squared Gram difference.

    ``target_grams[layer]`` is ``1 x C x C`` (one style image, compared with every image of the
    batch) or ``N x C x C``.
    """
    if not target_grams:
        raise ValueError("style_loss needs at least one layer")
    total = None
    for layer, target in target_grams.items():
        gram = gram_matrix(features[layer])
        term = F.mse_loss(gram, target.float().expand_as(gram))
        total = term if total is None else total + term
    return total


def total_variation(images: torch.Tensor) -> torch.Tensor:
    """Sum of squared differences of neighbouring pixels, per image, averaged over the batch."""
    x = images.float()
    down = (x[..., 1:, :] - x[..., :-1, :]).pow(2).sum()
    right = (x[..., :, 1:] - x[..., :, :-1]).pow(2).sum()
    return (down + right) / x.shape[0]


def gan_loss(logits: torch.Tensor, real: bool, mode: str = "vanilla") -> torch.Tensor:
    """How far discriminator ``logits`` are from saying "real" (``real=True``) or "fake".

    A discriminator is trained with ``gan_loss(D(real), True) + gan_loss(D(fake), False)``, a
    generator with ``gan_loss(D(fake), True)``. Computed in float32.
    """
    x = logits.float()
    target = torch.ones_like(x) if real else torch.zeros_like(x)
    if mode == "vanilla":
        return F.binary_cross_entropy_with_logits(x, target)
    if mode == "lsgan":
        return F.mse_loss(x, target)
    raise ValueError(f"GAN loss mode must be one of {', '.join(GAN_MODES)}; got {mode!r}")
