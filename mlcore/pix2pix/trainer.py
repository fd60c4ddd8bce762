"""Training Pix2Pix (Isola et al. 2017) on mlcore.engine.

One step, as junyanz's ``Pix2PixModel.optimize_parameters``: the generator G turns the input
crops into fakes; the discriminator D takes an Adam step on
``0.5 * (gan(D(A, B), real) + gan(D(A, G(A)), fake))`` (G's output detached); then, with D's
parameters frozen, G takes an Adam step on ``gan(D(A, G(A)), real) + lambda_l1 * |G(A) - B|``
(mlcore.pix2pix.losses). Images go into the networks in -1..1.

Both optimisers are Adam(lr, betas=(beta1, 0.999)). The learning rate is junyanz's 'linear'
policy counted in steps instead of epochs: constant for the first ``steps - decay`` steps,
then ``1 - (k + 1) / (decay + 1)`` of it at the k-th decaying step, with
``decay = round(decay_fraction * steps)``. The schedulers are stepped after each step and
checkpointed with the networks and optimisers, so a resumed run continues the same schedule.

The run's one input is ``data``: a folder of pairs (mlcore.pix2pix.data).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch
from torch.optim.lr_scheduler import LambdaLR

from mlcore.data import ImageTransform
from mlcore.engine import ExportedModel, TrainingTask
from mlcore.pix2pix.config import Pix2PixTrainConfig
from mlcore.pix2pix.data import PairedDataset
from mlcore.pix2pix.losses import discriminator_loss, generator_losses
from mlcore.pix2pix.networks import build as build_generator, build_discriminator, to_channels

__all__ = ["Task", "linear_decay"]

log = logging.getLogger(__name__)



def linear_decay(total_steps: int, decay_steps: int):
    """The learning rate factor for step ``k`` (0-based) of a run: see the module docstring."""
    constant = total_steps - decay_steps

    def factor(k: int) -> float:
        return 1.0 - max(0, k + 1 - constant) / float(decay_steps + 1)

    return factor


class Task(TrainingTask):
    """A U-Net generator and a conditional PatchGAN trained on one folder of pairs."""

    config: Pix2PixTrainConfig

    def setup(self) -> None:
        config, inputs, seed = self.config, self.inputs, self.seed
        self.data_path = Path(inputs["data"])
        transform = ImageTransform(resize=config.load_size, crop=config.crop_size, random_crop=True,
                                   hflip=config.flip)
        self._dataset = PairedDataset(self.data_path, transform, direction=config.direction, seed=seed)
        log.info("pix2pix %s on %d pairs (%s) in %s", config.direction, len(self._dataset),
                 self._dataset.layout, self.data_path)
        arch = config.arch
        self.generator = build_generator(arch).to(self.device)
        self.discriminator = build_discriminator(arch.in_channels + arch.out_channels, config.ndf,
                                                 config.n_layers_d, norm=arch.norm).to(self.device)
        self.networks = {"generator": self.generator, "discriminator": self.discriminator}
        betas = (config.beta1, 0.999)
        self.optimizers = {
            "generator": torch.optim.Adam(self.generator.parameters(), lr=config.lr, betas=betas),
            "discriminator": torch.optim.Adam(self.discriminator.parameters(), lr=config.lr, betas=betas),
        }
        decay = linear_decay(config.steps, round(config.decay_fraction * config.steps))
        self.schedulers = {name: LambdaLR(opt, lr_lambda=decay) for name, opt in self.optimizers.items()}

    @property
    def dataset(self) -> PairedDataset:
        return self._dataset

    def probe_batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self._dataset.probe_batch(self.config.num_probes)

    def _network_inputs(self, batch: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """A batch in [0, 1] as the networks' (input, target) in -1..1 with their channels."""
        source, target = batch
        arch = self.config.arch
        return (to_channels(source, arch.in_channels) * 2.0 - 1.0,
                to_channels(target, arch.out_channels) * 2.0 - 1.0)

    def train_step(self, batch: tuple[torch.Tensor, torch.Tensor]) -> dict[str, float]:
        config = self.config
        real_a, real_b = self._network_inputs(batch)
        # The networks as this process trains them (DDP wrappers when several processes do).
        generator, discriminator = self.step_networks["generator"], self.step_networks["discriminator"]
        fake_b = generator(real_a)

        # D: real pairs against generated ones (G's output detached), halved as in the paper.
        loss_d = discriminator_loss(
            discriminator(torch.cat([real_a, real_b], 1)),
            discriminator(torch.cat([real_a, fake_b.detach()], 1)),
            config.gan_mode,
        )
        self.optimizer_step(loss_d, self.optimizers["discriminator"])

        # G: fool the updated D and stay close to B; D's weights get no gradients here, so D is
        # called unwrapped: there is nothing of D's to average over the processes in this pass.
        self.discriminator.requires_grad_(False)
        try:
            losses_g = generator_losses(self.discriminator(torch.cat([real_a, fake_b], 1)), fake_b, real_b,
                                        lambda_l1=config.lambda_l1, mode=config.gan_mode)
            self.optimizer_step(losses_g["loss"], self.optimizers["generator"])
        finally:
            self.discriminator.requires_grad_(True)

        for scheduler in self.schedulers.values():
            scheduler.step()
        return {"loss": losses_g["loss"].item(), "gan": losses_g["gan"].item(), "l1": losses_g["l1"].item(),
                "d": loss_d.item()}

    def sample(self, probe: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        """Three rows: the inputs, the generator's outputs, the real targets, each shown as the
        networks see it (grey for 1-channel configurations)."""
        real_a, real_b = self._network_inputs(probe)
        return torch.cat([_shown(real_a), _shown(self.generator(real_a)), _shown(real_b)])

    def export_model(self) -> ExportedModel:
        config = self.config
        meta: dict[str, Any] = {
            "name": f"{self.data_path.name} {config.direction} (trained)",
            "source": "trained with mlcore (Isola et al. 2017 pix2pix: U-Net, PatchGAN, cGAN + L1)",
            "direction": config.direction,
            "dataset": self.data_path.name,
        }
        state = {k: v.detach().to("cpu", torch.float32) if v.is_floating_point() else v.detach().cpu()
                 for k, v in self.generator.state_dict().items()}
        return ExportedModel(family="pix2pix", config=config.arch, state_dict=state, meta=meta)


def _shown(x: torch.Tensor) -> torch.Tensor:
    """Network images (-1..1, 1 or 3 channels) as RGB in [0, 1] for a sample grid."""
    return to_channels((x.float() + 1.0) / 2.0, 3).clamp(0.0, 1.0)
