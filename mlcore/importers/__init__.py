"""Converters from published weight formats to the Restyle checkpoint (mlcore.checkpoint).

One module per source: ``ml5`` (ml5.js / deeplearn.js style transfer folders) and
``pytorch_examples`` (pytorch/examples fast_neural_style ``.pth`` files). Later sources
(junyanz pix2pix, U-GAT-IT) get a module each and a subcommand under ``python -m mlcore import``.
"""

from mlcore.importers.errors import ImporterError
from mlcore.importers.ml5 import fetch_ml5_style, import_ml5
from mlcore.importers.pytorch_examples import import_pytorch_examples

__all__ = ["ImporterError", "import_ml5", "fetch_ml5_style", "import_pytorch_examples"]
