"""Adaptive discriminator augmentation (Karras et al. 2020b, "Training Generative Adversarial
Networks with Limited Data"), in plain differentiable PyTorch.

``AugmentPipe`` transforms every image the discriminator sees, real or generated, with the
same random distribution, so D cannot learn the augmentations and G cannot leak them (the
paper's "non-leaking" condition holds while p stays below about 0.8). Each transform is applied
to each image independently with probability ``multiplier * p``; ``p`` is a buffer, so it is in
the pipe's ``state_dict`` and a resumed run continues with the strength it had.

The transforms and their default strengths are those of the paper's 'bgc' pipeline
(NVlabs stylegan2-ada-pytorch ``training/augment.py``):

- blit: x-flip, rotation by a multiple of 90 degrees, integer translation (up to 1/8 of the side);
- geom: isotropic scale (log2 std 0.2), arbitrary rotation (before and after the anisotropic
  scale, each with ``1 - sqrt(1 - p)`` so that "rotated at all" has probability p), anisotropic
  scale (log2 std 0.2), fractional translation (std 1/8 of the side);
- color: brightness (std 0.2), contrast (log2 std 0.5), luma flip, hue rotation (up to a full
  turn), saturation (log2 std 1).

Blit moves whole pixels (flip, ``rot90``, a shifted crop of the reflect-padded image), so it is
exact. Geom composes into one inverse 2-D homogeneous matrix per image, executed once: reflect
padding, 2x upsampling with the orthogonal Symlet-6 low-pass filter, a bilinear
``grid_sample``, and 2x downsampling with the same filter (so an identity matrix comes back to
within rounding, and resampling does not alias). The colour transforms compose into one 4x4
matrix per image acting on RGB around the luma axis, so images are expected in -1..1 (the
networks' range), where 0 is mid-grey.

Two departures from the reference. The reference folds blit into the geom matrix and resamples
it with the rest; with its slightly asymmetric filter that makes a flip or a quarter turn inexact
(off by up to about 0.05 on a smooth -1..1 image), so here blit is done on the pixels. And an
image for which no transform was chosen is returned bit for bit (the reference resamples the
whole batch whenever the pipe is on): ``p = 0`` is exactly the identity, and at small p most
reals reach D untouched. The filtering and corruption groups of the paper
('f', 'n', 'c' in 'bgcfnc') are not implemented: 'bgc' is what the paper recommends and trains with.

Random numbers come from ``generator`` when one is given (it must live on the images' device),
else from torch's global RNG, drawn in a fixed order: the same RNG state gives the same images.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["PIPELINES", "AugmentPipe", "AdaController", "make_pipe"]

# The probability multipliers each named pipeline switches on (stylegan2-ada's --augpipe names).
_BLIT = {"xflip": 1.0, "rotate90": 1.0, "xint": 1.0}
_GEOM = {"scale": 1.0, "rotate": 1.0, "aniso": 1.0, "xfrac": 1.0}
_COLOR = {"brightness": 1.0, "contrast": 1.0, "lumaflip": 1.0, "hue": 1.0, "saturation": 1.0}
PIPELINES: dict[str, dict[str, float]] = {
    "blit": _BLIT,
    "geom": _GEOM,
    "color": _COLOR,
    "bg": {**_BLIT, **_GEOM},
    "bgc": {**_BLIT, **_GEOM, **_COLOR},
}

# Symlet-6 low-pass filter, normalised to unit sum: orthogonal, so upsampling then downsampling
# with it is the identity, and its 12 taps keep the rotated and scaled images free of aliasing.
_SYM6 = (
    0.015404109327027373, 0.0034907120842174702, -0.11799011114819057, -0.048311742585633,
    0.4910559419267466, 0.787641141030194, 0.3379294217276218, -0.07263752278646252,
    -0.021060292512300564, 0.04472490177066578, 0.0017677118642428036, -0.007800708325034148,
)


class AugmentPipe(nn.Module):
    """The ADA pipeline: ``pipe(images)`` with images N x C x H x W (C = 3 or 1) in -1..1.

    Each keyword below the strength ``p`` is a probability multiplier (0 switches a transform
    off, 1 applies it with probability p); the ``*_std`` / ``*_max`` keywords are the strengths.
    """

    def __init__(
        self,
        *,
        p: float = 0.0,
        xflip: float = 0.0, rotate90: float = 0.0, xint: float = 0.0, xint_max: float = 0.125,
        scale: float = 0.0, rotate: float = 0.0, aniso: float = 0.0, xfrac: float = 0.0,
        scale_std: float = 0.2, rotate_max: float = 1.0, aniso_std: float = 0.2, xfrac_std: float = 0.125,
        brightness: float = 0.0, contrast: float = 0.0, lumaflip: float = 0.0, hue: float = 0.0,
        saturation: float = 0.0, brightness_std: float = 0.2, contrast_std: float = 0.5,
        hue_max: float = 1.0, saturation_std: float = 1.0,
    ) -> None:
        super().__init__()
        self.register_buffer("p", torch.tensor(float(p)))  # the overall strength ADA adjusts
        self.xflip, self.rotate90, self.xint, self.xint_max = float(xflip), float(rotate90), float(xint), float(xint_max)
        self.scale, self.rotate, self.aniso, self.xfrac = float(scale), float(rotate), float(aniso), float(xfrac)
        self.scale_std, self.rotate_max = float(scale_std), float(rotate_max)  # log2 std; 1 = a full turn
        self.aniso_std, self.xfrac_std = float(aniso_std), float(xfrac_std)  # log2 std; fraction of the side
        self.brightness, self.contrast, self.lumaflip = float(brightness), float(contrast), float(lumaflip)
        self.hue, self.saturation = float(hue), float(saturation)
        self.brightness_std, self.contrast_std = float(brightness_std), float(contrast_std)  # additive; log2
        self.hue_max, self.saturation_std = float(hue_max), float(saturation_std)  # 1 = a full turn; log2
        # A buffer so that it follows .to(device); not persistent, so a checkpoint holds only
        # what training changes (p).
        self.register_buffer("filter", torch.tensor(_SYM6, dtype=torch.float64).div(sum(_SYM6)).float(),
                             persistent=False)

    def extra_repr(self) -> str:
        on = [name for name in (*_BLIT, *_GEOM, *_COLOR) if getattr(self, name) > 0]
        return f"p={float(self.p):.4f}, transforms={','.join(on) or 'none'}"

    def forward(self, images: torch.Tensor, *, generator: torch.Generator | None = None) -> torch.Tensor:
        if images.ndim != 4 or images.shape[1] not in (1, 3):
            raise ValueError(f"AugmentPipe expects N x 3 x H x W or N x 1 x H x W images; got {tuple(images.shape)}")
        draw = _Draws(images.shape[0], images.device, generator)
        x = self._blit(draw, images.float())
        g_inv = self._geometry(draw, images.shape[3], images.shape[2])
        x = _where_changed(g_inv, x, lambda: self._warp(x, g_inv))
        colour = self._colour(draw, images.shape[1])
        x = _where_changed(colour, x, lambda: _apply_colour(x, colour))
        return images if x is images else x.to(images.dtype)

    # -- choosing the transforms ------------------------------------------------------------

    def _blit(self, draw: _Draws, x: torch.Tensor) -> torch.Tensor:
        """x-flip, quarter turns and integer translation: pixels move, none is resampled."""
        n, p = draw.n, self.p
        if self.xflip > 0:
            flip = draw.chosen(draw.uniform(n).mul(2).floor(), self.xflip * p, 0.0)
            x = _where_picked(flip != 0, x, lambda: x.flip(3))
        if self.rotate90 > 0:
            quarter = draw.chosen(draw.uniform(n).mul(4).floor(), self.rotate90 * p, 0.0)
            if x.shape[2] != x.shape[3]:
                raise ValueError(f"quarter turns need square images; got {x.shape[3]}x{x.shape[2]}")
            turned = x
            for k in (1, 2, 3):
                turned = _where_picked(quarter == k, turned, lambda k=k: torch.rot90(x, k, dims=(2, 3)))
            x = turned
        if self.xint > 0:
            shift = draw.chosen(draw.uniform(n, 2).mul(2).sub(1).mul(self.xint_max), self.xint * p, 0.0)
            dx, dy = torch.round(shift[:, 0] * x.shape[3]), torch.round(shift[:, 1] * x.shape[2])
            x = _where_picked((dx != 0) | (dy != 0), x, lambda: _shift(x, dx, dy))
        return x

    def _geometry(self, draw: _Draws, width: int, height: int) -> torch.Tensor:
        """The inverse of the resampled transforms, N x 3 x 3, mapping output pixels (centred
        coordinates, in pixels) to the input positions they are sampled from; composed left to
        right in the order the transforms apply."""
        n, p = draw.n, self.p
        g_inv = torch.eye(3, device=draw.device).expand(n, 3, 3)
        if self.scale > 0:
            s = draw.chosen(torch.exp2(draw.normal(n) * self.scale_std), self.scale * p, 1.0)
            g_inv = g_inv @ _scale(1 / s, 1 / s)
        # Two rotations, each with 1 - sqrt(1 - q): an image is rotated at all with probability q.
        p_rot = 1 - torch.sqrt((1 - self.rotate * p).clamp(0, 1))
        if self.rotate > 0:
            theta = draw.chosen(draw.uniform(n).mul(2).sub(1).mul(math.pi * self.rotate_max), p_rot, 0.0)
            g_inv = g_inv @ _rotate(theta)
        if self.aniso > 0:
            s = draw.chosen(torch.exp2(draw.normal(n) * self.aniso_std), self.aniso * p, 1.0)
            g_inv = g_inv @ _scale(1 / s, s)
        if self.rotate > 0:
            theta = draw.chosen(draw.uniform(n).mul(2).sub(1).mul(math.pi * self.rotate_max), p_rot, 0.0)
            g_inv = g_inv @ _rotate(theta)
        if self.xfrac > 0:
            shift = draw.chosen(draw.normal(n, 2) * self.xfrac_std, self.xfrac * p, 0.0)
            g_inv = g_inv @ _translate(-shift[:, 0] * width, -shift[:, 1] * height)
        return g_inv

    def _colour(self, draw: _Draws, channels: int) -> torch.Tensor:
        """The colour transforms, N x 4 x 4 homogeneous matrices acting on (r, g, b, 1)."""
        n, p, device = draw.n, self.p, draw.device
        eye = torch.eye(4, device=device)
        c = eye.expand(n, 4, 4)
        luma = torch.tensor([1.0, 1.0, 1.0, 0.0], device=device) / math.sqrt(3)  # the grey axis
        luma_outer = torch.outer(luma, luma)
        if self.brightness > 0:
            b = draw.chosen(draw.normal(n) * self.brightness_std, self.brightness * p, 0.0)
            c = _translate3(b) @ c
        if self.contrast > 0:
            k = draw.chosen(torch.exp2(draw.normal(n) * self.contrast_std), self.contrast * p, 1.0)
            c = _scale3(k) @ c
        if self.lumaflip > 0:
            flip = draw.chosen(draw.uniform(n).mul(2).floor(), self.lumaflip * p, 0.0)
            c = (eye - 2 * luma_outer * flip[:, None, None]) @ c  # Householder reflection of luma
        if self.hue > 0 and channels > 1:
            theta = draw.chosen(draw.uniform(n).mul(2).sub(1).mul(math.pi * self.hue_max), self.hue * p, 0.0)
            c = _rotate_about_grey(theta) @ c
        if self.saturation > 0 and channels > 1:
            s = draw.chosen(torch.exp2(draw.normal(n) * self.saturation_std), self.saturation * p, 1.0)
            # luma_outer + (eye - luma_outer) * s, written so that s = 1 gives the identity exactly
            c = (eye + (eye - luma_outer) * (s[:, None, None] - 1)) @ c
        return c

    # -- executing the geometry ------------------------------------------------------------

    def _warp(self, x: torch.Tensor, g_inv: torch.Tensor) -> torch.Tensor:
        n, _, height, width = x.shape
        taps = self.filter.numel()
        support = taps // 4  # the filter's reach, in input pixels, on each side
        # Pad (by reflection) as far as any output corner samples outside the image, plus the
        # filter's support; never more than reflection allows.
        cx, cy = (width - 1) / 2, (height - 1) / 2
        corners = torch.tensor([[-cx, -cy, 1.0], [cx, -cy, 1.0], [cx, cy, 1.0], [-cx, cy, 1.0]], device=x.device)
        reach = (g_inv @ corners.T)[:, :2, :].permute(1, 0, 2).flatten(1)  # [xy, N * corners]
        extent = torch.cat([-reach, reach]).amax(dim=1)  # left, top, right, bottom
        extent = extent + torch.tensor([2 * support - cx, 2 * support - cy] * 2, device=x.device)
        limit = torch.tensor([width - 1, height - 1] * 2, device=x.device)
        left, top, right, bottom = extent.clamp(min=0).minimum(limit).ceil().int().tolist()
        x = F.pad(x, [left, right, top, bottom], mode="reflect")
        g_inv = _translate_fixed((left - right) / 2, (top - bottom) / 2, x.device) @ g_inv

        x = _upsample2x(x, self.filter)
        # The upsampled grid: twice the coordinates, shifted by half a (new) pixel.
        g_inv = _scale_fixed(2, 2, x.device) @ g_inv @ _scale_fixed(0.5, 0.5, x.device)
        g_inv = _translate_fixed(-0.5, -0.5, x.device) @ g_inv @ _translate_fixed(0.5, 0.5, x.device)

        out_h, out_w = (height + 2 * support) * 2, (width + 2 * support) * 2
        # From pixels to grid_sample's -1..1 coordinates (align_corners=False) at both ends.
        g_inv = (_scale_fixed(2 / x.shape[3], 2 / x.shape[2], x.device) @ g_inv
                 @ _scale_fixed(out_w / 2, out_h / 2, x.device))
        grid = F.affine_grid(g_inv[:, :2, :], [n, x.shape[1], out_h, out_w], align_corners=False)
        x = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
        return _downsample2x(x, self.filter, crop=2 * support)


def make_pipe(spec: str = "bgc", *, p: float = 0.0, **strengths: float) -> AugmentPipe:
    """An ``AugmentPipe`` with the transforms of a named pipeline ('blit', 'geom', 'color', 'bg',
    'bgc') switched on; ``strengths`` override the defaults (``scale_std=0.1``...)."""
    if spec not in PIPELINES:
        raise ValueError(f"unknown augmentation pipeline {spec!r}; choose one of {', '.join(PIPELINES)}")
    return AugmentPipe(p=p, **PIPELINES[spec], **strengths)


class AdaController:
    """Adjusts an ``AugmentPipe``'s p from the sign of D's outputs on real images.

    Call ``observe(real_logits)`` whenever D scores reals, and ``step(pipe)`` once after each
    training step. Every ``interval`` steps the mean sign since the last adjustment, r_t, moves
    p by ``sign(r_t - target) * batch_size * interval / (kimg * 1000)`` (so p can go from 0 to 1
    in ``kimg`` thousand images), never below 0. D's outputs on reals drift positive when it
    overfits, so an over-confident D gets more augmentation.

    ``batch_size`` is the global batch (all processes together), as the images counted in kimg.
    Its counters are tensors on the logits' device (no host sync per step) and are in
    ``state_dict``: a resumed run adjusts at the same steps from the same sums.
    """

    def __init__(self, *, batch_size: int, target: float = 0.6, interval: int = 4, kimg: float = 500) -> None:
        if batch_size < 1 or interval < 1 or kimg <= 0:
            raise ValueError("AdaController needs batch_size >= 1, interval >= 1 and kimg > 0")
        self.batch_size, self.target, self.interval, self.kimg = batch_size, float(target), interval, float(kimg)
        self.steps = 0  # training steps since the run began
        self._sums: torch.Tensor | None = None  # [sum of signs, number of logits] since the last adjustment

    @property
    def adjustment(self) -> float:
        """How far one adjustment moves p."""
        return self.batch_size * self.interval / (self.kimg * 1000)

    def observe(self, real_logits: torch.Tensor) -> None:
        logits = real_logits.detach().flatten().to(torch.float64)
        seen = torch.stack([logits.sign().sum(), torch.tensor(float(logits.numel()), dtype=torch.float64,
                                                                device=logits.device)])
        self._sums = seen if self._sums is None else self._sums.to(seen.device) + seen

    def step(self, pipe: AugmentPipe, *, reduce: Callable[[torch.Tensor], torch.Tensor] | None = None) -> bool:
        """Count one training step; on every ``interval``-th, adjust ``pipe.p`` and return True.

        ``reduce`` combines the sums over processes (a distributed all-reduce) before use.
        """
        self.steps += 1
        if self.steps % self.interval:
            return False
        sums, self._sums = self._sums, None
        if sums is None:  # D saw no reals since the last adjustment: nothing to go on
            return True
        if reduce is not None:
            sums = reduce(sums)
        r_t = sums[0] / sums[1].clamp(min=1)
        moved = pipe.p + torch.sign(r_t - self.target).to(pipe.p) * self.adjustment
        with torch.no_grad():
            pipe.p.copy_(moved.clamp(min=0))
        return True

    def signs_mean(self) -> float | None:
        """r_t so far in this interval (for logs and charts), or None before any reals."""
        if self._sums is None:
            return None
        return float(self._sums[0] / self._sums[1].clamp(min=1))

    def state_dict(self) -> dict[str, Any]:
        sums = self._sums if self._sums is not None else torch.zeros(2, dtype=torch.float64)
        return {"steps": self.steps, "sums": sums.detach().cpu().clone()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.steps = int(state["steps"])
        sums = state["sums"].to(torch.float64).clone()
        self._sums = sums if float(sums[1]) > 0 else None


# -- helpers --------------------------------------------------------------------------------


class _Draws:
    """Random numbers for one batch, from ``generator`` or the global RNG, in call order."""

    def __init__(self, n: int, device: torch.device, generator: torch.Generator | None) -> None:
        self.n, self.device, self.generator = n, device, generator

    def uniform(self, *shape: int) -> torch.Tensor:
        return torch.rand(shape, device=self.device, generator=self.generator)

    def normal(self, *shape: int) -> torch.Tensor:
        return torch.randn(shape, device=self.device, generator=self.generator)

    def chosen(self, value: torch.Tensor, probability: Any, otherwise: float) -> torch.Tensor:
        """``value`` for the images picked with ``probability``, ``otherwise`` for the rest
        (the choice is drawn after the value, one per image)."""
        picked = self.uniform(self.n) < probability
        picked = picked.reshape(self.n, *([1] * (value.ndim - 1)))
        return torch.where(picked, value, torch.full_like(value, otherwise))


def _where_changed(matrices: torch.Tensor, x: torch.Tensor, transform: Callable[[], torch.Tensor]) -> torch.Tensor:
    """``transform()`` for the images whose matrix is not the identity; the others untouched."""
    size = matrices.shape[-1]
    return _where_picked((matrices != torch.eye(size, device=matrices.device)).flatten(1).any(dim=1), x, transform)


def _where_picked(picked: torch.Tensor, x: torch.Tensor, transform: Callable[[], torch.Tensor]) -> torch.Tensor:
    """``transform()`` for the images ``picked`` (a bool per image), the others untouched; the
    transform is not even run when none is picked."""
    if not bool(picked.any()):  # one host sync: the price of an exact identity and of skipping work
        return x
    return torch.where(picked[:, None, None, None], transform(), x)


def _shift(x: torch.Tensor, dx: torch.Tensor, dy: torch.Tensor) -> torch.Tensor:
    """Each image moved by its whole number of pixels (right and down), the uncovered border
    filled by reflection."""
    height, width = x.shape[2], x.shape[3]
    dxs, dys = dx.int().tolist(), dy.int().tolist()
    pad_x, pad_y = max(abs(d) for d in dxs), max(abs(d) for d in dys)
    if pad_x >= width or pad_y >= height:
        raise ValueError(f"an integer translation of ({pad_x}, {pad_y}) px is too far for {width}x{height} images")
    padded = F.pad(x, [pad_x, pad_x, pad_y, pad_y], mode="reflect")
    return torch.stack([padded[i, :, pad_y - oy: pad_y - oy + height, pad_x - ox: pad_x - ox + width]
                        for i, (ox, oy) in enumerate(zip(dxs, dys))])


def _apply_colour(x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    n, channels, height, width = x.shape
    flat = x.reshape(n, channels, height * width)
    if channels == 3:
        flat = c[:, :3, :3] @ flat + c[:, :3, 3:]
    else:  # one channel: the mean of the RGB rows acting on grey (r = g = b)
        row = c[:, :3, :].mean(dim=1, keepdim=True)
        flat = flat * row[:, :, :3].sum(dim=2, keepdim=True) + row[:, :, 3:]
    return flat.reshape(n, channels, height, width)


def _matrix(rows: list[list[torch.Tensor]]) -> torch.Tensor:
    return torch.stack([torch.stack(row, dim=-1) for row in rows], dim=-2)


def _scale(sx: torch.Tensor, sy: torch.Tensor) -> torch.Tensor:
    zero, one = torch.zeros_like(sx), torch.ones_like(sx)
    return _matrix([[sx, zero, zero], [zero, sy, zero], [zero, zero, one]])


def _translate(tx: torch.Tensor, ty: torch.Tensor) -> torch.Tensor:
    zero, one = torch.zeros_like(tx), torch.ones_like(tx)
    return _matrix([[one, zero, tx], [zero, one, ty], [zero, zero, one]])


def _rotate(theta: torch.Tensor) -> torch.Tensor:
    """Counter-clockwise by ``theta`` in image coordinates (y down): the inverse of turning the
    picture by ``-theta``, as the reference composes its rotations."""
    cos, sin, zero, one = torch.cos(theta), torch.sin(theta), torch.zeros_like(theta), torch.ones_like(theta)
    return _matrix([[cos, -sin, zero], [sin, cos, zero], [zero, zero, one]])


def _scale_fixed(sx: float, sy: float, device: torch.device) -> torch.Tensor:
    return torch.tensor([[sx, 0.0, 0.0], [0.0, sy, 0.0], [0.0, 0.0, 1.0]], device=device)


def _translate_fixed(tx: float, ty: float, device: torch.device) -> torch.Tensor:
    return torch.tensor([[1.0, 0.0, tx], [0.0, 1.0, ty], [0.0, 0.0, 1.0]], device=device)


def _translate3(b: torch.Tensor) -> torch.Tensor:
    out = torch.eye(4, device=b.device).repeat(b.shape[0], 1, 1)
    out[:, :3, 3] = b[:, None]
    return out


def _scale3(k: torch.Tensor) -> torch.Tensor:
    return torch.diag_embed(torch.stack([k, k, k, torch.ones_like(k)], dim=-1))


def _rotate_about_grey(theta: torch.Tensor) -> torch.Tensor:
    """Rotations by ``theta`` about the grey axis (1, 1, 1) / sqrt(3) (Rodrigues), as 4x4
    homogeneous matrices: hue turns while luma stays."""
    a = 1 / math.sqrt(3)
    cross = torch.tensor([[0.0, -a, a], [a, 0.0, -a], [-a, a, 0.0]], device=theta.device)
    outer = torch.full((3, 3), a * a, device=theta.device)
    cos, sin = torch.cos(theta)[:, None, None], torch.sin(theta)[:, None, None]
    rot = cos * torch.eye(3, device=theta.device) + sin * cross + (1 - cos) * outer
    out = torch.eye(4, device=theta.device).repeat(theta.shape[0], 1, 1)
    out[:, :3, :3] = rot
    return out


def _separable(x: torch.Tensor, taps: torch.Tensor, op: Callable[..., torch.Tensor], *, stride: int = 1,
               padding: int = 0) -> torch.Tensor:
    """``op`` (conv2d or conv_transpose2d) with ``taps`` along x, then along y, on every channel
    alone: the channels are folded into the batch, which is much faster on CPUs than groups."""
    n, c, h, w = x.shape
    k = taps.to(x.dtype)
    flat = x.reshape(n * c, 1, h, w)
    flat = op(flat, k.view(1, 1, 1, -1), stride=(1, stride), padding=(0, padding))
    flat = op(flat, k.view(1, 1, -1, 1), stride=(stride, 1), padding=(padding, 0))
    return flat.reshape(n, c, flat.shape[2], flat.shape[3])


def _upsample2x(x: torch.Tensor, taps: torch.Tensor) -> torch.Tensor:
    """2H x 2W: zero-stuffing followed by a convolution with ``taps`` (gain 2 per axis), done
    as one strided transposed convolution; an even filter of 2k taps is centred by cropping
    k - 1 from each end."""
    return _separable(x, taps * 2, F.conv_transpose2d, stride=2, padding=(taps.numel() - 2) // 2)


def _downsample2x(x: torch.Tensor, taps: torch.Tensor, *, crop: int) -> torch.Tensor:
    """Correlate with ``taps`` and keep every second pixel (a stride-2 convolution), after
    cropping ``crop`` pixels off each side net of the filter's own padding of k - 1."""
    pad = (taps.numel() - 2) // 2 - crop
    return _separable(F.pad(x, [pad, pad, pad, pad]), taps, F.conv2d, stride=2)  # negative padding crops
