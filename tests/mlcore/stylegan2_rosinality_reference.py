"""rosinality/stylegan2-pytorch's generator, computed straight from one of its state dicts.

Written for the importer's output-parity test from the formulas of rosinality's ``model.py``
(and its ``op/`` kernels' definitions), in plain torch calls: nothing here imports
mlcore.stylegan2 or the importer, and the state dict is read in rosinality's own names and
shapes, so a wrong mapping of names, a missing flip, a wrong padding or a misplaced noise map
in the importer shows up as a different image.

The pieces, with rosinality's names:

- ``PixelNorm``: ``z * rsqrt(mean(z^2 over channels) + 1e-8)``.
- ``EqualLinear(lr_mul)``: stores ``weight / lr_mul`` and computes
  ``x @ (weight * lr_mul / sqrt(in)).T``, then either ``+ bias * lr_mul`` or, with the fused
  leaky ReLU, ``leaky_relu(. + bias * lr_mul, 0.2) * sqrt 2``.
- ``ModulatedConv2d``: ``style = modulation(w)`` (an EqualLinear with lr_mul 1, no activation);
  ``weight = weight / sqrt(in * k * k) * style`` per input channel; demodulated by
  ``rsqrt(sum over (in, kh, kw) of weight^2 + 1e-8)`` per output channel (not in ToRGB). The
  up-sampling one runs ``conv_transpose2d(x, weight with in and out swapped, stride 2,
  padding 0)`` and then ``Blur`` with its stored kernel (``[1,3,3,1]`` normalised, times 4) and
  pads (1, 1); the others ``conv2d(padding=k // 2)``.
- ``StyledConv``: the conv, then ``NoiseInjection`` (``x + weight * noise``), then the fused
  leaky ReLU with ``activate.bias``.
- ``ToRGB``: a 1x1 modulated conv without demodulation, ``+ bias``, plus the previous skip
  image up-sampled by ``Upsample`` (``upfirdn2d(up=2, pads (2, 1))`` with its stored kernel).
- ``ConstantInput``: ``input.input`` repeated over the batch.
- ``Generator``: ``noises.noise_i`` are the const noise maps (``randomize_noise=False``), one
  w repeated ``2 * log2(size) - 2`` times; conv1 takes w 0 and to_rgb1 w 1, then block k
  takes ws 2k+1, 2k+2 (its two convs) and 2k+3 (its ToRGB), so a ToRGB shares its w with the
  next block's first conv.

``upfirdn2d`` is spelled out as its definition: insert ``up - 1`` zeros after every pixel, pad
(negative pads crop), convolve with the kernel (a true convolution: the kernel flipped for
``conv2d``), keep every ``down``-th pixel. Slow and simple; the sizes in the tests are tiny.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

LRELU_GAIN = math.sqrt(2.0)


def upfirdn2d(x: torch.Tensor, kernel: torch.Tensor, *, up: int = 1, down: int = 1,
              pad: tuple[int, int] = (0, 0)) -> torch.Tensor:
    n, c, h, w = x.shape
    if up > 1:
        inserted = x.new_zeros(n, c, h * up, w * up)
        inserted[:, :, ::up, ::up] = x
        x = inserted
    x = F.pad(x, (pad[0], pad[1], pad[0], pad[1]))  # the same pads on both axes, as rosinality passes them
    flipped = kernel.flip([0, 1]).to(x.dtype)
    x = F.conv2d(x, flipped[None, None].repeat(c, 1, 1, 1), groups=c)
    return x[:, :, ::down, ::down]


def fused_leaky_relu(x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    shape = [1, -1] + [1] * (x.dim() - 2)
    return F.leaky_relu(x + bias.view(shape), 0.2) * LRELU_GAIN


def equal_linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, *, lr_mul: float = 1.0,
                 activate: bool = False) -> torch.Tensor:
    out = x @ (weight * (lr_mul / math.sqrt(weight.shape[1]))).T
    if activate:
        return fused_leaky_relu(out, bias * lr_mul)
    return out + bias * lr_mul


def n_mlp(sd: dict[str, torch.Tensor]) -> int:
    return sum(1 for k in sd if k.startswith("style.") and k.endswith(".weight"))


def n_up(sd: dict[str, torch.Tensor]) -> int:
    return sum(1 for k in sd if k.startswith("to_rgbs.") and k.endswith(".conv.weight"))


def n_latent(sd: dict[str, torch.Tensor]) -> int:
    log_size = 2 + n_up(sd)
    return 2 * log_size - 2


def mapping(sd: dict[str, torch.Tensor], z: torch.Tensor, *, lr_mlp: float = 0.01) -> torch.Tensor:
    """``Generator.style``: PixelNorm, then ``n_mlp`` EqualLinear layers with the fused leaky ReLU
    (``style.0`` is the PixelNorm, so the layers are ``style.1`` ...)."""
    x = z * torch.rsqrt(z.pow(2).mean(dim=1, keepdim=True) + 1e-8)
    for i in range(1, n_mlp(sd) + 1):
        x = equal_linear(x, sd[f"style.{i}.weight"], sd[f"style.{i}.bias"], lr_mul=lr_mlp, activate=True)
    return x


def modulated_conv(sd: dict[str, torch.Tensor], prefix: str, x: torch.Tensor, w: torch.Tensor, *,
                   demodulate: bool, upsample: bool = False, nvlabs_epsilon: bool = False) -> torch.Tensor:
    """One sample at a time, so the per-sample weights stay plain 4-d conv weights.

    ``nvlabs_epsilon``: add the demodulation's 1e-8 where NVlabs adds it, to the sum of squares
    of the weights *before* the 1/sqrt(fan_in) scale (NVlabs never applies that scale to a
    demodulated weight, since demodulation cancels it), which is ``1e-8 / fan_in`` here."""
    weight = sd[f"{prefix}.weight"]  # [1, out, in, k, k]
    _, cout, cin, k, _ = weight.shape
    style = equal_linear(w, sd[f"{prefix}.modulation.weight"], sd[f"{prefix}.modulation.bias"])  # [N, in]
    outs = []
    for b in range(x.shape[0]):
        wb = weight[0] / math.sqrt(cin * k * k) * style[b].view(1, cin, 1, 1)
        if demodulate:
            eps = 1e-8 / (cin * k * k) if nvlabs_epsilon else 1e-8
            wb = wb * torch.rsqrt(wb.pow(2).sum(dim=(1, 2, 3)) + eps).view(cout, 1, 1, 1)
        xb = x[b:b + 1]
        if upsample:
            out = F.conv_transpose2d(xb, wb.transpose(0, 1), stride=2, padding=0)
            # Blur pads: p = (4 - 2) - (k - 1); (p + 1) // 2 + 1 and p // 2 + 1
            p = (sd[f"{prefix}.blur.kernel"].shape[0] - 2) - (k - 1)
            out = upfirdn2d(out, sd[f"{prefix}.blur.kernel"], pad=((p + 1) // 2 + 1, p // 2 + 1))
        else:
            out = F.conv2d(xb, wb, padding=k // 2)
        outs.append(out)
    return torch.cat(outs)


def styled_conv(sd: dict[str, torch.Tensor], prefix: str, x: torch.Tensor, w: torch.Tensor,
                noise: torch.Tensor, *, upsample: bool = False, nvlabs_epsilon: bool = False) -> torch.Tensor:
    out = modulated_conv(sd, f"{prefix}.conv", x, w, demodulate=True, upsample=upsample, nvlabs_epsilon=nvlabs_epsilon)
    out = out + sd[f"{prefix}.noise.weight"] * noise
    return fused_leaky_relu(out, sd[f"{prefix}.activate.bias"])


def to_rgb(sd: dict[str, torch.Tensor], prefix: str, x: torch.Tensor, w: torch.Tensor,
           skip: torch.Tensor | None) -> torch.Tensor:
    out = modulated_conv(sd, f"{prefix}.conv", x, w, demodulate=False) + sd[f"{prefix}.bias"]
    if skip is not None:
        kernel = sd[f"{prefix}.upsample.kernel"]
        p = kernel.shape[0] - 2  # Upsample pads: (p + 1) // 2 + factor - 1 and p // 2
        out = out + upfirdn2d(skip, kernel, up=2, pad=((p + 1) // 2 + 1, p // 2))
    return out


def synthesis(sd: dict[str, torch.Tensor], latent: torch.Tensor, *, nvlabs_epsilon: bool = False) -> torch.Tensor:
    """latent: N x n_latent x style_dim -> images, with the stored (const) noise maps."""
    eps = {"nvlabs_epsilon": nvlabs_epsilon}
    noise = [sd[f"noises.noise_{i}"] for i in range(2 * n_up(sd) + 1)]
    x = sd["input.input"].repeat(latent.shape[0], 1, 1, 1)
    x = styled_conv(sd, "conv1", x, latent[:, 0], noise[0], **eps)
    skip = to_rgb(sd, "to_rgb1", x, latent[:, 1], None)
    i = 1
    for k in range(n_up(sd)):
        x = styled_conv(sd, f"convs.{2 * k}", x, latent[:, i], noise[2 * k + 1], upsample=True, **eps)
        x = styled_conv(sd, f"convs.{2 * k + 1}", x, latent[:, i + 1], noise[2 * k + 2], **eps)
        skip = to_rgb(sd, f"to_rgbs.{k}", x, latent[:, i + 2], skip)
        i += 2
    return skip


def generator(sd: dict[str, torch.Tensor], z: torch.Tensor, *, lr_mlp: float = 0.01,
              nvlabs_epsilon: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """(image, latent) of ``Generator([z], randomize_noise=False, truncation=1)``."""
    w = mapping(sd, z, lr_mlp=lr_mlp)
    latent = w.unsqueeze(1).repeat(1, n_latent(sd), 1)
    return synthesis(sd, latent, nvlabs_epsilon=nvlabs_epsilon), latent
