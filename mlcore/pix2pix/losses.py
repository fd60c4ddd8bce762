"""The Pix2Pix objective (Isola et al. 2017, eq. 4): a conditional GAN plus lambda x L1.

    G* = arg min_G max_D  L_cGAN(G, D) + lambda L_L1(G)

- The discriminator sees the input A next to a picture B (6 channels) and is trained with
  ``0.5 * (gan(D(A, real B), real) + gan(D(A, fake B), fake))``: the paper halves D's
  objective "to slow down the rate at which D learns relative to G".
- The generator minimises ``gan(D(A, fake B), real)`` (the non-saturating form) plus
  ``lambda_l1 * mean |fake B - real B|`` on images in -1..1 (lambda = 100 in the paper).

``gan`` is mlcore.losses.gan_loss: "vanilla" (binary cross-entropy on the logits, the paper's)
or "lsgan" (least squares), averaged over every patch of the PatchGAN's map.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from mlcore.losses import gan_loss

__all__ = ["discriminator_loss", "generator_losses"]


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor, mode: str = "vanilla") -> torch.Tensor:
    """Half the sum of D's losses on real pairs (target real) and generated pairs (target fake)."""
    return 0.5 * (gan_loss(real_logits, True, mode) + gan_loss(fake_logits, False, mode))


def generator_losses(
    fake_logits: torch.Tensor,
    fake: torch.Tensor,
    real: torch.Tensor,
    *,
    lambda_l1: float = 100.0,
    mode: str = "vanilla",
) -> dict[str, torch.Tensor]:
    """G's loss terms: ``gan`` (fool D), ``l1`` (already times ``lambda_l1``) and their sum ``loss``."""
    adversarial = gan_loss(fake_logits, True, mode)
    l1 = lambda_l1 * F.l1_loss(fake.float(), real.float())
    return {"loss": adversarial + l1, "gan": adversarial, "l1": l1}
