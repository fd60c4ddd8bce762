"""Pix2Pix (Isola et al. 2017, "Image-to-Image Translation with Conditional Adversarial
Networks"): a U-Net generator trained on paired pictures against a conditional 70x70
PatchGAN with a cGAN + lambda x L1 objective.

Importing this package registers the ``pix2pix`` family (see mlcore.registry for the modules
every family has); it imports no torch.
"""

from mlcore.pix2pix.config import Pix2PixConfig, Pix2PixTrainConfig
from mlcore.registry import Family, TrainInput, Training, register

FAMILY = register(Family(
    name="pix2pix", label="Pix2Pix (Isola et al. 2017)", package=__name__, config_class=Pix2PixConfig,
    training=Training(config_class=Pix2PixTrainConfig, inputs=(TrainInput(
        "data", "folder", "paired pictures: A|B side by side in each image, or A/ and B/ folders with matching "
        "file names (make some with `make-pairs`)"),),
        dataset_layout="A|B side-by-side images, or A/ and B/ folders with matching names"),
))

__all__ = ["FAMILY", "Pix2PixConfig", "Pix2PixTrainConfig"]
