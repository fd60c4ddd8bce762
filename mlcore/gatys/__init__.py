"""Gatys et al. 2016 style transfer: optimise the picture itself against a VGG19 loss network.

Not a model family (there is no network to save): a procedure run per request, from the CLI
(``python -m mlcore gatys``) or as a job of the web app.
"""

from mlcore.gatys.config import GatysConfig
from mlcore.gatys.optimise import GatysProgress, GatysResult, run_gatys

__all__ = ["GatysConfig", "GatysProgress", "GatysResult", "run_gatys"]
