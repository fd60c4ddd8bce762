"""StyleGAN2 networks (Karras et al. 2020): the mapping and synthesis networks of the generator
(skip architecture) and the residual discriminator with minibatch standard deviation.

Module, parameter and buffer names and shapes are those of NVlabs stylegan2-ada-pytorch
``training/networks.py`` (and stylegan3's ``networks_stylegan2.py``), so their state dicts load
one to one with ``load_state_dict(strict=True)``:

    mapping.fc{i}.weight/bias, mapping.w_avg
    synthesis.b4.const, synthesis.b{res}.resample_filter
    synthesis.b{res}.conv0 (not b4) / conv1: affine.weight/bias, weight, bias, noise_strength,
        noise_const, resample_filter
    synthesis.b{res}.torgb: affine.weight/bias, weight, bias
    D: b{res}.fromrgb (first block only) / conv0 / conv1 / skip (no bias): weight, bias,
        resample_filter; b{res}.resample_filter; b4.conv, b4.fc, b4.out

Equalised learning rate (Karras et al. 2018): weights start as N(0, 1) / lr_multiplier and are
scaled at run time by lr_multiplier / sqrt(fan_in) (biases by lr_multiplier), so Adam's steps
are the same size for every layer. The modulated convolutions need no weight gain: demodulation
divides it out. Style affines start with bias 1, so every style starts near 1.

float16: the blocks of the top ``num_fp16_res`` resolutions (at least 8 px) compute in float16
on CUDA, as NVlabs' mixed precision; on any other device, or with ``force_fp32``, every block
computes in the network's own dtype, float32 as NVlabs (CPUs gain nothing from float16
convolutions; a float64 copy computes in float64, which the parity tests and gradient checks use). ``conv_clamp`` clamps
convolution outputs in either precision, as NVlabs does, so a model behaves the same on both.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from mlcore.stylegan2 import ops
from mlcore.stylegan2.config import StyleGAN2Config, check_resolution

__all__ = [
    "NOISE_MODES",
    "Conv2dLayer",
    "Discriminator",
    "DiscriminatorBlock",
    "DiscriminatorEpilogue",
    "FullyConnectedLayer",
    "Generator",
    "MappingNetwork",
    "MinibatchStdLayer",
    "SynthesisBlock",
    "SynthesisLayer",
    "SynthesisNetwork",
    "ToRGBLayer",
    "build",
    "build_discriminator",
]

NOISE_MODES = ("random", "const", "none")
RESAMPLE_TAPS = (1, 3, 3, 1)


def _channels(channel_base: int, channel_max: int, resolution: int) -> int:
    return min(channel_base // resolution, channel_max)


def _fp16_resolution(img_resolution: int, num_fp16_res: int) -> int:
    """The lowest resolution whose block runs in float16 (NVlabs: never below 8 px)."""
    return max(2 ** (int(math.log2(img_resolution)) + 1 - num_fp16_res), 8)


def _block_dtype(use_fp16: bool, force_fp32: bool, device: torch.device, base: torch.dtype) -> torch.dtype:
    """float16 for a mixed-precision block on CUDA, else the network's own dtype ``base``."""
    return torch.float16 if use_fp16 and not force_fp32 and device.type == "cuda" else base


class FullyConnectedLayer(nn.Module):
    """A linear layer with an equalised learning rate and a bias + activation."""

    def __init__(self, in_features: int, out_features: int, *, bias: bool = True, activation: str = "linear",
                 lr_multiplier: float = 1.0, bias_init: float = 0.0) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.activation = activation
        self.weight = nn.Parameter(torch.randn([out_features, in_features]) / lr_multiplier)
        self.bias = nn.Parameter(torch.full([out_features], float(bias_init))) if bias else None
        self.weight_gain = lr_multiplier / math.sqrt(in_features)
        self.bias_gain = lr_multiplier

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.weight.to(x.dtype) * self.weight_gain
        b = self.bias
        if b is not None:
            b = b.to(x.dtype)
            if self.bias_gain != 1:
                b = b * self.bias_gain
        if self.activation == "linear" and b is not None:
            return torch.addmm(b.unsqueeze(0), x, w.t())
        return ops.bias_act(x.matmul(w.t()), b, act=self.activation)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, activation={self.activation}"


