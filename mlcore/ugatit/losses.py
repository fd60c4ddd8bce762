"""U-GAT-IT's objective (Kim et al. 2020, section 2.2), one domain at a time.

A domain's discriminators (global and local) each return ``(logits, cam_logit, heatmap)``; a
``Judgement`` is the first two. The losses "for domain A" are those whose images land in A:

- discriminators of A: LSGAN on real A (target 1) and on translated B->A (target 0), on the
  patch logits AND on the CAM logits, for the global and the local discriminator;
- generator B->A: LSGAN on D_A's judgements of B->A (target 1), patch and CAM logits; cycle
  L1 |B2A(A2B(a)) - a|; identity L1 |B2A(a) - a|; and the CAM loss, binary cross-entropy on
  the generator's own auxiliary classifier: its CAM logits on its source domain (B, the images
  it translates) should say 1, on the identity input (A, its target domain) 0.

The weights (adversarial 1, cycle 10, identity 10, CAM 1000) multiply the terms as in
znxlwm/UGATIT-pytorch's ``UGATIT.train``. LSGAN is ``mlcore.losses.gan_loss(..., "lsgan")``
(mean over every logit); every term is computed in float32.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from mlcore.losses import gan_loss

__all__ = ["Judgement", "LossWeights", "discriminator_loss", "generator_loss", "cam_loss"]

Judgement = tuple[torch.Tensor, torch.Tensor]  # (patch logits, CAM logits) of one discriminator


@dataclass(frozen=True)
class LossWeights:
    adv: float = 1.0
    cycle: float = 10.0
    identity: float = 10.0
    cam: float = 1000.0


def discriminator_loss(
    real: Sequence[Judgement], fake: Sequence[Judgement], *, adv_weight: float = 1.0
) -> torch.Tensor:
    """One domain's discriminators: LSGAN on real (1) and translated (0) images, logits and CAM
    logits, summed over the discriminators (global, local) and weighted."""
    if len(real) != len(fake):
        raise ValueError("one judgement of real and one of translated images per discriminator")
    total = torch.zeros((), device=real[0][0].device)
    for (real_logits, real_cam), (fake_logits, fake_cam) in zip(real, fake):
        total = total + gan_loss(real_logits, True, "lsgan") + gan_loss(fake_logits, False, "lsgan")
        total = total + gan_loss(real_cam, True, "lsgan") + gan_loss(fake_cam, False, "lsgan")
    return adv_weight * total


def cam_loss(source_cam_logit: torch.Tensor, identity_cam_logit: torch.Tensor) -> torch.Tensor:
    """A generator's auxiliary classifier: 1 on its source domain, 0 on its identity input."""
    source, identity = source_cam_logit.float(), identity_cam_logit.float()
    return (F.binary_cross_entropy_with_logits(source, torch.ones_like(source))
            + F.binary_cross_entropy_with_logits(identity, torch.zeros_like(identity)))


def generator_loss(
    *,
    fake: Sequence[Judgement],
    real: torch.Tensor,
    cycled: torch.Tensor,
    identity: torch.Tensor,
    source_cam_logit: torch.Tensor,
    identity_cam_logit: torch.Tensor,
    weights: LossWeights,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """The loss of the generator that translates into one domain (say B->A).

    ``fake``: that domain's discriminators' judgements of the translated images (B->A);
    ``real``: real images of the domain (a); ``cycled``: B2A(A2B(a)); ``identity``: B2A(a);
    ``source_cam_logit``: the generator's CAM logits on its inputs (b);
    ``identity_cam_logit``: its CAM logits on ``real`` (a).
    Returns the weighted total and the unweighted terms (adv, cycle, identity, cam).
    """
    adv = torch.zeros((), device=real.device)
    for logits, cam_logit in fake:
        adv = adv + gan_loss(logits, True, "lsgan") + gan_loss(cam_logit, True, "lsgan")
    terms = {
        "adv": adv,
        "cycle": F.l1_loss(cycled.float(), real.float()),
        "identity": F.l1_loss(identity.float(), real.float()),
        "cam": cam_loss(source_cam_logit, identity_cam_logit),
    }
    total = (weights.adv * terms["adv"] + weights.cycle * terms["cycle"]
             + weights.identity * terms["identity"] + weights.cam * terms["cam"])
    return total, terms
