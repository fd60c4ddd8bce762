"""Training StyleGAN2 (Karras et al. 2020) on mlcore.engine, as NVlabs stylegan2-ada-pytorch's
``training_loop`` and ``StyleGAN2Loss`` do (formulas in mlcore.stylegan2.losses).

Networks (all checkpointed, so a resumed run continues exactly): ``G`` and ``D``; ``G_ema``, an
exponential moving average of G that makes the sample grids and the exported model;
``augment``, the ADA pipe (its strength ``p`` is a buffer); ``state``, buffers for the images
seen, the steps done, the path-length mean ``pl_mean`` and the latest penalties. The ADA
controller's sums ride along in the task's state dict (``ada``).

One engine step runs NVlabs' phases on one batch of reals, each with its own optimiser step:

1. Gmain: ``softplus(-D(aug(G(z))))``, D frozen.
2. Greg, every ``g_reg_interval`` steps (the first included): path length on
   ``batch / pl_batch_shrink`` new images, ``pl_weight * (|J_w^T y| - pl_mean)^2`` times the
   interval; ``pl_mean`` moves towards the batch's mean length by ``pl_decay``.
3. Dmain: ``softplus(D(aug(G(z)))) + softplus(-D(aug(x)))``, G not differentiated; the ADA
   controller sees the signs of D on the reals.
4. Dreg, every ``d_reg_interval`` steps: R1, ``gamma / 2 * |grad D(aug(x))|^2`` times the
   interval (the reals' signs are seen by ADA here too, as NVlabs' collector sees them).

Then G_ema moves towards G (``beta = 0.5 ** (batch / half_life)``, the half-life ramped up
with the images seen) and copies G's buffers (w_avg, the constant noise); the images seen grow
by the batch; every ``ada_interval`` steps ADA moves p. Each generated batch mixes two latents
with probability ``style_mixing_prob``: the ws from a random layer on come from a second z.
``w_avg`` follows the mapping's outputs of every G pass but the mixing one (update_emas), as
NVlabs' mapping updates it in every training call.

Lazy regularisation: both Adams get ``lr * k / (k + 1)`` and ``betas ** (k / (k + 1))`` for
their interval k, eps 1e-8. Augmentation: 'ada' always, 'noaug' never, 'auto' when the folder
has fewer than ``data.ADA_BELOW`` images; reals and fakes go through the same pipe.

In several processes (DistributedDataParallel) G is trained through ``GeneratorPass``, one
module whose forward is the whole generation (mapping, mixing, synthesis), so that every use of
G's weights is inside one wrapped forward; the penalties' double backward then runs through the
wrappers as NVlabs' does. ``pl_mean`` is each process's own (as NVlabs'); the ADA sums are
summed over the processes before p moves.

FID and KID (``metrics_every`` > 0): the engine's ``evaluate`` hook, on rank 0, compares
``metrics_images`` images of G_ema (seeds 0, 1, ... as ``generate``, truncation 1, constant
noise, so the figure is reproducible and the global random state untouched) with the folder's
first ``metrics_images`` images (unflipped), on the FID Inception (mlcore.metrics). The numbers
are ``fid`` and ``kid`` in that step's metrics record. Without the Inception weights (offline,
no ``RESTYLE_INCEPTION_WEIGHTS``) the run logs one warning when it starts, carries the label
``NO_FID_LABEL`` and records no number.

The run's one input is ``data``: a folder of images (mlcore.stylegan2.data).
"""

from __future__ import annotations

import copy
import logging
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from torch import nn

from mlcore.engine import ExportedModel, TrainingTask
from mlcore.metrics import MetricUnavailable, compute_fid_kid, load_inception
from mlcore.stylegan2 import losses
from mlcore.stylegan2.augment import AdaController, AugmentPipe, make_pipe
from mlcore.stylegan2.config import StyleGAN2TrainConfig
from mlcore.stylegan2.data import ADA_BELOW, ImageFolderDataset
from mlcore.stylegan2.generate import z_from_seed
from mlcore.stylegan2.networks import Generator, build, build_discriminator

__all__ = ["NO_FID_LABEL", "Task", "GeneratorPass", "TrainingState", "grid_latents", "augmentation_on"]

log = logging.getLogger(__name__)

NO_FID_LABEL = "FID/KID not computed: no Inception weights (RESTYLE_INCEPTION_WEIGHTS)"
METRICS_BATCH = 32  # images per Inception pass while measuring FID/KID


