"""mlcore: the pure-PyTorch half of Restyle.

Image-to-image models (one sub-package per model family), their checkpoint format,
importers for published weights and the inference entry point used by the web app.
mlcore never imports Django and stays usable on its own: ``python -m mlcore --help``.

Importing the package is cheap on purpose (no torch import here). The public pieces:
- ``mlcore.images`` (the image convention), ``mlcore.checkpoint`` (the model file format),
  ``mlcore.registry`` (model families), ``mlcore.inference`` (``Inferer``);
- ``mlcore.config`` (the config base), ``mlcore.engine`` (training runs: start, resume,
  progress), ``mlcore.data``, ``mlcore.losses``, ``mlcore.vgg`` (the perceptual loss network);
- ``mlcore.gatys`` (optimisation style transfer), ``mlcore.bench`` (benchmarks: training, memory).
"""

import logging

__version__ = "0.1.0"

# Library code logs, the application decides where the records go.
logging.getLogger(__name__).addHandler(logging.NullHandler())
