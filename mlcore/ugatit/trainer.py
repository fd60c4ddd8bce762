"""Training U-GAT-IT (Kim et al. 2020) on mlcore.engine.

Networks: generators ``genA2B`` and ``genB2A``; per domain a global (``disGA``, ``disGB``) and
a local (``disLA``, ``disLB``) discriminator. Optimisers: ``G`` (both generators) and ``D``
(the four discriminators), Adam with lr 1e-4, betas (0.5, 0.999), weight decay 1e-4; with
``decay`` their learning rate falls linearly to 0 over the second half of the run (znxlwm's
``lr -= lr0 / (iterations // 2)`` at each step after the half), by a ``LambdaLR`` each.

One step, as znxlwm/UGATIT-pytorch's ``UGATIT.train`` (losses in mlcore.ugatit.losses):
1. D: translate a real batch each way (no gradient), then LSGAN of each discriminator on real
   (1) and translated (0) images, patch and CAM logits; step D.
2. G: translate again, cycle back, run the identity mappings; adversarial (the discriminators
   judging the new translations, their weights frozen), cycle, identity and CAM losses for both
   directions; step G, then clip every rho of AdaLIN/LIN to [0, 1].
Each discriminator runs twice in step 1 and once in step 2, as in theirs, so its spectral-norm
power iterations advance the same way.

The run's input is ``data``, an unpaired dataset folder (mlcore.ugatit.data). The exported
model is one generator (``export_direction``, A2B by default) with meta ``direction``.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from torch import nn

from mlcore.engine import ExportedModel, TrainingTask
from mlcore.ugatit.config import UGATITTrainConfig
from mlcore.ugatit.data import UnpairedDataset
from mlcore.ugatit.inferer import jet, to_channels, translate_with_heatmap
from mlcore.ugatit.losses import LossWeights, discriminator_loss, generator_loss
from mlcore.ugatit.networks import Discriminator, build as build_generator, clip_rho

__all__ = ["Task", "lr_factor"]

log = logging.getLogger(__name__)

GENERATORS = ("genA2B", "genB2A")
DISCRIMINATORS = ("disGA", "disGB", "disLA", "disLB")



def lr_factor(step: int, total: int, decay: bool) -> float:
    """The learning rate of step ``step`` (1-based) as a fraction of the initial one: 1 through
    the first half, then falling by 1/(total//2) per step to 0 (never below)."""
    half = total // 2
    if not decay or half == 0 or step <= half:
        return 1.0
    return max(0.0, 1.0 - (step - half) / half)


class Task(TrainingTask):
    """Kim et al.'s training of two U-GAT-IT generators on an unpaired dataset."""

    config: UGATITTrainConfig

    def setup(self) -> None:
        config, inputs, seed = self.config, self.inputs, self.seed
        arch = config.arch
        self.data_root = Path(inputs["data"])
        self._dataset = UnpairedDataset(self.data_root, img_size=arch.img_size, jitter=config.jitter,
                                        hflip=config.hflip, seed=seed)
        self.channels = arch.in_channels
        # Built in znxlwm's order, so one seed gives their initial weights.
        self.networks = {
            "genA2B": build_generator(arch),
            "genB2A": build_generator(arch),
            "disGA": Discriminator(self.channels, config.ndf, config.global_layers),
            "disGB": Discriminator(self.channels, config.ndf, config.global_layers),
            "disLA": Discriminator(self.channels, config.ndf, config.local_layers),
            "disLB": Discriminator(self.channels, config.ndf, config.local_layers),
        }
        for net in self.networks.values():
            net.to(self.device)
        adam = dict(lr=config.lr, betas=config.betas, weight_decay=config.weight_decay)
        self.optimizers = {
            "G": torch.optim.Adam(self._parameters(GENERATORS), **adam),
            "D": torch.optim.Adam(self._parameters(DISCRIMINATORS), **adam),
        }
        total, decay = config.steps, config.decay
        # LambdaLR's epoch e is the number of steps done, so step e + 1 runs at factor(e + 1).
        self.schedulers = {
            name: torch.optim.lr_scheduler.LambdaLR(opt, lambda e: lr_factor(e + 1, total, decay))
            for name, opt in self.optimizers.items()
        }
        self.weights = LossWeights(config.adv_weight, config.cycle_weight, config.identity_weight,
                                   config.cam_weight)

    def _parameters(self, names: tuple[str, ...]) -> list[nn.Parameter]:
        return [p for name in names for p in self.networks[name].parameters()]

    @property
    def dataset(self) -> UnpairedDataset:
        return self._dataset

    def probe_batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self._dataset.probe_batch(self.config.num_probes)

    def train_step(self, batch: Any) -> dict[str, float]:
        real_a, real_b = (to_channels(x, self.channels) * 2 - 1 for x in batch)
        # The networks as this process trains them (DDP wrappers when several processes do);
        # the discriminators judging in step 2 are frozen, so they are called unwrapped there.
        n, frozen = self.step_networks, self.networks
        gen_a2b, gen_b2a = n["genA2B"], n["genB2A"]
        w = self.weights

        # 1. Discriminators.
        with torch.no_grad():
            fake_a2b, fake_b2a = gen_a2b(real_a)[0], gen_b2a(real_b)[0]
        d_a = discriminator_loss(
            [_judge(n["disGA"], real_a), _judge(n["disLA"], real_a)],
            [_judge(n["disGA"], fake_b2a), _judge(n["disLA"], fake_b2a)], adv_weight=w.adv)
        d_b = discriminator_loss(
            [_judge(n["disGB"], real_b), _judge(n["disLB"], real_b)],
            [_judge(n["disGB"], fake_a2b), _judge(n["disLB"], fake_a2b)], adv_weight=w.adv)
        d_loss = d_a + d_b
        self.optimizer_step(d_loss, self.optimizers["D"])

        # 2. Generators.
        with _frozen(*(frozen[name] for name in DISCRIMINATORS)):
            fake_a2b, cam_a2b, _ = gen_a2b(real_a)
            fake_b2a, cam_b2a, _ = gen_b2a(real_b)
            fake_a2b2a, fake_b2a2b = gen_b2a(fake_a2b)[0], gen_a2b(fake_b2a)[0]
            fake_a2a, cam_a2a, _ = gen_b2a(real_a)
            fake_b2b, cam_b2b, _ = gen_a2b(real_b)
            g_a, terms_a = generator_loss(
                fake=[_judge(frozen["disGA"], fake_b2a), _judge(frozen["disLA"], fake_b2a)],
                real=real_a, cycled=fake_a2b2a, identity=fake_a2a,
                source_cam_logit=cam_b2a, identity_cam_logit=cam_a2a, weights=w)
            g_b, terms_b = generator_loss(
                fake=[_judge(frozen["disGB"], fake_a2b), _judge(frozen["disLB"], fake_a2b)],
                real=real_b, cycled=fake_b2a2b, identity=fake_b2b,
                source_cam_logit=cam_a2b, identity_cam_logit=cam_b2b, weights=w)
            g_loss = g_a + g_b
            self.optimizer_step(g_loss, self.optimizers["G"])
        clip_rho(gen_a2b)
        clip_rho(gen_b2a)
        for scheduler in self.schedulers.values():
            scheduler.step()

        metrics = {"loss": g_loss.item(), "d_loss": d_loss.item()}
        for term in ("adv", "cycle", "identity", "cam"):  # unweighted, both directions summed
            metrics[term] = (terms_a[term] + terms_b[term]).item()
        return metrics

    def sample(self, probe: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        """Six rows: real A, A->B, A->B attention, real B, B->A, B->A attention."""
        probe_a, probe_b = probe
        rows = []
        for real, gen in ((probe_a, self.networks["genA2B"]), (probe_b, self.networks["genB2A"])):
            translated, heat = translate_with_heatmap(gen, real)
            rows += [to_channels(real, 3).float(), translated.float(), jet(heat)]
        return torch.cat(rows)

    def export_model(self) -> ExportedModel:
        direction = self.config.export_direction
        net = self.networks[f"gen{direction}"]
        source, target = (("A", "B") if direction == "A2B" else ("B", "A"))
        meta: dict[str, Any] = {
            "name": f"{self.data_root.name} {source} to {target} (trained)",
            "direction": direction,
            "dataset": self.data_root.name,
            "source": "trained with mlcore (Kim et al. 2020 U-GAT-IT)",
        }
        state = {k: v.detach().to("cpu", torch.float32) for k, v in net.state_dict().items()}
        return ExportedModel(family="ugatit", config=self.config.arch, state_dict=state, meta=meta)


def _judge(discriminator: nn.Module, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    logits, cam_logit, _ = discriminator(images)
    return logits, cam_logit


@contextlib.contextmanager
def _frozen(*modules: nn.Module) -> Iterator[None]:
    """No weight gradients for ``modules`` inside (gradients still flow through them)."""
    params = [p for m in modules for p in m.parameters() if p.requires_grad]
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p in params:
            p.requires_grad_(True)
