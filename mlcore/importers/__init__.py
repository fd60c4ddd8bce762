"""Converters from published weight formats to the Restyle checkpoint (mlcore.checkpoint).

One module per source format; ``FORMATS`` is the table the command line (``python -m mlcore
import <format>``) and the web site's ``import_model`` are built from: the format's name, what
it reads, the options its converter takes, and where the converter lives (imported when it
runs: converters import torch, the table does not). Importers import families; families import
no importer.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlcore.importers.errors import ImporterError

__all__ = ["FORMATS", "ImportFormat", "ImportOption", "ImporterError"]


@dataclass(frozen=True)
class ImportOption:
    """A keyword argument of a converter (``--name-with-dashes`` on the command line)."""

    name: str
    help: str
    choices: tuple[str, ...] | None = None
    type: type = str  # str, int, or bool (a flag)


@dataclass(frozen=True)
class ImportFormat:
    name: str  # e.g. "junyanz"
    help: str  # one line
    source: str  # what it reads, as a metavar: DIR, PTH, PT
    converter: str  # "module:function"; the function is (src, out, *, name=None, **options) -> Path
    options: tuple[ImportOption, ...] = ()

    def convert(self, src: str | os.PathLike, out: str | os.PathLike, *, name: str | None = None,
                **options: Any) -> Path:
        """Write ``out``, a Restyle checkpoint, from ``src``; ``ImporterError`` says what is wrong."""
        module, function = self.converter.split(":")
        return getattr(importlib.import_module(module), function)(src, out, name=name, **options)


FORMATS: dict[str, ImportFormat] = {
    f.name: f
    for f in (
        ImportFormat("ml5", "an ml5.js style transfer folder (manifest.json + Variable_N)", "DIR",
                     "mlcore.importers.ml5:import_ml5"),
        ImportFormat("pytorch-examples", "a pytorch/examples fast_neural_style .pth file", "PTH",
                     "mlcore.importers.pytorch_examples:import_pytorch_examples"),
        ImportFormat(
            "junyanz", "a pix2pix generator from junyanz/pytorch-CycleGAN-and-pix2pix (latest_net_G.pth)", "PTH",
            "mlcore.importers.junyanz:import_junyanz",
            (
                ImportOption("arch", "the --netG it was trained with (default: read off the file)",
                             ("unet_256", "unet_128")),
                ImportOption("norm", "the --norm it was trained with (default: batch)", ("batch", "instance")),
                ImportOption("ngf", "the --ngf it was trained with (default: read off the file)", type=int),
                ImportOption("test_norm", "batch norm at inference: image (junyanz's default test.py, the paper) "
                             "or running (test.py --eval); default: image", ("image", "running")),
            ),
        ),
        ImportFormat(
            "ugatit", "a znxlwm/UGATIT-pytorch checkpoint (.pt with genA2B and genB2A): one generator", "PT",
            "mlcore.importers.ugatit:import_ugatit",
            (
                ImportOption("direction", "which generator to import (default: A2B)", ("A2B", "B2A")),
                ImportOption("light", "expect a light model (read off the weights anyway; this only checks)",
                             type=bool),
                ImportOption("img_size", "training size of a light model (default 256); checked for a full one",
                             type=int),
            ),
        ),
        ImportFormat(
            "nvlabs-stylegan2", "an NVlabs stylegan2-ada-pytorch or stylegan3 (--cfg=stylegan2) network .pkl, "
            "read without running the code it carries", "PKL",
            "mlcore.importers.stylegan2:import_nvlabs_stylegan2",
            (ImportOption("which", "which generator to import (default: G_ema)", ("G_ema", "G")),),
        ),
        ImportFormat(
            "rosinality", "a rosinality/stylegan2-pytorch .pt (a training checkpoint or convert_weight.py output)",
            "PT", "mlcore.importers.stylegan2:import_rosinality",
            (ImportOption("which", "which generator to import (default: G_ema)", ("G_ema", "G")),),
        ),
    )
}
