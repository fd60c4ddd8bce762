"""U-GAT-IT networks (Kim et al. 2020), laid out like znxlwm/UGATIT-pytorch's ``networks.py``.

The module and attribute names are theirs (``DownBlock``, ``gap_fc``, ``gmp_fc``, ``conv1x1``,
``FC``, ``gamma``, ``beta``, ``UpBlock1_1``.., ``UpBlock2``; ``model``, ``pad``, ``conv`` in
the discriminator; spectral norm's ``weight_orig``/``weight_u``/``weight_v``), so the state
dicts of their checkpoints (``genA2B``, ``genB2A``, ``disGA``...) load with identical keys.

Generator (``ResnetGenerator``), on images in [-1, 1]:
- encoder: 7x7 conv (reflection pad), two 3x3 stride-2 convs, each + InstanceNorm + ReLU, then
  ``n_res`` residual blocks, all inside ``DownBlock``;
- CAM attention: an auxiliary classifier (``gap_fc``, ``gmp_fc``: no bias) on the global
  average- and max-pooled features gives ``cam_logit`` = [gap_logit, gmp_logit]; its weights
  re-weight the feature map channel by channel, the two re-weighted maps are concatenated and
  reduced by ``conv1x1`` + ReLU; the attention ``heatmap`` is that map summed over channels;
- gamma and beta of AdaLIN from an MLP (``FC``, then ``gamma``/``beta``) on the whole flattened
  map (full) or on its global average pool (light);
- decoder: ``n_res`` AdaLIN residual blocks (``UpBlock1_i``), then twice nearest upsampling +
  3x3 conv + LIN (``ILN``) + ReLU, and a 7x7 conv + tanh (``UpBlock2``).
It returns ``(image, cam_logit, heatmap)``.

Normalisation: ``AdaILN`` and ``ILN`` mix instance and layer normalisation,
rho * IN(x) + (1 - rho) * LN(x), then scale and shift (AdaLIN: gamma/beta from the MLP; LIN:
learned per channel). rho starts at 0.9 in AdaLIN and 0 in LIN and is clipped to [0, 1] after
every optimiser step (``clip_rho``). As in their current networks.py, the variances are
torch's default unbiased ones (divided by n - 1); their first PyTorch release took a variance
of variances there (fixed since), so a checkpoint trained with it gives other pictures here.

Discriminator: 4x4 convs with spectral norm and leaky ReLU (``model``: ``n_layers - 2``
stride-2 halvings and a stride-1 conv), the same CAM on top (spectrally normalised ``gap_fc``/
``gmp_fc``, ``conv1x1``, leaky ReLU) and a 4x4 conv to a patch map of logits. Kim et al. use a
global (7 layers) and a local (5 layers) discriminator per domain. It returns
``(logits, cam_logit, heatmap)``. Like their code, the CAM re-weights the features with the
spectral-norm layers' raw ``weight_orig`` while the logits use the normalised weight.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from mlcore.ugatit.config import UGATITConfig

__all__ = [
    "ResnetGenerator",
    "ResnetBlock",
    "ResnetAdaILNBlock",
    "AdaILN",
    "ILN",
    "Discriminator",
    "clip_rho",
    "build",
]

_N_DOWNSAMPLING = 2


class ResnetGenerator(nn.Module):
    """The U-GAT-IT generator; see the module docstring. Input and output in [-1, 1]."""

    def __init__(
        self,
        input_nc: int = 3,
        output_nc: int = 3,
        ngf: int = 64,
        n_blocks: int = 4,
        img_size: int = 256,
        light: bool = False,
    ) -> None:
        super().__init__()
        if n_blocks < 0:
            raise ValueError(f"n_blocks must not be negative; got {n_blocks}")
        self.input_nc, self.output_nc = input_nc, output_nc
        self.ngf, self.n_blocks, self.img_size, self.light = ngf, n_blocks, img_size, light

        down: list[nn.Module] = [
            nn.ReflectionPad2d(3),
            nn.Conv2d(input_nc, ngf, kernel_size=7, stride=1, padding=0, bias=False),
            nn.InstanceNorm2d(ngf),
            nn.ReLU(True),
        ]
        for i in range(_N_DOWNSAMPLING):
            mult = 2**i
            down += [
                nn.ReflectionPad2d(1),
                nn.Conv2d(ngf * mult, ngf * mult * 2, kernel_size=3, stride=2, padding=0, bias=False),
                nn.InstanceNorm2d(ngf * mult * 2),
                nn.ReLU(True),
            ]
        mult = 2**_N_DOWNSAMPLING
        channels = ngf * mult
        down += [ResnetBlock(channels, use_bias=False) for _ in range(n_blocks)]

        # Class activation map: the auxiliary classifier and the fusion of its two views.
        self.gap_fc = nn.Linear(channels, 1, bias=False)
        self.gmp_fc = nn.Linear(channels, 1, bias=False)
        self.conv1x1 = nn.Conv2d(channels * 2, channels, kernel_size=1, stride=1, bias=True)
        self.relu = nn.ReLU(True)

        # gamma/beta MLP: from the pooled features (light) or the whole map (full).
        fc_in = channels if light else (img_size // mult) * (img_size // mult) * channels
        fc = [
            nn.Linear(fc_in, channels, bias=False),
            nn.ReLU(True),
            nn.Linear(channels, channels, bias=False),
            nn.ReLU(True),
        ]
        self.gamma = nn.Linear(channels, channels, bias=False)
        self.beta = nn.Linear(channels, channels, bias=False)

        for i in range(n_blocks):
            setattr(self, f"UpBlock1_{i + 1}", ResnetAdaILNBlock(channels, use_bias=False))

        up: list[nn.Module] = []
        for i in range(_N_DOWNSAMPLING):
            mult = 2 ** (_N_DOWNSAMPLING - i)
            up += [
                nn.Upsample(scale_factor=2, mode="nearest"),
                nn.ReflectionPad2d(1),
                nn.Conv2d(ngf * mult, ngf * mult // 2, kernel_size=3, stride=1, padding=0, bias=False),
                ILN(ngf * mult // 2),
                nn.ReLU(True),
            ]
        up += [
            nn.ReflectionPad2d(3),
            nn.Conv2d(ngf, output_nc, kernel_size=7, stride=1, padding=0, bias=False),
            nn.Tanh(),
        ]
        # Assigned last, as in theirs, so the parameters come in the same order.
        self.DownBlock = nn.Sequential(*down)
        self.FC = nn.Sequential(*fc)
        self.UpBlock2 = nn.Sequential(*up)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        x = self.DownBlock(x)
        cam_logit, x = _class_activation(x, self.gap_fc, self.gmp_fc, self.gap_fc.weight, self.gmp_fc.weight)
        x = self.relu(self.conv1x1(x))
        heatmap = x.sum(dim=1, keepdim=True)

        if self.light:
            pooled = F.adaptive_avg_pool2d(x, 1).flatten(1)
            hidden = self.FC(pooled)
        else:
            if x.shape[2] * x.shape[3] * x.shape[1] != self.FC[0].in_features:
                side = 4 * x.shape[2], 4 * x.shape[3]
                raise ValueError(
                    f"a full U-GAT-IT generator takes {self.img_size}x{self.img_size} images only; "
                    f"got {side[1]}x{side[0]} (resize first, as mlcore.ugatit.translate does)"
                )
            hidden = self.FC(x.flatten(1))
        gamma, beta = self.gamma(hidden), self.beta(hidden)

        for i in range(self.n_blocks):
            x = getattr(self, f"UpBlock1_{i + 1}")(x, gamma, beta)
        return self.UpBlock2(x), cam_logit, heatmap


def _class_activation(
    x: torch.Tensor, gap_fc: nn.Module, gmp_fc: nn.Module, gap_weight: torch.Tensor, gmp_weight: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """CAM logits from the average- and max-pooled features, and the two re-weighted maps
    concatenated along the channels (2C channels)."""
    gap_logit = gap_fc(F.adaptive_avg_pool2d(x, 1).flatten(1))
    gmp_logit = gmp_fc(F.adaptive_max_pool2d(x, 1).flatten(1))
    gap = x * gap_weight.view(1, -1, 1, 1)
    gmp = x * gmp_weight.view(1, -1, 1, 1)
    return torch.cat([gap_logit, gmp_logit], 1), torch.cat([gap, gmp], 1)


class ResnetBlock(nn.Module):
    """Encoder residual block: x + IN(conv(ReLU(IN(conv(x))))), reflection padding."""

    def __init__(self, dim: int, use_bias: bool) -> None:
        super().__init__()
        self.conv_block = nn.Sequential(
            nn.ReflectionPad2d(1),
            nn.Conv2d(dim, dim, kernel_size=3, stride=1, padding=0, bias=use_bias),
            nn.InstanceNorm2d(dim),
            nn.ReLU(True),
            nn.ReflectionPad2d(1),
            nn.Conv2d(dim, dim, kernel_size=3, stride=1, padding=0, bias=use_bias),
            nn.InstanceNorm2d(dim),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv_block(x)


class ResnetAdaILNBlock(nn.Module):
    """Decoder residual block with AdaLIN: x + AdaLIN(conv(ReLU(AdaLIN(conv(x))))) ."""

    def __init__(self, dim: int, use_bias: bool) -> None:
        super().__init__()
        self.pad1 = nn.ReflectionPad2d(1)
        self.conv1 = nn.Conv2d(dim, dim, kernel_size=3, stride=1, padding=0, bias=use_bias)
        self.norm1 = AdaILN(dim)
        self.relu1 = nn.ReLU(True)
        self.pad2 = nn.ReflectionPad2d(1)
        self.conv2 = nn.Conv2d(dim, dim, kernel_size=3, stride=1, padding=0, bias=use_bias)
        self.norm2 = AdaILN(dim)

    def forward(self, x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:
        out = self.relu1(self.norm1(self.conv1(self.pad1(x)), gamma, beta))
        out = self.norm2(self.conv2(self.pad2(out)), gamma, beta)
        return out + x


def _instance_layer_mix(
    x: torch.Tensor, rho: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor, eps: float
) -> torch.Tensor:
    """(rho * IN(x) + (1 - rho) * LN(x)) * gamma + beta, with unbiased variances as theirs.

    Both normalisations are affine in x per image and channel, so the whole is x * scale +
    shift with N x C x 1 x 1 ``scale`` and ``shift``: one full-size tensor is made (and kept for
    backward) instead of the half dozen of the formula written out, which dominate training
    memory. Equal to their formula up to float rounding.
    """
    in_mean, in_var = x.mean(dim=(2, 3), keepdim=True), x.var(dim=(2, 3), keepdim=True)
    ln_mean, ln_var = x.mean(dim=(1, 2, 3), keepdim=True), x.var(dim=(1, 2, 3), keepdim=True)
    in_w, ln_w = rho * torch.rsqrt(in_var + eps), (1 - rho) * torch.rsqrt(ln_var + eps)
    scale = (in_w + ln_w) * gamma
    shift = beta - (in_w * in_mean + ln_w * ln_mean) * gamma
    return torch.addcmul(shift, x, scale)


class AdaILN(nn.Module):
    """Adaptive Layer-Instance Normalisation: gamma and beta come from the generator's MLP."""

    def __init__(self, num_features: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps
        self.rho = nn.Parameter(torch.full((1, num_features, 1, 1), 0.9))

    def forward(self, x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:
        return _instance_layer_mix(x, self.rho, gamma[:, :, None, None], beta[:, :, None, None], self.eps)


class ILN(nn.Module):
    """Layer-Instance Normalisation with its own per-channel gamma and beta (the up-sampling)."""

    def __init__(self, num_features: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps
        self.rho = nn.Parameter(torch.zeros(1, num_features, 1, 1))
        self.gamma = nn.Parameter(torch.ones(1, num_features, 1, 1))
        self.beta = nn.Parameter(torch.zeros(1, num_features, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _instance_layer_mix(x, self.rho, self.gamma, self.beta, self.eps)


def clip_rho(module: nn.Module, low: float = 0.0, high: float = 1.0) -> None:
    """Clamp the ``rho`` of every AdaILN/ILN in ``module`` to [low, high], in place (their
    ``RhoClipper``; run it after each optimiser step of the generators)."""
    with torch.no_grad():
        for sub in module.modules():
            if isinstance(sub, (AdaILN, ILN)):
                sub.rho.clamp_(low, high)


class Discriminator(nn.Module):
    """A U-GAT-IT discriminator with CAM and spectral norm; see the module docstring."""

    def __init__(self, input_nc: int = 3, ndf: int = 64, n_layers: int = 5) -> None:
        super().__init__()
        if n_layers < 3:
            raise ValueError(f"a discriminator needs at least 3 layers; got {n_layers}")
        sn = nn.utils.spectral_norm
        model: list[nn.Module] = [
            nn.ReflectionPad2d(1),
            sn(nn.Conv2d(input_nc, ndf, kernel_size=4, stride=2, padding=0, bias=True)),
            nn.LeakyReLU(0.2, True),
        ]
        for i in range(1, n_layers - 2):
            mult = 2 ** (i - 1)
            model += [
                nn.ReflectionPad2d(1),
                sn(nn.Conv2d(ndf * mult, ndf * mult * 2, kernel_size=4, stride=2, padding=0, bias=True)),
                nn.LeakyReLU(0.2, True),
            ]
        mult = 2 ** (n_layers - 2 - 1)
        model += [
            nn.ReflectionPad2d(1),
            sn(nn.Conv2d(ndf * mult, ndf * mult * 2, kernel_size=4, stride=1, padding=0, bias=True)),
            nn.LeakyReLU(0.2, True),
        ]
        channels = ndf * 2 ** (n_layers - 2)
        self.gap_fc = sn(nn.Linear(channels, 1, bias=False))
        self.gmp_fc = sn(nn.Linear(channels, 1, bias=False))
        self.conv1x1 = nn.Conv2d(channels * 2, channels, kernel_size=1, stride=1, bias=True)
        self.leaky_relu = nn.LeakyReLU(0.2, True)
        self.pad = nn.ReflectionPad2d(1)
        self.conv = sn(nn.Conv2d(channels, 1, kernel_size=4, stride=1, padding=0, bias=False))
        self.model = nn.Sequential(*model)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        x = self.model(x)
        # weight_orig, not the normalised weight: what list(gap_fc.parameters())[0] is in theirs.
        cam_logit, x = _class_activation(x, self.gap_fc, self.gmp_fc, self.gap_fc.weight_orig,
                                         self.gmp_fc.weight_orig)
        x = self.leaky_relu(self.conv1x1(x))
        heatmap = x.sum(dim=1, keepdim=True)
        return self.conv(self.pad(x)), cam_logit, heatmap


def build(config: UGATITConfig) -> ResnetGenerator:
    """A freshly initialised generator for ``config`` (the family's ``build``)."""
    return ResnetGenerator(
        input_nc=config.in_channels,
        output_nc=config.out_channels,
        ngf=config.ngf,
        n_blocks=config.n_res,
        img_size=config.img_size,
        light=config.light,
    )
