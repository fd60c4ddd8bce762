"""Fast style transfer (Johnson et al. 2016, "Perceptual Losses for Real-Time Style Transfer").

Importing this package registers the ``fast_style`` family with mlcore.registry.
"""

from mlcore.fast_style.config import FastStyleConfig
from mlcore.fast_style.inferer import translate
from mlcore.fast_style.networks import EngstromNet, TransformerNet, build_network
from mlcore.registry import Family, register

FAMILY = register(
    Family(
        name="fast_style",
        label="Fast style transfer (Johnson et al. 2016)",
        config_class=FastStyleConfig,
        build=build_network,
        translate=translate,
    )
)

__all__ = ["FAMILY", "FastStyleConfig", "TransformerNet", "EngstromNet", "build_network", "translate"]
