"""Fast style transfer (Johnson et al. 2016, "Perceptual Losses for Real-Time Style Transfer"),
with the pytorch/examples TransformerNet and Logan Engstrom's variant (the ml5.js networks).

Importing this package registers the ``fast_style`` family (see mlcore.registry for the modules
every family has); it imports no torch.
"""

from mlcore.fast_style.config import FastStyleConfig, FastStyleTrainConfig
from mlcore.registry import Family, TrainInput, Training, register

FAMILY = register(Family(
    name="fast_style", label="Fast style transfer (Johnson et al. 2016)", package=__name__,
    config_class=FastStyleConfig, training=Training(config_class=FastStyleTrainConfig, inputs=(
        TrainInput("style", "image", "the style image (a painting)"),
        TrainInput("content", "folder", "a folder of content photos, e.g. COCO train2014"),
        TrainInput("vgg_weights", "file", "torchvision's vgg16-397923af.pth, when not in the torch hub cache "
                   "(see mlcore.vgg)", required=False),
    ), dataset_layout="a style image at the top (style.jpg, .png or .webp) and a content/ folder of photos"),
))

__all__ = ["FAMILY", "FastStyleConfig", "FastStyleTrainConfig"]
