"""A tiny StyleGAN2 generator with random weights for the inference tests (no training: the
images are noise-like, but every code path between a checkpoint and pixels is the real one)."""

from __future__ import annotations

from pathlib import Path

import torch

from mlcore.checkpoint import save_model
from mlcore.stylegan2 import networks
from mlcore.stylegan2.config import StyleGAN2Config


def random_generator(preset: str = "tiny32", *, seed: int = 0, **overrides) -> networks.Generator:
    """A generator with random weights, a w_avg tracked from 64 random z (a fresh network's is
    zero, which would hide truncation mistakes) and non-zero noise strengths (a fresh network's
    are zero, which would hide the noise mode), in eval mode."""
    torch.manual_seed(seed)
    G = networks.build(StyleGAN2Config.preset(preset, **overrides))
    with torch.no_grad():
        for _ in range(200):  # w_avg moves 0.5 % of the way per call (beta 0.995)
            G.mapping(torch.randn(64, G.z_dim), None, update_emas=True)
        for name, param in G.named_parameters():
            if name.endswith("noise_strength"):
                param.fill_(0.2)
    return G.eval().requires_grad_(False)


def save_random_generator(path: Path, preset: str = "tiny32", **overrides) -> tuple[Path, networks.Generator]:
    """``random_generator`` written as a Restyle stylegan2 checkpoint (random weights)."""
    G = random_generator(preset, **overrides)
    save_model(path, family="stylegan2", config=StyleGAN2Config.preset(preset, **overrides),
               state_dict=G.state_dict(), meta={"name": f"random {preset}"})
    return path, G
