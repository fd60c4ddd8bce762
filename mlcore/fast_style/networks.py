"""Image transformation networks for fast style transfer (Johnson et al. 2016).

Two variants of the same architecture (9x9 conv, two stride-2 convs, residual blocks, two 2x
upsampling stages, 9x9 conv back to RGB, instance norm throughout):

- ``TransformerNet``: the pytorch/examples ``fast_neural_style`` network. Module and
  parameter names follow that file so its published ``.pth`` state dicts load unchanged.
- ``EngstromNet``: Logan Engstrom's TensorFlow network, which the ml5.js checkpoints use.
  It reproduces TensorFlow's arithmetic ('SAME' zero padding, transposed convolutions,
  instance norm with eps=1e-3, tanh output) so imported weights give the same pictures.

Both take and return ``N x 3 x H x W`` RGB in 0..255 (mlcore.fast_style.inferer maps the
[0, 1] convention), accept any H, W >= 1 and return exactly H x W.

Why the top-left crop: both networks halve the size twice (rounding up) and double it twice,
so internally they produce ``4*ceil(H/4)`` rows. Every layer keeps row 0 anchored to row 0:
output row i of a stride-2 conv is centred on input row 2i (reflection padding, and TF on odd
sizes) or 2i+1 (TF on even sizes, which puts its odd extra pad row after the image), and
upsampling or the transposed conv puts output rows 2i and 2i+1 back on input row i. The
surplus rows that rounding up creates therefore lie past the bottom/right edge of the picture;
cropping them anywhere but at the end (centre crop, say) would shift the image by a pixel.
"""

from __future__ import annotations


import torch
import torch.nn.functional as F
from torch import nn

from mlcore.fast_style.config import FastStyleConfig

__all__ = ["TransformerNet", "EngstromNet", "build"]


def build(config: FastStyleConfig) -> nn.Module:
    """A freshly initialised network for ``config``."""
    if config.variant == "engstrom":
        return EngstromNet(config.channels, config.num_residual_blocks, edges=config.edges)
    return TransformerNet(channels=config.channels, num_residual_blocks=config.num_residual_blocks)


# ---------------------------------------------------------------------------------------------
# pytorch/examples TransformerNet
# ---------------------------------------------------------------------------------------------


class ConvLayer(nn.Module):
    """Reflection padding of k//2, then a biased convolution (``reflection_pad``, ``conv2d``)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int) -> None:
        super().__init__()
        self.reflection_pad = nn.ReflectionPad2d(kernel_size // 2)
        self.conv2d = nn.Conv2d(in_channels, out_channels, kernel_size, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv2d(self.reflection_pad(x))


class UpsampleConvLayer(nn.Module):
    """Nearest-neighbour upsampling, then a ``ConvLayer`` (avoids transposed-conv checkerboards)."""

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: int, stride: int, upsample: int
    ) -> None:
        super().__init__()
        self.upsample = upsample
        self.reflection_pad = nn.ReflectionPad2d(kernel_size // 2)
        self.conv2d = nn.Conv2d(in_channels, out_channels, kernel_size, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, scale_factor=self.upsample, mode="nearest")
        return self.conv2d(self.reflection_pad(x))


class ResidualBlock(nn.Module):
    """x + IN(conv(ReLU(IN(conv(x))))), as in the pytorch/examples network."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = ConvLayer(channels, channels, kernel_size=3, stride=1)
        self.in1 = nn.InstanceNorm2d(channels, affine=True)
        self.conv2 = ConvLayer(channels, channels, kernel_size=3, stride=1)
        self.in2 = nn.InstanceNorm2d(channels, affine=True)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.in1(self.conv1(x)))
        return x + self.in2(self.conv2(out))


