"""A slow StyleGAN2 reference written from the formulas, for the parity tests.

Every operation is spelled out as the paper and NVlabs' documentation define it: an explicit
zero insertion, padding and a per-output-pixel sum for FIR resampling; a per-output-pixel sum
over (channel, tap) for convolution; per-sample weights built one sample at a time for the
modulated convolution; loops over the groups for minibatch std. Nothing here calls
mlcore.stylegan2 or torch's convolutions, so a shared mistake in a fast path shows up as a
mismatch. Sizes in the tests are tiny, so the Python loops stay fast enough.
"""

from __future__ import annotations

import math

import torch

LRELU_GAIN = math.sqrt(2.0)


def fir_filter() -> torch.Tensor:
    """[1, 3, 3, 1] (x) [1, 3, 3, 1] / 64."""
    taps = torch.tensor([1.0, 3.0, 3.0, 1.0], dtype=torch.float64)
    return torch.outer(taps, taps) / 64.0


def pad(x: torch.Tensor, x0: int, x1: int, y0: int, y1: int) -> torch.Tensor:
    """Zero padding by non-negative amounts (x before/after, y before/after)."""
    n, c, h, w = x.shape
    out = torch.zeros(n, c, h + y0 + y1, w + x0 + x1, dtype=x.dtype)
    out[:, :, y0:y0 + h, x0:x0 + w] = x
    return out


def zero_insert(x: torch.Tensor, up: int) -> torch.Tensor:
    """``up - 1`` zeros after every pixel, in both directions."""
    n, c, h, w = x.shape
    out = torch.zeros(n, c, h * up, w * up, dtype=x.dtype)
    out[:, :, ::up, ::up] = x
    return out


def correlate(x: torch.Tensor, w: torch.Tensor, *, stride: int = 1) -> torch.Tensor:
    """out[n, o, i, j] = sum_{c, a, b} x[n, c, s i + a, s j + b] w[o, c, a, b] (no padding)."""
    n, _, h, wd = x.shape
    o, _, kh, kw = w.shape
    oh, ow = (h - kh) // stride + 1, (wd - kw) // stride + 1
    out = torch.zeros(n, o, oh, ow, dtype=x.dtype)
    for i in range(oh):
        for j in range(ow):
            patch = x[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
            out[:, :, i, j] = torch.einsum("ncab,ocab->no", patch, w)
    return out


def convolve(x: torch.Tensor, w: torch.Tensor, *, stride: int = 1) -> torch.Tensor:
    """A true convolution: the correlation with the kernel turned by 180 degrees."""
    return correlate(x, w.flip([2, 3]), stride=stride)


def fir(x: torch.Tensor, f: torch.Tensor, *, gain: float = 1.0) -> torch.Tensor:
    """Each channel convolved with the 2-D FIR filter ``f`` times ``gain`` (no padding):
    out[n, c, i, j] = sum_{a, b} x[n, c, i + a, j + b] (gain f)[kh - 1 - a, kw - 1 - b]."""
    n, c, h, w = x.shape
    kh, kw = f.shape
    taps = (f * gain).flip([0, 1]).to(x.dtype)
    out = torch.zeros(n, c, h - kh + 1, w - kw + 1, dtype=x.dtype)
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            out[:, :, i, j] = torch.einsum("ncab,ab->nc", x[:, :, i:i + kh, j:j + kw], taps)
    return out


def upsample(x: torch.Tensor) -> torch.Tensor:
    """The skip generator's image upsampling: zero insertion, pad 2 before / 1 after, the
    filter times 4 (so a constant picture stays constant)."""
    return fir(pad(zero_insert(x, 2), 2, 1, 2, 1), fir_filter(), gain=4.0)


def downsample(x: torch.Tensor) -> torch.Tensor:
    """Filter with padding 1 on each side, then keep every second pixel."""
    return fir(pad(x, 1, 1, 1, 1), fir_filter())[:, :, ::2, ::2]


def conv_up(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """NVlabs' 3x3 convolution with upsampling (padding 1 of the upsampled picture), its weight
    applied as a true convolution: zero-insert, pad 1 + (2, 1), filter x 4, convolve."""
    return convolve(fir(pad(zero_insert(x, 2), 3, 2, 3, 2), fir_filter(), gain=4.0), w)


def conv_same(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """A k x k correlation padded to keep the size (padding k // 2)."""
    p = w.shape[-1] // 2
    return correlate(pad(x, p, p, p, p), w)


def conv_down(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """NVlabs' convolution with downsampling: pad by k // 2 + 1, filter, correlate with stride 2."""
    p = w.shape[-1] // 2 + 1
    return correlate(fir(pad(x, p, p, p, p), fir_filter()), w, stride=2)


def conv1x1_down(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """The residual discriminator's skip: filter (padding 1), keep every second pixel, 1x1."""
    return correlate(downsample(x), w)


def lrelu(x: torch.Tensor, gain: float = LRELU_GAIN, clamp: float | None = None) -> torch.Tensor:
    y = torch.where(x >= 0, x, 0.2 * x) * gain
    return y if clamp is None else torch.clamp(y, -clamp, clamp)


def modulated_conv(x: torch.Tensor, weight: torch.Tensor, styles: torch.Tensor, *, demodulate: bool = True,
                   conv=conv_same) -> torch.Tensor:
    """Sample by sample: w'_oik = s_i w_oik, then w''_oik = w'_oik / sqrt(sum_ik w'^2 + 1e-8)."""
    outs = []
    for n in range(x.shape[0]):
        wn = weight * styles[n][None, :, None, None]
        if demodulate:
            wn = wn / torch.sqrt(wn.square().sum(dim=[1, 2, 3], keepdim=True) + 1e-8)
        outs.append(conv(x[n:n + 1], wn))
    return torch.cat(outs)


def fc(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, lr_multiplier: float = 1.0) -> torch.Tensor:
    """x W^T lr / sqrt(in) + b lr."""
    return x @ (weight * lr_multiplier / math.sqrt(weight.shape[1])).T + bias * lr_multiplier


def minibatch_std(x: torch.Tensor, group_size: int, num_channels: int = 1) -> torch.Tensor:
    """Group k holds samples k, k + N/G, k + 2N/G, ...; for each group and channel slice, the
    population standard deviation (eps 1e-8 inside the root) over the group, averaged over the
    slice's channels and the pixels, appended as constant channels."""
    n, c, h, w = x.shape
    g = min(group_size, n)
    groups = n // g
    per_slice = c // num_channels
    extra = torch.zeros(n, num_channels, h, w, dtype=x.dtype)
    for k in range(groups):
        members = list(range(k, n, groups))
        for s in range(num_channels):
            values = x[members, s * per_slice:(s + 1) * per_slice]
            mean = sum(values[m] for m in range(g)) / g
            var = sum((values[m] - mean) ** 2 for m in range(g)) / g
            stat = torch.sqrt(var + 1e-8).mean()
            extra[members, s] = stat
    return torch.cat([x, extra], dim=1)
