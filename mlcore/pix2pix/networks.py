"""Pix2Pix networks (Isola et al. 2017): the U-Net generator and the PatchGAN discriminator.

Both reproduce the module structure of junyanz/pytorch-CycleGAN-and-pix2pix
(``models/networks.py``: ``UnetGenerator`` built from nested ``UnetSkipConnectionBlock``s, and
``NLayerDiscriminator``), so parameter names match theirs key for key
(``model.model.1.model.3.model.1.weight`` ...) and their ``latest_net_G.pth`` /
``latest_net_D.pth`` state dicts load unchanged.

U-Net, outside in: each block is ``down -> inner block -> up`` and returns
``cat(its input, up)`` (the skip connection); the outermost returns ``up`` alone through Tanh.

    outermost  [conv4x4/2] [inner] [relu, convT4x4/2, tanh]           in_channels -> ngf
    middle     [lrelu, conv4x4/2, norm] [inner] [relu, convT4x4/2, norm (, dropout)]
    innermost  [lrelu, conv4x4/2] [relu, convT4x4/2, norm]            8 ngf at 1/2^n

Widths go ngf, 2, 4, 8, 8, ... x ngf; convolutions before a batch norm have no bias (the norm's
shift replaces it), with instance norm (no affine parameters) they do. Dropout 0.5 follows the
8 x ngf middle blocks (3 in unet_256, 2 in unet_128), the paper's noise source.

junyanz uses in-place LeakyReLUs, which overwrite a block's input before it is concatenated,
so their skips carry leaky_relu(x) rather than x. Every skip goes straight into the parent's
ReLU, and relu(leaky_relu(x)) == relu(x), so the out-of-place activations used here give the
same output and gradients.

Weights start as junyanz's ``init_weights('normal', 0.02)``: convolution weights ~ N(0, 0.02),
biases 0, batch norm scales ~ N(1, 0.02) and shifts 0.

Inference ("image" test_norm): the paper runs the generator at test time exactly as in
training, so batch norm uses the statistics of the test image (batch size 1). ``BatchNorm2d``
here does that in eval mode when ``image_statistics`` is set: it normalises each image by its
own mean and variance (instance normalisation with the batch norm's scale and shift), which
for one image equals training-mode batch norm, without touching the running averages.
Dropout is always off at inference (eval mode): a web conversion must give the same picture
twice.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from mlcore.pix2pix.config import GENERATORS, Pix2PixConfig

__all__ = [
    "BatchNorm2d",
    "UnetSkipConnectionBlock",
    "UnetGenerator",
    "NLayerDiscriminator",
    "build",
    "build_discriminator",
    "init_weights",
    "to_channels",
]


class BatchNorm2d(nn.BatchNorm2d):
    """``nn.BatchNorm2d`` (same parameters and buffers) that can normalise each image by its
    own statistics in eval mode (``image_statistics``), as the paper's test-time batch norm."""

    image_statistics: bool = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training or not self.image_statistics:
            return super().forward(x)
        return F.instance_norm(x, weight=self.weight, bias=self.bias, use_input_stats=True, eps=self.eps)


def _norm_layer(norm: str, channels: int) -> nn.Module:
    if norm == "batch":
        return BatchNorm2d(channels)
    if norm == "instance":
        return nn.InstanceNorm2d(channels, affine=False, track_running_stats=False)
    raise ValueError(f"norm must be batch or instance; got {norm!r}")


class UnetSkipConnectionBlock(nn.Module):
    """One level of the U-Net; see the module docstring. ``model`` holds the layers in
    junyanz's order, so the parameter names are theirs."""

    def __init__(
        self,
        outer_nc: int,
        inner_nc: int,
        input_nc: int | None = None,
        submodule: nn.Module | None = None,
        *,
        outermost: bool = False,
        innermost: bool = False,
        norm: str = "batch",
        use_dropout: bool = False,
    ) -> None:
        super().__init__()
        self.outermost = outermost
        use_bias = norm == "instance"
        input_nc = outer_nc if input_nc is None else input_nc
        downconv = nn.Conv2d(input_nc, inner_nc, kernel_size=4, stride=2, padding=1, bias=use_bias)
        downrelu = nn.LeakyReLU(0.2)
        uprelu = nn.ReLU()
        if outermost:
            upconv = nn.ConvTranspose2d(inner_nc * 2, outer_nc, kernel_size=4, stride=2, padding=1)
            layers = [downconv, submodule, uprelu, upconv, nn.Tanh()]
        elif innermost:
            upconv = nn.ConvTranspose2d(inner_nc, outer_nc, kernel_size=4, stride=2, padding=1, bias=use_bias)
            layers = [downrelu, downconv, uprelu, upconv, _norm_layer(norm, outer_nc)]
        else:
            upconv = nn.ConvTranspose2d(inner_nc * 2, outer_nc, kernel_size=4, stride=2, padding=1, bias=use_bias)
            layers = [downrelu, downconv, _norm_layer(norm, inner_nc), submodule,
                      uprelu, upconv, _norm_layer(norm, outer_nc)]
            if use_dropout:
                layers.append(nn.Dropout(0.5))
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.outermost:
            return self.model(x)
        return torch.cat([x, self.model(x)], 1)


