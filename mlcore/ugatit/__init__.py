"""U-GAT-IT (Kim et al. 2020, "U-GAT-IT: Unsupervised Generative Attentional Networks with
Adaptive Layer-Instance Normalization for Image-to-Image Translation").

Unpaired image-to-image translation (selfie -> anime, horse -> zebra) with CAM attention and
AdaLIN, light and full. Importing this package registers the ``ugatit`` family with
mlcore.registry: a model is one generator (A->B or B->A, ``meta["direction"]``), translating
pictures and showing its attention map (``Inferer.attention``).
"""

from mlcore.registry import Family, TrainInput, Training, register
from mlcore.ugatit.config import UGATITConfig, UGATITTrainConfig
from mlcore.ugatit.data import LAYOUT, dataset_inputs, inspect_dataset
from mlcore.ugatit.inferer import attention, translate
from mlcore.ugatit.networks import Discriminator, ResnetGenerator, build_generator


def _make_task(*args, **kwargs):
    # The trainer pulls in the engine; inference never needs it.
    from mlcore.ugatit.trainer import make_task

    return make_task(*args, **kwargs)


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
    "ResnetGenerator",
    "Discriminator",
    "build_generator",
    "translate",
    "attention",
    "inspect_dataset",
    "dataset_inputs",
]