class Conv2dLayer(nn.Module):
    """A convolution with an equalised learning rate, optional FIR up/downsampling by 2 and a
    bias + activation with clamp."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, *, bias: bool = True,
                 activation: str = "linear", up: int = 1, down: int = 1, conv_clamp: float | None = None) -> None:
        super().__init__()
        self.activation = activation
        self.up, self.down = up, down
        self.conv_clamp = conv_clamp
        self.register_buffer("resample_filter", ops.setup_filter(RESAMPLE_TAPS))
        self.padding = kernel_size // 2
        self.weight_gain = 1 / math.sqrt(in_channels * kernel_size ** 2)
        self.act_gain = ops.ACTIVATIONS[activation][0]
        self.weight = nn.Parameter(torch.randn([out_channels, in_channels, kernel_size, kernel_size]))
        self.bias = nn.Parameter(torch.zeros([out_channels])) if bias else None

    def forward(self, x: torch.Tensor, gain: float = 1.0) -> torch.Tensor:
        w = (self.weight * self.weight_gain).to(x.dtype)
        # NVlabs' upsampling layers apply their weight as a true convolution (flip_weight False).
        x = ops.conv2d_resample(x, w, self.resample_filter, up=self.up, down=self.down, padding=self.padding,
                                flip_weight=self.up == 1)
        clamp = self.conv_clamp * gain if self.conv_clamp is not None else None
        return ops.bias_act(x, self.bias, act=self.activation, gain=self.act_gain * gain, clamp=clamp)


class MappingNetwork(nn.Module):
    """z (and a label c) -> w: z normalised by its second moment, ``num_layers`` fully connected
    lrelu layers with a learning-rate multiplier (0.01), w broadcast to ``num_ws`` copies.

    ``w_avg`` tracks the mean w (w_avg <- mean(w) + beta (w_avg - mean(w)), beta 0.995) when
    ``update_emas``; truncation moves w towards it: w_avg + psi (w - w_avg), for the first
    ``truncation_cutoff`` ws only when a cutoff is given.
    """

    def __init__(self, z_dim: int, c_dim: int, w_dim: int, num_ws: int | None, *, num_layers: int = 8,
                 embed_features: int | None = None, layer_features: int | None = None, activation: str = "lrelu",
                 lr_multiplier: float = 0.01, w_avg_beta: float | None = 0.995) -> None:
        super().__init__()
        self.z_dim, self.c_dim, self.w_dim = z_dim, c_dim, w_dim
        self.num_ws = num_ws
        self.num_layers = num_layers
        self.w_avg_beta = w_avg_beta
        if embed_features is None:
            embed_features = w_dim
        if c_dim == 0:
            embed_features = 0
        if layer_features is None:
            layer_features = w_dim
        features = [z_dim + embed_features] + [layer_features] * (num_layers - 1) + [w_dim]
        if c_dim > 0:
            self.embed = FullyConnectedLayer(c_dim, embed_features)
        for idx in range(num_layers):
            setattr(self, f"fc{idx}", FullyConnectedLayer(features[idx], features[idx + 1], activation=activation,
                                                          lr_multiplier=lr_multiplier))
        if num_ws is not None and w_avg_beta is not None:
            self.register_buffer("w_avg", torch.zeros([w_dim]))

    def forward(self, z: torch.Tensor | None, c: torch.Tensor | None = None, truncation_psi: float = 1,
                truncation_cutoff: int | None = None, update_emas: bool = False) -> torch.Tensor:
        x = None
        if self.z_dim > 0:
            if z is None or z.ndim != 2 or z.shape[1] != self.z_dim:
                raise ValueError(f"z must be N x {self.z_dim}; got {None if z is None else tuple(z.shape)}")
            x = ops.normalize_2nd_moment(z.to(self.fc0.weight.dtype))
        if self.c_dim > 0:
            if c is None or c.ndim != 2 or c.shape[1] != self.c_dim:
                raise ValueError(f"c must be N x {self.c_dim}; got {None if c is None else tuple(c.shape)}")
            y = ops.normalize_2nd_moment(self.embed(c.to(self.embed.weight.dtype)))
            x = torch.cat([x, y], dim=1) if x is not None else y
        for idx in range(self.num_layers):
            x = getattr(self, f"fc{idx}")(x)
        if update_emas and self.w_avg_beta is not None:
            self.w_avg.copy_(x.detach().mean(dim=0).lerp(self.w_avg, self.w_avg_beta))
        if self.num_ws is not None:
            x = x.unsqueeze(1).repeat([1, self.num_ws, 1])
        if truncation_psi != 1:
            if self.w_avg_beta is None:
                raise ValueError("truncation needs a tracked w_avg (w_avg_beta is None)")
            if self.num_ws is None or truncation_cutoff is None:
                x = self.w_avg.lerp(x, truncation_psi)
            else:
                x = torch.cat([self.w_avg.lerp(x[:, :truncation_cutoff], truncation_psi),
                               x[:, truncation_cutoff:]], dim=1)
        return x


class SynthesisLayer(nn.Module):
    """A modulated, demodulated 3x3 convolution (upsampling by 2 when ``up``), plus per-pixel
    noise with a learned strength, a bias and lrelu with clamp."""

    def __init__(self, in_channels: int, out_channels: int, *, w_dim: int, resolution: int, kernel_size: int = 3,
                 up: int = 1, use_noise: bool = True, activation: str = "lrelu",
                 conv_clamp: float | None = None) -> None:
        super().__init__()
        self.resolution = resolution
        self.up = up
        self.use_noise = use_noise
        self.activation = activation
        self.conv_clamp = conv_clamp
        self.register_buffer("resample_filter", ops.setup_filter(RESAMPLE_TAPS))
        self.padding = kernel_size // 2
        self.act_gain = ops.ACTIVATIONS[activation][0]
        self.affine = FullyConnectedLayer(w_dim, in_channels, bias_init=1)
        self.weight = nn.Parameter(torch.randn([out_channels, in_channels, kernel_size, kernel_size]))
        if use_noise:
            self.register_buffer("noise_const", torch.randn([resolution, resolution]))
            self.noise_strength = nn.Parameter(torch.zeros([]))
        self.bias = nn.Parameter(torch.zeros([out_channels]))

    def forward(self, x: torch.Tensor, w: torch.Tensor, noise_mode: str = "random", fused_modconv: bool = True,
                gain: float = 1.0) -> torch.Tensor:
        if noise_mode not in NOISE_MODES:
            raise ValueError(f"noise_mode must be one of {', '.join(NOISE_MODES)}; got {noise_mode!r}")
        in_resolution = self.resolution // self.up
        if x.shape[1:] != (self.weight.shape[1], in_resolution, in_resolution):
            raise ValueError(f"expected N x {self.weight.shape[1]} x {in_resolution} x {in_resolution}; "
                             f"got {tuple(x.shape)}")
        styles = self.affine(w)
        noise = None
        if self.use_noise and noise_mode == "random":
            noise = torch.randn([x.shape[0], 1, self.resolution, self.resolution], device=x.device) * self.noise_strength
        elif self.use_noise and noise_mode == "const":
            noise = self.noise_const * self.noise_strength
        x = ops.modulated_conv2d(x, self.weight, styles, noise=noise, up=self.up, padding=self.padding,
                                 resample_filter=self.resample_filter, flip_weight=self.up == 1, fused=fused_modconv)
        clamp = self.conv_clamp * gain if self.conv_clamp is not None else None
        return ops.bias_act(x, self.bias, act=self.activation, gain=self.act_gain * gain, clamp=clamp)


class ToRGBLayer(nn.Module):
    """A modulated 1x1 convolution to the image channels, not demodulated (its style carries
    the 1/sqrt(fan_in) gain instead), plus bias and clamp."""

    def __init__(self, in_channels: int, out_channels: int, *, w_dim: int, kernel_size: int = 1,
                 conv_clamp: float | None = None) -> None:
        super().__init__()
        self.conv_clamp = conv_clamp
        self.affine = FullyConnectedLayer(w_dim, in_channels, bias_init=1)
        self.weight = nn.Parameter(torch.randn([out_channels, in_channels, kernel_size, kernel_size]))
        self.bias = nn.Parameter(torch.zeros([out_channels]))
        self.weight_gain = 1 / math.sqrt(in_channels * kernel_size ** 2)

    def forward(self, x: torch.Tensor, w: torch.Tensor, fused_modconv: bool = True) -> torch.Tensor:
        styles = self.affine(w) * self.weight_gain
        x = ops.modulated_conv2d(x, self.weight, styles, demodulate=False, fused=fused_modconv)
        return ops.bias_act(x, self.bias, clamp=self.conv_clamp)


class SynthesisBlock(nn.Module):
    """One resolution of the skip generator: (the learned 4x4 constant, or conv0 upsampling the
    previous features) then conv1, and a ToRGB whose image is added to the previous block's,
    FIR-upsampled by 2. Takes ``num_conv + num_torgb`` ws."""

    def __init__(self, in_channels: int, out_channels: int, *, w_dim: int, resolution: int, img_channels: int,
                 is_last: bool, architecture: str = "skip", conv_clamp: float | None = None,
                 use_fp16: bool = False) -> None:
        if architecture != "skip":
            raise ValueError(f"only the skip generator is implemented (NVlabs' default); got {architecture!r}")
        super().__init__()
        self.in_channels = in_channels
        self.w_dim = w_dim
        self.resolution = resolution
        self.img_channels = img_channels
        self.is_last = is_last
        self.architecture = architecture
        self.use_fp16 = use_fp16
        self.register_buffer("resample_filter", ops.setup_filter(RESAMPLE_TAPS))
        self.num_conv = 0
        self.num_torgb = 0
        if in_channels == 0:
            self.const = nn.Parameter(torch.randn([out_channels, resolution, resolution]))
        else:
            self.conv0 = SynthesisLayer(in_channels, out_channels, w_dim=w_dim, resolution=resolution, up=2,
                                        conv_clamp=conv_clamp)
            self.num_conv += 1
        self.conv1 = SynthesisLayer(out_channels, out_channels, w_dim=w_dim, resolution=resolution,
                                    conv_clamp=conv_clamp)
        self.num_conv += 1
        self.torgb = ToRGBLayer(out_channels, img_channels, w_dim=w_dim, conv_clamp=conv_clamp)
        self.num_torgb += 1

    def forward(self, x: torch.Tensor | None, img: torch.Tensor | None, ws: torch.Tensor, force_fp32: bool = False,
                fused_modconv: bool | None = None, noise_mode: str = "random") -> tuple[torch.Tensor, torch.Tensor]:
        if ws.shape[1:] != (self.num_conv + self.num_torgb, self.w_dim):
            raise ValueError(f"block {self.resolution} takes N x {self.num_conv + self.num_torgb} x {self.w_dim} ws; "
                             f"got {tuple(ws.shape)}")
        w_iter = iter(ws.unbind(dim=1))
        base = self.conv1.weight.dtype
        dtype = _block_dtype(self.use_fp16, force_fp32, ws.device, base)
        if fused_modconv is None:
            # NVlabs' choice: grouped convolutions at inference, the separate scaling (cheaper to
            # backpropagate, safe in float16) in training and for float16 batches.
            fused_modconv = not self.training and (dtype != torch.float16 or ws.shape[0] == 1)
        if self.in_channels == 0:
            x = self.const.to(dtype).unsqueeze(0).repeat([ws.shape[0], 1, 1, 1])
            x = self.conv1(x, next(w_iter), noise_mode=noise_mode, fused_modconv=fused_modconv)
        else:
            x = x.to(dtype)
            x = self.conv0(x, next(w_iter), noise_mode=noise_mode, fused_modconv=fused_modconv)
            x = self.conv1(x, next(w_iter), noise_mode=noise_mode, fused_modconv=fused_modconv)
        if img is not None:
            img = ops.upsample2d(img, self.resample_filter)
        y = self.torgb(x, next(w_iter), fused_modconv=fused_modconv).to(base)
        img = img + y if img is not None else y
        return x, img


class SynthesisNetwork(nn.Module):
    """ws (N x num_ws x w_dim) -> images (N x img_channels x R x R, about -1..1): blocks b4 ... bR,
    min(channel_base / res, channel_max) channels each."""

    def __init__(self, w_dim: int, img_resolution: int, img_channels: int, *, channel_base: int = 32768,
                 channel_max: int = 512, num_fp16_res: int = 0, conv_clamp: float | None = None,
                 architecture: str = "skip") -> None:
        check_resolution(img_resolution)
        super().__init__()
        self.w_dim = w_dim
        self.img_resolution = img_resolution
        self.img_resolution_log2 = int(math.log2(img_resolution))
        self.img_channels = img_channels
        self.block_resolutions = [2 ** i for i in range(2, self.img_resolution_log2 + 1)]
        fp16_resolution = _fp16_resolution(img_resolution, num_fp16_res)
        self.num_ws = 0
        for res in self.block_resolutions:
            in_channels = _channels(channel_base, channel_max, res // 2) if res > 4 else 0
            block = SynthesisBlock(in_channels, _channels(channel_base, channel_max, res), w_dim=w_dim,
                                   resolution=res, img_channels=img_channels, is_last=res == img_resolution,
                                   architecture=architecture, conv_clamp=conv_clamp, use_fp16=res >= fp16_resolution)
            self.num_ws += block.num_conv
            if res == img_resolution:
                self.num_ws += block.num_torgb
            setattr(self, f"b{res}", block)

    def forward(self, ws: torch.Tensor, noise_mode: str = "random", force_fp32: bool = False,
                fused_modconv: bool | None = None) -> torch.Tensor:
        if ws.ndim != 3 or ws.shape[1:] != (self.num_ws, self.w_dim):
            raise ValueError(f"ws must be N x {self.num_ws} x {self.w_dim}; got {tuple(ws.shape)}")
        ws = ws.to(self.b4.conv1.weight.dtype)
        x = img = None
        w_idx = 0
        for res in self.block_resolutions:
            block = getattr(self, f"b{res}")
            # A block's ToRGB shares its w with the next block's first convolution.
            block_ws = ws.narrow(1, w_idx, block.num_conv + block.num_torgb)
            w_idx += block.num_conv
            x, img = block(x, img, block_ws, force_fp32=force_fp32, fused_modconv=fused_modconv,
                           noise_mode=noise_mode)
        return img


class Generator(nn.Module):
    """The StyleGAN2 generator: mapping (z, c -> ws) then synthesis (ws -> image)."""

    def __init__(self, z_dim: int = 512, c_dim: int = 0, w_dim: int = 512, img_resolution: int = 256,
                 img_channels: int = 3, mapping_kwargs: dict | None = None, synthesis_kwargs: dict | None = None) -> None:
        super().__init__()
        self.z_dim, self.c_dim, self.w_dim = z_dim, c_dim, w_dim
        self.img_resolution, self.img_channels = img_resolution, img_channels
        self.synthesis = SynthesisNetwork(w_dim, img_resolution, img_channels, **(synthesis_kwargs or {}))
        self.num_ws = self.synthesis.num_ws
        self.mapping = MappingNetwork(z_dim, c_dim, w_dim, self.num_ws, **(mapping_kwargs or {}))

    def forward(self, z: torch.Tensor, c: torch.Tensor | None = None, truncation_psi: float = 1,
                truncation_cutoff: int | None = None, update_emas: bool = False, noise_mode: str = "random",
                force_fp32: bool = False, fused_modconv: bool | None = None) -> torch.Tensor:
        ws = self.mapping(z, c, truncation_psi=truncation_psi, truncation_cutoff=truncation_cutoff,
                          update_emas=update_emas)
        return self.synthesis(ws, noise_mode=noise_mode, force_fp32=force_fp32, fused_modconv=fused_modconv)


class DiscriminatorBlock(nn.Module):
    """One resolution of the residual discriminator: (fromrgb for the first block), conv0, conv1
    downsampling by 2, plus a 1x1 skip downsampling by 2; both branches times sqrt(1/2)."""

    def __init__(self, in_channels: int, tmp_channels: int, out_channels: int, *, resolution: int, img_channels: int,
                 architecture: str = "resnet", activation: str = "lrelu", conv_clamp: float | None = None,
                 use_fp16: bool = False) -> None:
        if architecture not in ("resnet", "orig"):
            raise ValueError(f"discriminator architecture must be resnet or orig; got {architecture!r}")
        if in_channels not in (0, tmp_channels):
            raise ValueError(f"in_channels must be 0 (first block) or tmp_channels ({tmp_channels}); got {in_channels}")
        super().__init__()
        self.in_channels = in_channels
        self.resolution = resolution
        self.img_channels = img_channels
        self.architecture = architecture
        self.use_fp16 = use_fp16
        self.register_buffer("resample_filter", ops.setup_filter(RESAMPLE_TAPS))
        if in_channels == 0:
            self.fromrgb = Conv2dLayer(img_channels, tmp_channels, 1, activation=activation, conv_clamp=conv_clamp)
        self.conv0 = Conv2dLayer(tmp_channels, tmp_channels, 3, activation=activation, conv_clamp=conv_clamp)
        self.conv1 = Conv2dLayer(tmp_channels, out_channels, 3, activation=activation, down=2, conv_clamp=conv_clamp)
        if architecture == "resnet":
            self.skip = Conv2dLayer(tmp_channels, out_channels, 1, bias=False, down=2)

    def forward(self, x: torch.Tensor | None, img: torch.Tensor | None,
                force_fp32: bool = False) -> tuple[torch.Tensor, None]:
        device = (x if x is not None else img).device
        dtype = _block_dtype(self.use_fp16, force_fp32, device, self.conv0.weight.dtype)
        if x is not None:
            x = x.to(dtype)
        if self.in_channels == 0:
            if img is None or img.shape[1:] != (self.img_channels, self.resolution, self.resolution):
                raise ValueError(f"the discriminator takes N x {self.img_channels} x {self.resolution} x "
                                 f"{self.resolution} images; got {None if img is None else tuple(img.shape)}")
            y = self.fromrgb(img.to(dtype))
            x = x + y if x is not None else y
        if self.architecture == "resnet":
            y = self.skip(x, gain=math.sqrt(0.5))
            x = self.conv1(self.conv0(x), gain=math.sqrt(0.5))
            x = y + x
        else:
            x = self.conv1(self.conv0(x))
        return x, None


class MinibatchStdLayer(nn.Module):
    """Appends the standard deviation of features over groups of samples (Karras et al. 2018)."""

    def __init__(self, group_size: int | None, num_channels: int = 1) -> None:
        super().__init__()
        self.group_size = group_size
        self.num_channels = num_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return ops.minibatch_std(x, self.group_size, self.num_channels)

    def extra_repr(self) -> str:
        return f"group_size={self.group_size}, num_channels={self.num_channels}"


class DiscriminatorEpilogue(nn.Module):
    """The discriminator's 4x4 end: minibatch std, a 3x3 conv, a fully connected layer and the
    output (one logit, or a projection onto the mapped label for conditional models)."""

    def __init__(self, in_channels: int, cmap_dim: int, *, resolution: int, img_channels: int,
                 architecture: str = "resnet", mbstd_group_size: int | None = 4, mbstd_num_channels: int = 1,
                 activation: str = "lrelu", conv_clamp: float | None = None) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.cmap_dim = cmap_dim
        self.resolution = resolution
        self.img_channels = img_channels
        self.architecture = architecture
        self.mbstd = MinibatchStdLayer(mbstd_group_size, mbstd_num_channels) if mbstd_num_channels > 0 else None
        self.conv = Conv2dLayer(in_channels + mbstd_num_channels, in_channels, 3, activation=activation,
                                conv_clamp=conv_clamp)
        self.fc = FullyConnectedLayer(in_channels * resolution ** 2, in_channels, activation=activation)
        self.out = FullyConnectedLayer(in_channels, 1 if cmap_dim == 0 else cmap_dim)

    def forward(self, x: torch.Tensor, cmap: torch.Tensor | None = None) -> torch.Tensor:
        x = x.to(self.fc.weight.dtype)
        if self.mbstd is not None:
            x = self.mbstd(x)
        x = self.out(self.fc(self.conv(x).flatten(1)))
        if self.cmap_dim > 0:
            x = (x * cmap).sum(dim=1, keepdim=True) * (1 / math.sqrt(self.cmap_dim))
        return x


class Discriminator(nn.Module):
    """Images (N x img_channels x R x R) -> logits (N x 1): blocks bR ... b8, each halving the
    side, then the epilogue b4."""

    def __init__(self, c_dim: int = 0, img_resolution: int = 256, img_channels: int = 3, architecture: str = "resnet",
                 channel_base: int = 32768, channel_max: int = 512, num_fp16_res: int = 0,
                 conv_clamp: float | None = None, cmap_dim: int | None = None, mbstd_group_size: int | None = 4,
                 mbstd_num_channels: int = 1, mapping_kwargs: dict | None = None) -> None:
        check_resolution(img_resolution)
        super().__init__()
        self.c_dim = c_dim
        self.img_resolution = img_resolution
        self.img_resolution_log2 = int(math.log2(img_resolution))
        self.img_channels = img_channels
        self.block_resolutions = [2 ** i for i in range(self.img_resolution_log2, 2, -1)]
        fp16_resolution = _fp16_resolution(img_resolution, num_fp16_res)
        if cmap_dim is None:
            cmap_dim = _channels(channel_base, channel_max, 4)
        if c_dim == 0:
            cmap_dim = 0
        for res in self.block_resolutions:
            tmp_channels = _channels(channel_base, channel_max, res)
            block = DiscriminatorBlock(tmp_channels if res < img_resolution else 0, tmp_channels,
                                       _channels(channel_base, channel_max, res // 2), resolution=res,
                                       img_channels=img_channels, architecture=architecture, conv_clamp=conv_clamp,
                                       use_fp16=res >= fp16_resolution)
            setattr(self, f"b{res}", block)
        if c_dim > 0:
            self.mapping = MappingNetwork(0, c_dim, cmap_dim, None, w_avg_beta=None, **(mapping_kwargs or {}))
        self.b4 = DiscriminatorEpilogue(_channels(channel_base, channel_max, 4), cmap_dim, resolution=4,
                                        img_channels=img_channels, architecture=architecture,
                                        mbstd_group_size=mbstd_group_size, mbstd_num_channels=mbstd_num_channels,
                                        conv_clamp=conv_clamp)

    def forward(self, img: torch.Tensor, c: torch.Tensor | None = None, force_fp32: bool = False) -> torch.Tensor:
        x = None
        for res in self.block_resolutions:
            x, img = getattr(self, f"b{res}")(x, img, force_fp32=force_fp32)
        cmap = self.mapping(None, c) if self.c_dim > 0 else None
        return self.b4(x, cmap)


def _synthesis_kwargs(config: StyleGAN2Config) -> dict:
    return {"channel_base": config.channel_base, "channel_max": config.channel_max,
            "num_fp16_res": config.num_fp16_res, "conv_clamp": config.conv_clamp}


def build(config: StyleGAN2Config) -> Generator:
    """A freshly initialised unconditional generator for ``config`` (the family's network: model
    checkpoints hold G_ema's state dict)."""
    return Generator(z_dim=config.z_dim, c_dim=0, w_dim=config.w_dim, img_resolution=config.resolution,
                     img_channels=config.img_channels,
                     mapping_kwargs={"num_layers": config.mapping_layers,
                                     "lr_multiplier": config.mapping_lr_multiplier},
                     synthesis_kwargs=_synthesis_kwargs(config))


def build_discriminator(config: StyleGAN2Config, *, mbstd_group_size: int | None = 4,
                        mbstd_num_channels: int = 1) -> Discriminator:
    """A freshly initialised unconditional residual discriminator for ``config`` (the group size
    is a training setting: StyleGAN2TrainConfig.mbstd_group_size)."""
    return Discriminator(c_dim=0, img_resolution=config.resolution, img_channels=config.img_channels,
                         mbstd_group_size=mbstd_group_size, mbstd_num_channels=mbstd_num_channels,
                         **_synthesis_kwargs(config))
