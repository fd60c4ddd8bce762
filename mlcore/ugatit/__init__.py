"""U-GAT-IT (Kim et al. 2020, "U-GAT-IT: Unsupervised Generative Attentional Networks with
Adaptive Layer-Instance Normalization for Image-to-Image Translation").

Unpaired image-to-image translation (selfie -> anime, horse -> zebra) with CAM attention and
AdaLIN, light and full. Importing this package registers the ``ugatit`` family with
mlcore.registry: a model is one generator (A->B or B->A, ``meta["direction"]``), translating
pictures and showing its attention map (``Inferer.attention``).

Like mlcore.pix2pix, importing the package imports no torch: networks, inference, data and the
trainer load on first use, so the command line's parser and the web admin's forms stay cheap.
"""

from mlcore.registry import Family, TrainInput, Training, register
from mlcore.ugatit.config import LAYOUT, UGATITConfig, UGATITTrainConfig


def build_generator(config):
    from mlcore.ugatit.networks import build_generator as build

    return build(config)


def translate(net, x01):
    from mlcore.ugatit.inferer import translate as run

    return run(net, x01)


def attention(net, x01):
    from mlcore.ugatit.inferer import attention as run

    return run(net, x01)


def inspect_dataset(root):
    from mlcore.ugatit.data import inspect_dataset as inspect

    return inspect(root)


def dataset_inputs(root):
    from mlcore.ugatit.data import dataset_inputs as inputs

    return inputs(root)


def _make_task(*args, **kwargs):
    # The trainer pulls in the engine; inference never needs it.
    from mlcore.ugatit.trainer import UGATITTask

    return UGATITTask(*args, **kwargs)


FAMILY = register(
    Family(
        name="ugatit",
        label="U-GAT-IT (Kim et al. 2020)",
        config_class=UGATITConfig,
        build=build_generator,
        translate=translate,
        attention=attention,
        training=Training(
            config_class=UGATITTrainConfig,
            inputs=(
                TrainInput("data", "folder", "unpaired dataset: trainA/ and trainB/ (testA/, testB/ optional)"),
            ),
            make_task=_make_task,
            inspect_dataset=inspect_dataset,
            dataset_inputs=dataset_inputs,
            dataset_layout=LAYOUT,
        ),
    )
)

__all__ = [
    "FAMILY",
    "UGATITConfig",
    "UGATITTrainConfig",
    "LAYOUT",
    "build_generator",
    "translate",
    "attention",
    "inspect_dataset",
    "dataset_inputs",
]