def grid_latents(count: int, z_dim: int) -> torch.Tensor:
    """z of seeds 0 .. count - 1, each ``numpy.random.RandomState(seed).randn(1, z_dim)`` as NVlabs
    ``generate.py`` draws it, so a grid seed is the same image in every tool."""
    return torch.cat([z_from_seed(seed, z_dim) for seed in range(count)])


def augmentation_on(mode: str, dataset_size: int) -> bool:
    """Whether ADA runs: 'ada' yes, 'noaug' no, 'auto' for fewer than ``ADA_BELOW`` images."""
    if mode == "auto":
        return dataset_size < ADA_BELOW
    return mode == "ada"


class TrainingState(nn.Module):
    """The loop's own numbers, as buffers so that checkpoints keep them: images seen, steps done,
    the path-length running mean and the latest penalties (reported on every step)."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("images_seen", torch.zeros([], dtype=torch.int64))
        self.register_buffer("steps", torch.zeros([], dtype=torch.int64))
        self.register_buffer("pl_mean", torch.zeros([]))
        self.register_buffer("pl_penalty", torch.zeros([]))
        self.register_buffer("r1_penalty", torch.zeros([]))


class GeneratorPass(nn.Module):
    """One generation as training does it: z -> ws (w_avg updated when asked), the ws from
    ``cutoff`` on replaced by those of ``mix_z``, then synthesis with random noise. Returns
    (images, ws). Its only module is the generator, so it has G's parameters and nothing else."""

    def __init__(self, generator: Generator) -> None:
        super().__init__()
        self.generator = generator

    def forward(self, z: torch.Tensor, mix_z: torch.Tensor | None, cutoff: torch.Tensor | None,
                update_emas: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
        g = self.generator
        ws = g.mapping(z, None, update_emas=update_emas)
        if mix_z is not None:
            mixed = g.mapping(mix_z, None, update_emas=False)
            later = torch.arange(ws.shape[1], device=ws.device)[None, :, None] >= cutoff
            ws = torch.where(later, mixed, ws)
        return g.synthesis(ws, noise_mode="random"), ws


class Task(TrainingTask):
    """A StyleGAN2 generator against its residual discriminator on one folder of images."""

    config: StyleGAN2TrainConfig

    def setup(self) -> None:
        config, arch = self.config, self.config.arch
        self.data_path = Path(self.inputs["data"])
        self._dataset = ImageFolderDataset(self.data_path, resolution=arch.resolution, crop=config.crop,
                                           xflip=config.xflip, seed=self.seed)
        self.ada = augmentation_on(config.augment, len(self._dataset))
        log.info("stylegan2 %d px on %d images in %s; augmentation %s (%s)", arch.resolution, len(self._dataset),
                 self.data_path, "ADA" if self.ada else "off", config.augment)

        self.G = build(arch).to(self.device)
        self.D = build_discriminator(arch, mbstd_group_size=config.mbstd_group_size).to(self.device)
        self.G_ema = copy.deepcopy(self.G).eval().requires_grad_(False)
        self.augment: AugmentPipe = make_pipe("bgc", p=config.augment_p).to(self.device)
        self.state = TrainingState().to(self.device)
        self.networks = {"G": self.G, "D": self.D, "G_ema": self.G_ema, "augment": self.augment,
                         "state": self.state}
        self.g_pass: nn.Module = GeneratorPass(self.G)  # replaced by its DDP wrapper in distribute()
        self.optimizers = {
            "G": self._adam(self.G, config.g_reg_interval if config.pl_weight > 0 else None),
            "D": self._adam(self.D, config.d_reg_interval if config.r1_gamma > 0 else None),
        }
        self.controller = AdaController(batch_size=config.batch_size, target=config.ada_target,
                                        interval=config.ada_interval, kimg=config.ada_kimg)
        self.inception = self._load_inception() if config.metrics_every > 0 and _is_main_process() else None

    def _load_inception(self):
        """The FID Inception, or None with one warning when its weights cannot be had."""
        try:
            with self._own_random_state():  # building it draws initial weights: not from the run's RNG
                return load_inception(device=self.device)
        except MetricUnavailable as exc:
            log.warning("FID/KID will not be computed in this run (metrics_every %d): %s",
                        self.config.metrics_every, exc)
            return None

    def _adam(self, net: nn.Module, interval: int | None) -> torch.optim.Adam:
        lr, betas = losses.lazy_adam(self.config.lr, tuple(self.config.betas), interval)
        return torch.optim.Adam(net.parameters(), lr=lr, betas=betas, eps=1e-8)

    # --- the engine's hooks ----------------------------------------------------------------

    @property
    def dataset(self) -> ImageFolderDataset:
        return self._dataset

    def distribute(self, wrap) -> None:
        # G is trained through the GeneratorPass wrapper (see the module docstring), D directly.
        self.step_networks = dict(self.networks)
        self.step_networks["D"] = wrap(self.D, False)
        self.g_pass = wrap(GeneratorPass(self.G), False)

    def set_training(self, training: bool) -> None:
        super().set_training(training)
        self.G_ema.eval()  # only ever evaluated

    @property
    def labels(self) -> tuple[str, ...]:
        missing = self.config.metrics_every > 0 and self.inception is None and _is_main_process()
        return (NO_FID_LABEL,) if missing else ()

    @property
    def evaluate_every(self) -> int:
        return self.config.metrics_every if self.inception is not None else 0

    def evaluate(self, step: int) -> dict[str, float]:
        """FID and KID of G_ema against the folder (see the module docstring)."""
        z_dim = self.config.arch.z_dim

        def fakes(first: int, n: int) -> torch.Tensor:
            return self.sample(torch.cat([z_from_seed(seed, z_dim) for seed in range(first, first + n)]))

        def reals():
            for start in range(0, min(len(self._dataset), self.config.metrics_images), METRICS_BATCH):
                stop = min(start + METRICS_BATCH, len(self._dataset))
                pixels = torch.stack([self._dataset.pixels(i) for i in range(start, stop)])
                yield pixels.float() / 255

        with self._own_random_state():
            result = compute_fid_kid(fakes, reals(), self.config.metrics_images, self.inception,
                                     batch_size=METRICS_BATCH, seed=self.seed)
        return {"fid": result.fid, "kid": result.kid}

    def _own_random_state(self):
        """Torch's global random state as it was, afterwards (a resumed run must match a straight one)."""
        return torch.random.fork_rng(devices=[self.device] if self.device.type == "cuda" else [])

    def probe_batch(self) -> torch.Tensor:
        return grid_latents(self.config.grid_seeds, self.config.arch.z_dim)

    def sample(self, probe: torch.Tensor) -> torch.Tensor:
        """One row: G_ema's images of the grid seeds, constant noise, in [0, 1]."""
        images = self.G_ema(probe.to(self.device), None, noise_mode="const").float()
        images = ((images + 1) / 2).clamp(0, 1)
        return images.expand(-1, 3, -1, -1) if images.shape[1] == 1 else images

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "ada": self.controller.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.controller.load_state_dict(state["ada"])

    # --- one step --------------------------------------------------------------------------

    def train_step(self, reals: torch.Tensor) -> dict[str, float]:
        config, state = self.config, self.state
        step = int(state.steps)
        batch = reals.shape[0]  # this process's share of the batch
        d_net = self.step_networks["D"]
        metrics: dict[str, float] = {}

        # Gmain: D's weights take no gradient, so D is called unwrapped.
        with _frozen(self.D):
            fakes, _ = self._generate(batch)
            g_loss = losses.generator_loss(self.D(self._augmented(fakes), None))
            self.optimizer_step(g_loss, self.optimizers["G"])

        # Greg: path length, lazily.
        if config.pl_weight > 0 and step % config.g_reg_interval == 0:
            fakes, ws = self._generate(max(batch // config.pl_batch_shrink, 1))
            lengths = losses.path_lengths(fakes, ws, losses.path_length_noise(fakes))
            pl_mean = state.pl_mean.lerp(lengths.mean().detach(), config.pl_decay)
            state.pl_mean.copy_(pl_mean)
            penalty = (lengths - pl_mean).square()
            state.pl_penalty.copy_(penalty.mean().detach())
            # The zero image term puts every G weight in the graph (DDP needs a gradient for each).
            loss = (fakes[:, 0, 0, 0] * 0 + penalty * config.pl_weight).mean() * config.g_reg_interval
            self.optimizer_step(loss, self.optimizers["G"])

        # Dmain: G runs without gradients; reals and fakes through the same augmentation.
        with torch.no_grad():
            fakes, _ = self._generate(batch)
        fake_logits = d_net(self._augmented(fakes), None)
        real_logits = d_net(self._augmented(reals), None)
        self._observe(real_logits)
        d_loss = losses.discriminator_loss(real_logits, fake_logits)
        self.optimizer_step(d_loss, self.optimizers["D"])
        signs = real_logits.detach().sign().mean()

        # Dreg: R1 on (augmented) reals, lazily.
        if config.r1_gamma > 0 and step % config.d_reg_interval == 0:
            x = reals.detach().requires_grad_(True)
            logits = d_net(self._augmented(x), None)
            self._observe(logits)
            r1 = losses.r1_penalty(logits, x)
            state.r1_penalty.copy_(r1.mean().detach())
            loss = (logits.squeeze(1) * 0 + r1 * (config.r1_gamma / 2)).mean() * config.d_reg_interval
            self.optimizer_step(loss, self.optimizers["D"])

        self._update_ema()
        state.images_seen += config.batch_size
        state.steps += 1
        if self.ada:
            seen = self.controller.signs_mean()
            metrics["d_real_sign"] = float(seen if seen is not None else signs)
            self.controller.step(self.augment, reduce=_sum_over_processes)
        else:
            metrics["d_real_sign"] = float(signs)
        metrics.update({
            "g_loss": g_loss.item(), "d_loss": d_loss.item(),
            "r1_penalty": float(state.r1_penalty), "pl_penalty": float(state.pl_penalty),
            "pl_mean": float(state.pl_mean), "augment_p": float(self.augment.p),
            "kimg": int(state.images_seen) / 1000,
        })
        metrics["loss"] = metrics["g_loss"]  # what every family's progress bar shows (mlcore.cli)
        return metrics

    def _generate(self, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        """n generated images and their ws, with style mixing at the configured probability."""
        num_ws, device = self.G.num_ws, self.device
        z = torch.randn([n, self.G.z_dim], device=device)
        mix_z = cutoff = None
        if self.config.style_mixing_prob > 0:
            # NVlabs: a cutoff uniform in 1 .. num_ws - 1, used with the probability, else none.
            cutoff = torch.randint(1, num_ws, [], device=device)
            cutoff = torch.where(torch.rand([], device=device) < self.config.style_mixing_prob, cutoff,
                                 torch.full_like(cutoff, num_ws))
            mix_z = torch.randn_like(z)
        return self.g_pass(z, mix_z, cutoff)

    def _augmented(self, images: torch.Tensor) -> torch.Tensor:
        return self.augment(images) if self.ada else images

    def _observe(self, real_logits: torch.Tensor) -> None:
        if self.ada:
            self.controller.observe(real_logits)

    @torch.no_grad()
    def _update_ema(self) -> None:
        beta = losses.ema_beta(self.config.batch_size, int(self.state.images_seen), ema_kimg=self.config.ema_kimg,
                               ema_rampup=self.config.ema_rampup)
        for p_ema, p in zip(self.G_ema.parameters(), self.G.parameters()):
            p_ema.copy_(p.detach().lerp(p_ema, beta))
        for b_ema, b in zip(self.G_ema.buffers(), self.G.buffers()):
            b_ema.copy_(b)

    # --- the model -------------------------------------------------------------------------

    def export_model(self) -> ExportedModel:
        config, arch = self.config, self.config.arch
        kimg = int(self.state.images_seen) / 1000
        meta: dict[str, Any] = {
            "name": f"{self.data_path.name} {arch.resolution} px (trained)",
            "source": "trained with mlcore (Karras et al. 2020 StyleGAN2; the EMA generator)",
            "resolution": arch.resolution,
            "kimg": kimg,
            "dataset": self.data_path.name,
            "dataset_images": len(self._dataset),
            "augment": config.augment,
            "augment_p": float(self.augment.p),
        }
        state = {k: v.detach().to("cpu", torch.float32) if v.is_floating_point() else v.detach().cpu()
                 for k, v in self.G_ema.state_dict().items()}
        return ExportedModel(family="stylegan2", config=arch, state_dict=state, meta=meta)


def _is_main_process() -> bool:
    """Rank 0 (or the only process): the one that evaluates."""
    return not (dist.is_available() and dist.is_initialized()) or dist.get_rank() == 0


def _sum_over_processes(t: torch.Tensor) -> torch.Tensor:
    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        t = t.clone()
        dist.all_reduce(t)
    return t


class _frozen:
    """No weight gradients for ``module`` inside (gradients still flow through it)."""

    def __init__(self, module: nn.Module) -> None:
        self.params = [p for p in module.parameters() if p.requires_grad]

    def __enter__(self) -> None:
        for p in self.params:
            p.requires_grad_(False)

    def __exit__(self, *exc: object) -> None:
        for p in self.params:
            p.requires_grad_(True)