class TransformerNet(nn.Module):
    """pytorch/examples ``fast_neural_style`` network; input and output RGB in 0..255.

    The output is not clamped (as in the original); callers clamp when they make an image.
    """

    # Reflection padding needs every side longer than the pad (4 for the 9x9 convs); smaller
    # inputs are first extended to this size by repeating their last row/column.
    _MIN_SIDE = 5
    # Its translate path exports to one ONNX graph for every picture size (mlcore.runtime).
    onnx_symbolic_sides = True

    def __init__(
        self, channels: tuple[int, int, int] = (32, 64, 128), num_residual_blocks: int = 5
    ) -> None:
        super().__init__()
        c1, c2, c3 = channels
        self.conv1 = ConvLayer(3, c1, kernel_size=9, stride=1)
        self.in1 = nn.InstanceNorm2d(c1, affine=True)
        self.conv2 = ConvLayer(c1, c2, kernel_size=3, stride=2)
        self.in2 = nn.InstanceNorm2d(c2, affine=True)
        self.conv3 = ConvLayer(c2, c3, kernel_size=3, stride=2)
        self.in3 = nn.InstanceNorm2d(c3, affine=True)
        self.num_residual_blocks = num_residual_blocks
        for i in range(1, num_residual_blocks + 1):  # res1..resN, the original's names
            self.add_module(f"res{i}", ResidualBlock(c3))
        self.deconv1 = UpsampleConvLayer(c3, c2, kernel_size=3, stride=1, upsample=2)
        self.in4 = nn.InstanceNorm2d(c2, affine=True)
        self.deconv2 = UpsampleConvLayer(c2, c1, kernel_size=3, stride=1, upsample=2)
        self.in5 = nn.InstanceNorm2d(c1, affine=True)
        self.deconv3 = ConvLayer(c1, 3, kernel_size=9, stride=1)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        height, width = x.shape[-2:]
        pad_h, pad_w = max(0, self._MIN_SIDE - height), max(0, self._MIN_SIDE - width)
        if pad_h or pad_w:
            x = F.pad(x, (0, pad_w, 0, pad_h), mode="replicate")
        y = self.relu(self.in1(self.conv1(x)))
        y = self.relu(self.in2(self.conv2(y)))
        y = self.relu(self.in3(self.conv3(y)))
        for i in range(1, self.num_residual_blocks + 1):
            y = getattr(self, f"res{i}")(y)
        y = self.relu(self.in4(self.deconv1(y)))
        y = self.relu(self.in5(self.deconv2(y)))
        y = self.deconv3(y)
        return y[..., :height, :width]  # top-left: see the module docstring


# ---------------------------------------------------------------------------------------------
# Engstrom / ml5.js network, TensorFlow semantics
# ---------------------------------------------------------------------------------------------