class UnetGenerator(nn.Module):
    """The Pix2Pix U-Net: ``N x in_channels x H x W`` in -1..1 to ``N x out_channels x H x W``
    in -1..1 (Tanh); H and W must be multiples of ``2 ** num_downs``."""

    def __init__(
        self,
        in_channels: int = 3,
        out_channels: int = 3,
        num_downs: int = 8,
        ngf: int = 64,
        *,
        norm: str = "batch",
        use_dropout: bool = True,
    ) -> None:
        super().__init__()
        if num_downs < 5:
            raise ValueError(f"a U-Net needs at least 5 downsamplings; got {num_downs}")
        self.num_downs = num_downs
        self.in_channels, self.out_channels = in_channels, out_channels
        block = UnetSkipConnectionBlock(ngf * 8, ngf * 8, innermost=True, norm=norm)
        for _ in range(num_downs - 5):
            block = UnetSkipConnectionBlock(ngf * 8, ngf * 8, submodule=block, norm=norm, use_dropout=use_dropout)
        block = UnetSkipConnectionBlock(ngf * 4, ngf * 8, submodule=block, norm=norm)
        block = UnetSkipConnectionBlock(ngf * 2, ngf * 4, submodule=block, norm=norm)
        block = UnetSkipConnectionBlock(ngf, ngf * 2, submodule=block, norm=norm)
        self.model = UnetSkipConnectionBlock(out_channels, ngf, in_channels, submodule=block,
                                             outermost=True, norm=norm)

    @property
    def multiple(self) -> int:
        return 2 ** self.num_downs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        if h % self.multiple or w % self.multiple:
            raise ValueError(
                f"this U-Net takes sizes that are multiples of {self.multiple}; got {h}x{w} "
                "(mlcore.pix2pix.inferer.translate pads any size)"
            )
        return self.model(x)

    def use_image_statistics(self, enabled: bool) -> None:
        """At inference, normalise with each image's statistics (True) or the running ones."""
        for module in self.modules():
            if isinstance(module, BatchNorm2d):
                module.image_statistics = enabled


class NLayerDiscriminator(nn.Module):
    """The PatchGAN: ``n_layers`` stride-2 4x4 convolutions, one stride-1, then a 1-channel
    4x4 convolution giving one logit per patch (70x70 patches for n_layers=3; a 256 px input
    gives a 30x30 map). The first layer has no norm, as in the paper."""

    def __init__(self, in_channels: int, ndf: int = 64, n_layers: int = 3, *, norm: str = "batch") -> None:
        super().__init__()
        use_bias = norm == "instance"
        layers: list[nn.Module] = [nn.Conv2d(in_channels, ndf, kernel_size=4, stride=2, padding=1),
                                   nn.LeakyReLU(0.2)]
        mult = 1
        for n in range(1, n_layers):
            previous, mult = mult, min(2 ** n, 8)
            layers += [nn.Conv2d(ndf * previous, ndf * mult, kernel_size=4, stride=2, padding=1, bias=use_bias),
                       _norm_layer(norm, ndf * mult), nn.LeakyReLU(0.2)]
        previous, mult = mult, min(2 ** n_layers, 8)
        layers += [nn.Conv2d(ndf * previous, ndf * mult, kernel_size=4, stride=1, padding=1, bias=use_bias),
                   _norm_layer(norm, ndf * mult), nn.LeakyReLU(0.2),
                   nn.Conv2d(ndf * mult, 1, kernel_size=4, stride=1, padding=1)]
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


def init_weights(net: nn.Module, gain: float = 0.02) -> nn.Module:
    """junyanz's 'normal' initialisation (see the module docstring); returns ``net``."""
    for module in net.modules():
        if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(module.weight, 0.0, gain)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.BatchNorm2d):
            nn.init.normal_(module.weight, 1.0, gain)
            nn.init.zeros_(module.bias)
    return net


def build(config: Pix2PixConfig) -> UnetGenerator:
    """A freshly initialised generator for ``config`` (the family's ``build``)."""
    net = UnetGenerator(config.in_channels, config.out_channels, GENERATORS[config.generator], config.ngf,
                        norm=config.norm, use_dropout=config.dropout)
    net.use_image_statistics(config.test_norm == "image")
    return init_weights(net)


def build_discriminator(in_channels: int, ndf: int = 64, n_layers: int = 3, *, norm: str = "batch") -> NLayerDiscriminator:
    """A freshly initialised conditional PatchGAN; ``in_channels`` = A's channels + B's."""
    return init_weights(NLayerDiscriminator(in_channels, ndf, n_layers, norm=norm))


# ITU-R BT.601 luma, as Pillow's convert("L").
_LUMA = (0.299, 0.587, 0.114)


def to_channels(x: torch.Tensor, channels: int) -> torch.Tensor:
    """An ``N x 3 x H x W`` RGB batch as ``channels`` (3: itself; 1: luma), or a 1-channel batch
    as RGB (grey repeated) when ``channels`` is 3. Never modifies ``x``."""
    have = x.shape[1]
    if have == channels:
        return x
    if have == 3 and channels == 1:
        weights = torch.tensor(_LUMA, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
        return (x * weights).sum(dim=1, keepdim=True)
    if have == 1 and channels == 3:
        return x.expand(-1, 3, -1, -1)
    raise ValueError(f"cannot turn {have}-channel images into {channels}-channel ones")
