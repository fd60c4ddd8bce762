"""Fast style transfer (Johnson et al. 2016, "Perceptual Losses for Real-Time Style Transfer").

Importing this package registers the ``fast_style`` family with mlcore.registry.
"""

from mlcore.fast_style import dataset
from mlcore.fast_style.config import FastStyleConfig, FastStyleTrainConfig
from mlcore.fast_style.inferer import translate
from mlcore.fast_style.networks import EngstromNet, TransformerNet, build_network
from mlcore.registry import Family, TrainInput, Training, register


def _make_task(*args, **kwargs):
    # The trainer pulls in the VGG loss network and the engine; inference never needs them.
    from mlcore.fast_style.trainer import FastStyleTask

    return FastStyleTask(*args, **kwargs)


FAMILY = register(
    Family(
        name="fast_style",
        label="Fast style transfer (Johnson et al. 2016)",
        config_class=FastStyleConfig,
        build=build_network,
        translate=translate,
        training=Training(
            config_class=FastStyleTrainConfig,
            inputs=(
                TrainInput("style", "image", "the style image (a painting)"),
                TrainInput("content", "folder", "a folder of content photos, e.g. COCO train2014"),
                TrainInput("vgg_weights", "file", "torchvision's vgg16-397923af.pth, when not in the "
                           "torch hub cache (see mlcore.vgg)", required=False),
            ),
            make_task=_make_task,
            inspect_dataset=dataset.inspect_dataset,
            dataset_inputs=dataset.dataset_inputs,
            dataset_layout=dataset.LAYOUT,
        ),
    )
)

__all__ = [
    "FAMILY",
    "FastStyleConfig",
    "FastStyleTrainConfig",
    "TransformerNet",
    "EngstromNet",
    "build_network",
    "translate",
]
