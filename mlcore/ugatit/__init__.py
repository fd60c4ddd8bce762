"""U-GAT-IT (Kim et al. 2020, "U-GAT-IT: Unsupervised Generative Attentional Networks with
Adaptive Layer-Instance Normalization for Image-to-Image Translation").

Unpaired image-to-image translation (selfie -> anime, horse -> zebra) with CAM attention and
AdaLIN, light and full. A model is one generator (A->B or B->A, ``meta["direction"]``),
translating pictures and showing its attention map (``Inferer.attention``). Importing this
package registers the ``ugatit`` family (see mlcore.registry); it imports no torch.
"""

from mlcore.registry import Family, TrainInput, Training, register
from mlcore.ugatit.config import UGATITConfig, UGATITTrainConfig

FAMILY = register(Family(
    name="ugatit", label="U-GAT-IT (Kim et al. 2020)", package=__name__, config_class=UGATITConfig,
    has_attention=True, training=Training(config_class=UGATITTrainConfig, inputs=(TrainInput(
        "data", "folder", "unpaired dataset: trainA/ and trainB/ (testA/, testB/ optional)"),),
        dataset_layout="an unpaired dataset: a folder with trainA/ and trainB/ (images of the two domains, any "
        "number each, not paired), and optionally testA/ and testB/ for the sample grids"),
))

__all__ = ["FAMILY", "UGATITConfig", "UGATITTrainConfig"]