def same_padding(size: int, kernel_size: int, stride: int) -> tuple[int, int]:
    """TensorFlow 'SAME' padding (before, after) for one spatial dimension of ``size``.

    Output size is ceil(size / stride); when the total padding is odd, the extra pixel goes
    after the image (so stride-2 convs on even sizes pad 0 before and 1 after).
    """
    out = -(-size // stride)  # ceil(size / stride) in integers
    total = (out - 1) * stride + kernel_size - size
    # Plain integer arithmetic, no branch on the size, so torch.export keeps the sides symbolic
    # (mlcore.runtime): (out - 1) * stride >= size - stride, so total >= kernel_size - stride.
    if kernel_size < stride:
        total = max(total, 0)
    return total // 2, total - total // 2


class SameConv2d(nn.Conv2d):
    """TF ``conv2d(padding='SAME')`` without bias: zero padding computed for each input size."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding=0, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        k, s = self.kernel_size[0], self.stride[0]
        top, bottom = same_padding(x.shape[-2], k, s)
        left, right = same_padding(x.shape[-1], k, s)
        return super().forward(F.pad(x, (left, right, top, bottom)))


class SameConvTranspose2d(nn.ConvTranspose2d):
    """TF ``conv2d_transpose(padding='SAME')`` to ``stride * size``, without bias.

    The transpose of a SAME conv that maps stride*H to H: the full transposed convolution
    (padding 0) cropped at that conv's 'before' padding, keeping stride*H rows. Weight layout
    in torch: in_channels x out_channels x k x k.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding=0, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        k, s = self.kernel_size[0], self.stride[0]
        out_h, out_w = x.shape[-2] * s, x.shape[-1] * s
        top, _ = same_padding(out_h, k, s)
        left, _ = same_padding(out_w, k, s)
        y = super().forward(x)
        return y[..., top : top + out_h, left : left + out_w]


class TFInstanceNorm2d(nn.Module):
    """Instance norm as Engstrom's TF code computes it: biased variance, eps inside the sqrt.

    ``weight`` is TF's scale and ``bias`` its shift. Statistics are computed in float32 even
    for bf16/fp16 activations, and a 1x1 feature map is allowed (it normalises to ``bias``),
    where torch's InstanceNorm2d refuses it.
    """

    def __init__(self, channels: int, eps: float = 1e-3) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        xf = x.float()
        var, mean = torch.var_mean(xf, dim=(-2, -1), keepdim=True, correction=0)
        y = (xf - mean) * torch.rsqrt(var + self.eps)
        y = y * self.weight.float()[:, None, None] + self.bias.float()[:, None, None]
        return y.to(x.dtype)


class EngstromResidualBlock(nn.Module):
    """x + IN(conv(ReLU(IN(conv(x))))) with TF 'SAME' 3x3 convs."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = SameConv2d(channels, channels, 3, 1)
        self.in1 = TFInstanceNorm2d(channels)
        self.conv2 = SameConv2d(channels, channels, 3, 1)
        self.in2 = TFInstanceNorm2d(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.in1(self.conv1(x)))
        return x + self.in2(self.conv2(out))


class EngstromNet(nn.Module):
    """Logan Engstrom's fast-style-transfer network (the ml5.js checkpoints).

    Input RGB in 0..255 without normalisation; output tanh(x) * 150 + 127.5 clipped to 0..255.
    ``forward`` is TensorFlow's arithmetic whatever ``edges`` says: ``edges`` (the config's
    setting) tells mlcore.fast_style.inferer.translate how to meet the picture's border.
    """

    def __init__(
        self, channels: tuple[int, int, int] = (32, 64, 128), num_residual_blocks: int = 5,
        edges: str = "exact",
    ) -> None:
        super().__init__()
        self.edges = edges
        c1, c2, c3 = channels
        self.conv1 = SameConv2d(3, c1, 9, 1)
        self.in1 = TFInstanceNorm2d(c1)
        self.conv2 = SameConv2d(c1, c2, 3, 2)
        self.in2 = TFInstanceNorm2d(c2)
        self.conv3 = SameConv2d(c2, c3, 3, 2)
        self.in3 = TFInstanceNorm2d(c3)
        self.num_residual_blocks = num_residual_blocks
        for i in range(1, num_residual_blocks + 1):
            self.add_module(f"res{i}", EngstromResidualBlock(c3))
        self.deconv1 = SameConvTranspose2d(c3, c2, 3, 2)
        self.in4 = TFInstanceNorm2d(c2)
        self.deconv2 = SameConvTranspose2d(c2, c1, 3, 2)
        self.in5 = TFInstanceNorm2d(c1)
        self.deconv3 = SameConv2d(c1, 3, 9, 1)
        self.in6 = TFInstanceNorm2d(3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        height, width = x.shape[-2:]
        y = F.relu(self.in1(self.conv1(x)))
        y = F.relu(self.in2(self.conv2(y)))
        y = F.relu(self.in3(self.conv3(y)))
        for i in range(1, self.num_residual_blocks + 1):
            y = getattr(self, f"res{i}")(y)
        y = F.relu(self.in4(self.deconv1(y)))
        y = F.relu(self.in5(self.deconv2(y)))
        y = self.in6(self.deconv3(y))
        y = torch.tanh(y) * 150.0 + 127.5
        return y.clamp(0.0, 255.0)[..., :height, :width]  # top-left: see the module docstring
