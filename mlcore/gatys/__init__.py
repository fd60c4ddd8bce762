"""Gatys et al. 2016 style transfer: optimise the picture itself against a VGG19 loss network.

There is no network to save: a model is a config, and every picture is an optimisation against
a style image the user gives (``inferer.run_gatys``), from the CLI (``python -m mlcore gatys``) or
as a job of the web app. Importing this package registers the ``gatys`` family; it imports no torch.
"""

from mlcore.gatys.config import GatysConfig
from mlcore.registry import Family, register

FAMILY = register(Family(
    name="gatys", label="Style of your own image (Gatys et al. 2016)", package=__name__,
    config_class=GatysConfig, style_image=True, checkpoint=False, optimises_each_picture=True,
))

__all__ = ["FAMILY", "GatysConfig"]
