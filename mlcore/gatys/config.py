"""Configuration of Gatys et al. 2016 style transfer (optimising the image itself)."""

from __future__ import annotations

from typing import Any, ClassVar, Literal, get_args

from mlcore.config import Config, setting

VGG19Relu = Literal[
    "relu1_1", "relu1_2", "relu2_1", "relu2_2",
    "relu3_1", "relu3_2", "relu3_3", "relu3_4",
    "relu4_1", "relu4_2", "relu4_3", "relu4_4",
    "relu5_1", "relu5_2", "relu5_3", "relu5_4",
]
VGG19_RELUS = get_args(VGG19Relu)
GATYS_STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")


class GatysConfig(Config):
    """How to paint one photo in the style of one image (Gatys, Ecker & Bethge, CVPR 2016)."""

    steps: int = setting(300, "optimisation steps; each evaluates the loss once (an L-BFGS iteration or an Adam step)", ge=1)
    size: int = setting(512, "longest side of the output; the photo is resized to it", ge=16, le=4096)
    style_scale: float = setting(1.0, "longest side of the style image relative to the output's", ge=0.05, le=4.0)
    optimizer: Literal["lbfgs", "adam"] = setting("lbfgs", "lbfgs (the paper's) or adam")
    lr: float = setting(0.02, "Adam learning rate, in pixel units of [0, 1] (L-BFGS uses step 1)", ge=0.0)
    # Weights for mlcore.losses on torchvision's ImageNet-normalised VGG19 features (Gram
    # matrices divided by C*H*W, mean squared errors), after the PyTorch neural transfer
    # tutorial's 1 : 1e6; the paper's alpha/beta ratio refers to unnormalised sums.
    content_weight: float = setting(1.0, "weight of the content loss", ge=0.0)
    style_weight: float = setting(1e6, "weight of the style loss", ge=0.0)
    tv_weight: float = setting(0.0, "weight of the total variation regulariser (image in [0, 1])", ge=0.0)
    content_layer: VGG19Relu = setting("relu4_2", "VGG19 layer of the content loss (the paper's conv4_2)")
    style_layers: tuple[VGG19Relu, ...] = setting(GATYS_STYLE_LAYERS, "VGG19 layers of the style loss", min_length=1)
    init: Literal["content", "noise"] = setting("content", "start from the photo (content) or from white noise")
    pooling: Literal["max", "avg"] = setting("max", "VGG pooling: max, or avg (the paper's choice for synthesis)")
    seed: int = setting(0, "seed of the noise start", ge=0)
    loss_network: Literal["imagenet", "random"] = setting(
        "imagenet", "VGG19 weights: imagenet (torchvision's) or random (tests only, labelled)"
    )

    PRESETS: ClassVar[dict[str, dict[str, Any]]] = {
        # The paper: VGG19, conv4_2 content, conv1_1..conv5_1 style, L-BFGS, average pooling.
        "gatys2016": {"optimizer": "lbfgs", "content_layer": "relu4_2",
                      "style_layers": list(GATYS_STYLE_LAYERS), "pooling": "avg", "size": 512},
        # A preview in about a minute on a CPU.
        "fast": {"size": 256, "steps": 100},
        # Seconds on a CPU: for tests and demos.
        "tiny": {"size": 64, "steps": 10},
    }
