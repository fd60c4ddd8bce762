"""StyleGAN2 (Karras et al. 2020, "Analyzing and Improving the Image Quality of StyleGAN"): a
style-based generator with modulated, demodulated convolutions and a skip architecture, against
a residual discriminator; its networks' tensors are named as NVlabs stylegan2-ada-pytorch's.

A generator family: it makes images from seeds and latents rather than translating a photo.
Importing this package registers the ``stylegan2`` family (see mlcore.registry for the modules
every family has); it imports no torch.
"""

from mlcore.registry import Family, TrainInput, Training, register
from mlcore.stylegan2.config import StyleGAN2Config, StyleGAN2TrainConfig, auto_config

FAMILY = register(Family(
    name="stylegan2", label="StyleGAN2 (Karras et al. 2020)", package=__name__, config_class=StyleGAN2Config,
    # A photo meets StyleGAN2 only through projection (a photo optimised into the model's latent
    # space), minutes per picture like Gatys: the site sends those jobs to its slow queue.
    generator=True, optimises_each_picture=True,
    training=Training(config_class=StyleGAN2TrainConfig, inputs=(TrainInput(
        "data", "folder", "a folder of images (any size, searched recursively); they are made square "
        "(centre crop or padding) and resized to the model's resolution"),),
        # mlcore.stylegan2.data.LAYOUT, spelt out here: the registry entry imports no torch.
        dataset_layout="a folder of images (any size, searched recursively), made square and resized "
                       "to the model's resolution"),
))

__all__ = ["FAMILY", "StyleGAN2Config", "StyleGAN2TrainConfig", "auto_config"]
