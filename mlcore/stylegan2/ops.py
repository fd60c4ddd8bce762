"""The StyleGAN2 layer operations in plain PyTorch: FIR resampling, resampling convolution,
modulated convolution, bias + activation and minibatch standard deviation.

They follow the semantics of NVlabs stylegan2-ada-pytorch's ``torch_utils/ops`` (upfirdn2d,
conv2d_resample, bias_act) and ``training/networks.py`` (modulated_conv2d, MinibatchStdLayer),
so NVlabs weights give the same pictures, but with no custom CUDA kernel to compile: every
operation is a ``conv2d``, ``conv_transpose2d``, ``pad`` or an elementwise op, so it runs on
any device and autograd gives every derivative order (R1 and path length need the second).

Conventions (the reference's):
- A resampling filter is prepared once by ``setup_filter``: the taps (``[1, 3, 3, 1]``) as
  their outer product, normalised to sum 1, float32, shape ``[4, 4]`` (the ``resample_filter``
  buffers of the networks, which NVlabs state dicts carry).
- ``upfirdn2d`` *convolves* with the filter (it is flipped before the correlation that
  ``conv2d`` computes); the [1, 3, 3, 1] filter is symmetric, so it only matters for others.
- Resampling convolutions take ``flip_weight``: True means the weight is applied as ``conv2d``
  applies it (correlation), False as a true convolution. NVlabs' upsampling layers use False,
  and their trained weights expect it.
- Paddings are given with respect to the upsampled picture, as the reference's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F

__all__ = [
    "ACTIVATIONS",
    "bias_act",
    "conv2d_resample",
    "downsample2d",
    "minibatch_std",
    "modulated_conv2d",
    "normalize_2nd_moment",
    "setup_filter",
    "upfirdn2d",
    "upsample2d",
]

# name -> (default gain, negative slope). lrelu's gain sqrt(2) keeps the output's second
# moment that of a unit-variance input (He et al.), as the reference's.
ACTIVATIONS: dict[str, tuple[float, float]] = {"linear": (1.0, 1.0), "lrelu": (math.sqrt(2.0), 0.2)}


def setup_filter(taps: Sequence[float] = (1, 3, 3, 1), *, gain: float = 1.0) -> torch.Tensor:
    """A float32 FIR filter from its 1-D taps: the outer product normalised to sum 1, times gain.

    Taps of 8 or more stay separable (1-D), as the reference decides; ``[1, 3, 3, 1]`` gives
    the 4 x 4 filter the networks keep as ``resample_filter``.
    """
    f = torch.as_tensor(list(taps), dtype=torch.float32)
    if f.ndim != 1 or f.numel() == 0:
        raise ValueError(f"filter taps must be a non-empty 1-D sequence; got shape {tuple(f.shape)}")
    if f.numel() < 8:
        f = torch.outer(f, f)
    f = f / f.sum()
    return f * (gain ** (f.ndim / 2))


def _padding4(padding: int | Sequence[int]) -> tuple[int, int, int, int]:
    """(x_before, x_after, y_before, y_after) from an int or such a 4-sequence."""
    if isinstance(padding, int):
        return padding, padding, padding, padding
    x0, x1, y0, y1 = padding
    return int(x0), int(x1), int(y0), int(y1)


def _filter_size(f: torch.Tensor | None) -> tuple[int, int]:
    if f is None:
        return 1, 1
    return int(f.shape[-1]), int(f.shape[0])


def _depthwise(f: torch.Tensor, channels: int, dtype: torch.dtype, gain: float) -> torch.Tensor:
    """The filter as a depthwise ``conv2d`` weight that convolves (flipped) with ``gain``."""
    f = (f * (gain ** (f.ndim / 2))).to(dtype).flip(list(range(f.ndim)))
    if f.ndim == 1:
        f = f[None, :]  # a separable filter is applied as its two 1-D passes below
    return f[None, None].repeat(channels, 1, 1, 1)


def upfirdn2d(x: torch.Tensor, f: torch.Tensor | None, *, up: int = 1, down: int = 1,
              padding: int | Sequence[int] = 0, gain: float = 1.0) -> torch.Tensor:
    """Upsample (insert ``up - 1`` zeros after each pixel), pad (negative: crop), convolve with
    the FIR filter ``f`` (times ``gain``), then keep every ``down``-th pixel; per channel.

    ``x`` is N x C x H x W; ``f`` a filter from ``setup_filter`` (2-D, or 1-D separable), or
    None for the identity. The output keeps only pixels whose filter footprint lies inside
    the padded picture.
    """
    if x.ndim != 4:
        raise ValueError(f"upfirdn2d takes N x C x H x W; got shape {tuple(x.shape)}")
    if f is None:
        f = torch.ones([1, 1], dtype=torch.float32, device=x.device)
    n, c, h, w = x.shape
    x0, x1, y0, y1 = _padding4(padding)
    if up > 1:
        x = x.reshape(n, c, h, 1, w, 1)
        x = F.pad(x, [0, up - 1, 0, 0, 0, up - 1])
        x = x.reshape(n, c, h * up, w * up)
    x = F.pad(x, [max(x0, 0), max(x1, 0), max(y0, 0), max(y1, 0)])
    x = x[:, :, max(-y0, 0): x.shape[2] - max(-y1, 0), max(-x0, 0): x.shape[3] - max(-x1, 0)]
    weight = _depthwise(f.to(x.device), c, x.dtype, gain)
    if f.ndim == 2:
        return F.conv2d(x, weight, stride=down, groups=c)
    x = F.conv2d(x, weight, stride=(1, down), groups=c)  # rows, then columns
    return F.conv2d(x, weight.transpose(2, 3), stride=(down, 1), groups=c)


def upsample2d(x: torch.Tensor, f: torch.Tensor, *, up: int = 2) -> torch.Tensor:
    """``x`` upsampled ``up`` times with the FIR filter: H x W -> up*H x up*W (the skip
    generator's image path). The reference's padding: (fw + up - 1) // 2 before,
    (fw - up) // 2 after, and a gain of up**2 so a constant picture stays constant."""
    fw, fh = _filter_size(f)
    return upfirdn2d(x, f, up=up, padding=[(fw + up - 1) // 2, (fw - up) // 2,
                                           (fh + up - 1) // 2, (fh - up) // 2], gain=up * up)


def downsample2d(x: torch.Tensor, f: torch.Tensor, *, down: int = 2) -> torch.Tensor:
    """``x`` filtered and downsampled ``down`` times: H x W -> H/down x W/down. The reference's
    padding: (fw - down + 1) // 2 before, (fw - down) // 2 after."""
    fw, fh = _filter_size(f)
    return upfirdn2d(x, f, down=down, padding=[(fw - down + 1) // 2, (fw - down) // 2,
                                               (fh - down + 1) // 2, (fh - down) // 2])


def _conv(x: torch.Tensor, w: torch.Tensor, *, stride: int = 1, padding: int | tuple[int, int] = 0,
          groups: int = 1, transpose: bool = False, flip_weight: bool = True) -> torch.Tensor:
    if not flip_weight and (w.shape[2] > 1 or w.shape[3] > 1):
        w = w.flip([2, 3])  # conv2d correlates: a flipped weight makes it a convolution
    if transpose:
        return F.conv_transpose2d(x, w, stride=stride, padding=padding, groups=groups)
    return F.conv2d(x, w, stride=stride, padding=padding, groups=groups)


def conv2d_resample(x: torch.Tensor, w: torch.Tensor, f: torch.Tensor | None = None, *, up: int = 1,
                    down: int = 1, padding: int = 0, groups: int = 1, flip_weight: bool = True) -> torch.Tensor:
    """2-D convolution of ``x`` with ``w`` (O x I/groups x kh x kw), upsampling ``up`` times
    before it or downsampling ``down`` times after it with the FIR filter ``f``.

    The result is that of the reference's definition: zero-insert by ``up``, pad by
    ``padding`` (with respect to the upsampled picture) plus the filter's own share, filter
    (gain up**2), convolve, filter and keep every ``down``-th pixel. Each case takes the
    cheaper equivalent route the reference takes: a transposed strided convolution for
    upsampling, a strided one for downsampling, and for a 1 x 1 kernel the resampling on the
    side with fewer pixels.
    """
    out_channels, in_per_group, kh, kw = w.shape
    fw, fh = _filter_size(f)
    px0 = px1 = py0 = py1 = padding
    if up > 1:
        px0, px1 = px0 + (fw + up - 1) // 2, px1 + (fw - up) // 2
        py0, py1 = py0 + (fh + up - 1) // 2, py1 + (fh - up) // 2
    if down > 1:
        px0, px1 = px0 + (fw - down + 1) // 2, px1 + (fw - down) // 2
        py0, py1 = py0 + (fh - down + 1) // 2, py1 + (fh - down) // 2
    pad4 = [px0, px1, py0, py1]

    if kw == 1 and kh == 1 and down > 1 and up == 1:
        x = upfirdn2d(x, f, down=down, padding=pad4)
        return _conv(x, w, groups=groups, flip_weight=flip_weight)
    if kw == 1 and kh == 1 and up > 1 and down == 1:
        x = _conv(x, w, groups=groups, flip_weight=flip_weight)
        return upfirdn2d(x, f, up=up, padding=pad4, gain=up * up)
    if down > 1 and up == 1:
        x = upfirdn2d(x, f, padding=pad4)
        return _conv(x, w, stride=down, groups=groups, flip_weight=flip_weight)
    if up > 1:
        # A transposed strided convolution is zero insertion followed by a convolution with
        # the weight; its (in, out) axes are swapped, per group.
        if groups == 1:
            w = w.transpose(0, 1)
        else:
            w = w.reshape(groups, out_channels // groups, in_per_group, kh, kw).transpose(1, 2)
            w = w.reshape(groups * in_per_group, out_channels // groups, kh, kw)
        px0, px1 = px0 - (kw - 1), px1 - (kw - up)
        py0, py1 = py0 - (kh - 1), py1 - (kh - up)
        pxt, pyt = max(min(-px0, -px1), 0), max(min(-py0, -py1), 0)
        x = _conv(x, w, stride=up, padding=(pyt, pxt), groups=groups, transpose=True, flip_weight=not flip_weight)
        x = upfirdn2d(x, f, padding=[px0 + pxt, px1 + pxt, py0 + pyt, py1 + pyt], gain=up * up)
        return upfirdn2d(x, f, down=down) if down > 1 else x
    if px0 == px1 and py0 == py1 and px0 >= 0 and py0 >= 0:
        return _conv(x, w, padding=(py0, px0), groups=groups, flip_weight=flip_weight)
    x = upfirdn2d(x, None, padding=pad4)
    x = _conv(x, w, groups=groups, flip_weight=flip_weight)
    return upfirdn2d(x, f, down=down) if down > 1 else x


def modulated_conv2d(x: torch.Tensor, weight: torch.Tensor, styles: torch.Tensor, *,
                     noise: torch.Tensor | None = None, up: int = 1, padding: int = 0,
                     resample_filter: torch.Tensor | None = None, demodulate: bool = True,
                     flip_weight: bool = True, fused: bool = True) -> torch.Tensor:
    """StyleGAN2's modulated convolution (Karras et al. 2020, section 2.2).

    Each sample n scales the input channels of ``weight`` (O x I x k x k) by its ``styles[n]``
    (N x I): w'_oik = s_i w_oik; with ``demodulate`` each output channel is then divided by
    sqrt(sum_ik w'_oik^2 + 1e-8), so unit-variance inputs give unit-variance outputs. ``noise``
    (broadcast to the output) is added after demodulation.

    ``fused``: one grouped convolution with the per-sample weights (fast at inference);
    otherwise the input is scaled by the styles, convolved with the shared weight and the
    output scaled by the demodulation coefficients (the reference's training path, cheaper
    for backpropagation and the one it takes in float16). Both compute the same thing.
    """
    batch = x.shape[0]
    _, in_channels, kh, kw = weight.shape
    if styles.shape != (batch, in_channels):
        raise ValueError(f"styles must be {batch} x {in_channels}; got {tuple(styles.shape)}")
    if x.dtype == torch.float16 and demodulate:
        # Pre-normalise so the float16 products cannot overflow; demodulation undoes the scale.
        weight = weight * (1 / math.sqrt(in_channels * kh * kw)
                           / weight.norm(float("inf"), dim=[1, 2, 3], keepdim=True))
        styles = styles / styles.norm(float("inf"), dim=1, keepdim=True)

    w = dcoefs = None
    if demodulate or fused:
        w = weight.unsqueeze(0) * styles.reshape(batch, 1, -1, 1, 1)  # N x O x I x k x k
    if demodulate:
        dcoefs = (w.square().sum(dim=[2, 3, 4]) + 1e-8).rsqrt()  # N x O
    if not fused:
        x = x * styles.to(x.dtype).reshape(batch, -1, 1, 1)
        x = conv2d_resample(x, weight.to(x.dtype), resample_filter, up=up, padding=padding, flip_weight=flip_weight)
        if demodulate:
            x = x * dcoefs.to(x.dtype).reshape(batch, -1, 1, 1)
        if noise is not None:
            x = x + noise.to(x.dtype)
        return x

    if demodulate:
        w = w * dcoefs.reshape(batch, -1, 1, 1, 1)
    x = x.reshape(1, -1, *x.shape[2:])
    w = w.reshape(-1, in_channels, kh, kw)
    x = conv2d_resample(x, w.to(x.dtype), resample_filter, up=up, padding=padding, groups=batch,
                        flip_weight=flip_weight)
    x = x.reshape(batch, -1, *x.shape[2:])
    return x + noise.to(x.dtype) if noise is not None else x


def bias_act(x: torch.Tensor, b: torch.Tensor | None = None, *, act: str = "linear", gain: float | None = None,
             clamp: float | None = None, dim: int = 1) -> torch.Tensor:
    """``clamp(act(x + b) * gain, -clamp, clamp)``: the bias along ``dim``, the activation
    ("linear" or "lrelu" with slope 0.2), the gain (the activation's default when None:
    1 or sqrt(2)), and the clamp when given (conv_clamp, against float16 overflow)."""
    if act not in ACTIVATIONS:
        raise ValueError(f"unknown activation {act!r} (known: {', '.join(ACTIVATIONS)})")
    default_gain, slope = ACTIVATIONS[act]
    if b is not None:
        x = x + b.to(x.dtype).reshape([-1 if i == dim else 1 for i in range(x.ndim)])
    if act == "lrelu":
        x = F.leaky_relu(x, slope)
    gain = default_gain if gain is None else gain
    if gain != 1:
        x = x * gain
    if clamp is not None:
        x = x.clamp(-clamp, clamp)
    return x


def normalize_2nd_moment(x: torch.Tensor, dim: int = 1, eps: float = 1e-8) -> torch.Tensor:
    """``x`` divided by the root mean square along ``dim`` (the mapping network's input)."""
    return x * (x.square().mean(dim=dim, keepdim=True) + eps).rsqrt()


def minibatch_std(x: torch.Tensor, group_size: int | None, num_channels: int = 1) -> torch.Tensor:
    """``x`` (N x C x H x W) with ``num_channels`` more channels: for each group of
    ``min(group_size, N)`` samples and each of ``num_channels`` slices of the channels, the
    standard deviation over the group, averaged over the slice's channels and the pixels.

    Sample n belongs to group n % (N / G), as the reference's reshape puts it; N must be a
    multiple of the group size. ``group_size`` None: the whole batch is one group.
    """
    n, c, h, w = x.shape
    g = n if group_size is None else min(group_size, n)
    if n % g:
        raise ValueError(f"minibatch std: a batch of {n} cannot be split into groups of {g}; "
                         "use a batch size that is a multiple of the group size")
    if c % num_channels:
        raise ValueError(f"minibatch std: {c} channels cannot be split into {num_channels} slices")
    y = x.reshape(g, -1, num_channels, c // num_channels, h, w)
    y = y - y.mean(dim=0)
    y = (y.square().mean(dim=0) + 1e-8).sqrt()  # n/G x F x c x H x W
    y = y.mean(dim=[2, 3, 4]).reshape(-1, num_channels, 1, 1)
    return torch.cat([x, y.repeat(g, 1, h, w)], dim=1)
