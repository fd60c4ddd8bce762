"""Converters from published weight formats to the Restyle checkpoint (mlcore.checkpoint).

One module per source, each with a subcommand of ``python -m mlcore import``: ``ml5`` (ml5.js /
deeplearn.js style transfer folders), ``pytorch_examples`` (pytorch/examples fast_neural_style
``.pth``), ``junyanz`` (junyanz/pytorch-CycleGAN-and-pix2pix pix2pix generators) and ``ugatit``
(znxlwm/UGATIT-pytorch checkpoints).
"""

from mlcore.importers.errors import ImporterError
from mlcore.importers.junyanz import import_junyanz
from mlcore.importers.ml5 import fetch_ml5_style, import_ml5
from mlcore.importers.pytorch_examples import import_pytorch_examples
from mlcore.importers.ugatit import import_ugatit

__all__ = ["ImporterError", "import_ml5", "fetch_ml5_style", "import_pytorch_examples", "import_junyanz",
           "import_ugatit"]
