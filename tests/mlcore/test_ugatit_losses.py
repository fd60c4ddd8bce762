"""U-GAT-IT's objective on values worked out by hand: LSGAN on logits and CAM logits, cycle and
identity L1, the generator's CAM BCE, and the weights 1 / 10 / 10 / 1000."""

from __future__ import annotations

import math

import pytest
import torch

from mlcore.ugatit.losses import LossWeights, cam_loss, discriminator_loss, generator_loss

LN2 = math.log(2.0)


def judgement(logit: float, cam: float, shape=(1, 1, 2, 2)):
    return torch.full(shape, logit), torch.full((1, 2), cam)


def test_discriminators_want_real_1_and_translated_0_on_patch_and_cam_logits():
    # Real judged 0.5 everywhere: (0.5 - 1)^2 = 0.25 per term; translated judged 0.5: 0.25.
    # Two discriminators (global, local) x (patch + CAM) x (real + fake) = 8 terms of 0.25.
    real = [judgement(0.5, 0.5), judgement(0.5, 0.5)]
    fake = [judgement(0.5, 0.5), judgement(0.5, 0.5)]
    assert discriminator_loss(real, fake).item() == pytest.approx(2.0)
    # Perfect discriminators: real 1, translated 0, CAM alike.
    assert discriminator_loss([judgement(1, 1)] * 2, [judgement(0, 0)] * 2).item() == 0.0
    # Only the CAM logits wrong (real CAM says 0, translated CAM says 1): 2 x (1 + 1).
    assert discriminator_loss([judgement(1, 0)] * 2, [judgement(0, 1)] * 2).item() == pytest.approx(4.0)
    assert discriminator_loss(real, fake, adv_weight=3.0).item() == pytest.approx(6.0)


def test_the_generator_cam_loss_says_1_on_its_source_domain_and_0_on_the_identity_input():
    zero = torch.zeros(1, 2)
    # BCE with logits at 0 is ln 2 whatever the target: 2 logits averaged, two terms.
    assert cam_loss(zero, zero).item() == pytest.approx(2 * LN2)
    confident = torch.full((1, 2), 20.0)
    assert cam_loss(confident, -confident).item() == pytest.approx(0.0, abs=1e-6)  # right way round
    assert cam_loss(-confident, confident).item() == pytest.approx(40.0, rel=1e-4)  # wrong way round


def test_each_generator_term_and_the_weights_1_10_10_1000():
    real = torch.zeros(1, 3, 4, 4)
    total, terms = generator_loss(
        fake=[judgement(0.0, 0.0), judgement(0.0, 0.0)],  # (0 - 1)^2 = 1, four terms
        real=real,
        cycled=real + 0.5,  # L1 0.5
        identity=real - 0.25,  # L1 0.25
        source_cam_logit=torch.zeros(1, 2),  # ln 2
        identity_cam_logit=torch.zeros(1, 2),  # ln 2
        weights=LossWeights(),
    )
    assert terms["adv"].item() == pytest.approx(4.0)
    assert terms["cycle"].item() == pytest.approx(0.5)
    assert terms["identity"].item() == pytest.approx(0.25)
    assert terms["cam"].item() == pytest.approx(2 * LN2)
    assert total.item() == pytest.approx(1 * 4.0 + 10 * 0.5 + 10 * 0.25 + 1000 * 2 * LN2)

    reweighted, _ = generator_loss(
        fake=[judgement(0.0, 0.0)], real=real, cycled=real + 0.5, identity=real - 0.25,
        source_cam_logit=torch.zeros(1, 2), identity_cam_logit=torch.zeros(1, 2),
        weights=LossWeights(adv=2.0, cycle=0.0, identity=1.0, cam=0.0),
    )
    assert reweighted.item() == pytest.approx(2 * 2.0 + 0.25)  # one discriminator: 2 adv terms


def test_the_generator_adversarial_loss_wants_its_translations_judged_real():
    real = torch.zeros(1, 3, 4, 4)
    fooled, terms = generator_loss(
        fake=[judgement(1.0, 1.0)], real=real, cycled=real, identity=real,
        source_cam_logit=torch.full((1, 2), 30.0), identity_cam_logit=torch.full((1, 2), -30.0),
        weights=LossWeights())
    assert fooled.item() == pytest.approx(0.0, abs=1e-6)


def test_losses_are_float32_for_half_inputs():
    real = torch.zeros(1, 3, 4, 4, dtype=torch.bfloat16)
    fake = [(torch.zeros(1, 1, 2, 2, dtype=torch.bfloat16), torch.zeros(1, 2, dtype=torch.bfloat16))]
    total, _ = generator_loss(fake=fake, real=real, cycled=real, identity=real,
                              source_cam_logit=fake[0][1], identity_cam_logit=fake[0][1], weights=LossWeights())
    assert total.dtype == torch.float32
    assert discriminator_loss(fake, fake).dtype == torch.float32
