"""Pix2Pix (Isola et al. 2017, "Image-to-Image Translation with Conditional Adversarial
Networks"): a U-Net generator trained on paired pictures against a conditional 70x70
PatchGAN with a cGAN + lambda x L1 objective.

Importing this package registers the ``pix2pix`` family with mlcore.registry. It imports no
torch: the networks, the trainer and the data code load on first use, so the command line's
parser and the web admin's forms stay cheap. Modules: ``config`` (architecture and training
configs), ``networks`` (U-Net, PatchGAN, junyanz's parameter names), ``losses``, ``data``
(paired folders), ``trainer`` (the engine task), ``inferer`` (any picture size),
``make_pairs`` (paired sets from photos), ``cli`` and ``bench``.
"""

from __future__ import annotations

from typing import Any

from mlcore.pix2pix.config import Pix2PixConfig, Pix2PixTrainConfig
from mlcore.registry import Family, TrainInput, Training, register

DATASET_LAYOUT = "A|B side-by-side images, or A/ and B/ folders with matching names"


def build_generator(config: Pix2PixConfig):
    from mlcore.pix2pix.networks import build_generator as build

    return build(config)


def translate(net, x01):
    from mlcore.pix2pix.inferer import translate as run

    return run(net, x01)


def _make_task(*args: Any, **kwargs: Any):
    from mlcore.pix2pix.trainer import Pix2PixTask

    return Pix2PixTask(*args, **kwargs)


def inspect_dataset(root):
    from mlcore.pix2pix.data import inspect_dataset as inspect

    return inspect(root)


def dataset_inputs(root) -> dict[str, str]:
    return {"data": str(root)}


FAMILY = register(
    Family(
        name="pix2pix",
        label="Pix2Pix (Isola et al. 2017)",
        config_class=Pix2PixConfig,
        build=build_generator,
        translate=translate,
        training=Training(
            config_class=Pix2PixTrainConfig,
            inputs=(
                TrainInput("data", "folder", "paired pictures: A|B side by side in each image, or A/ and "
                           "B/ folders with matching file names"),
            ),
            make_task=_make_task,
            inspect_dataset=inspect_dataset,
            dataset_inputs=dataset_inputs,
            dataset_layout=DATASET_LAYOUT,
        ),
    )
)

__all__ = [
    "FAMILY",
    "DATASET_LAYOUT",
    "Pix2PixConfig",
    "Pix2PixTrainConfig",
    "build_generator",
    "translate",
    "inspect_dataset",
    "dataset_inputs",
]
