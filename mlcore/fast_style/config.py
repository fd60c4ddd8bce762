"""Configuration of the fast style transfer network (Johnson et al. 2016).

``FastStyleConfig`` is the network's architecture (stored in model checkpoints);
``FastStyleTrainConfig`` how to train one (stored in run.json and training checkpoints).
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal, get_args

from pydantic import Field, SerializerFunctionWrapHandler, model_serializer

from mlcore.config import Config, setting

Variant = Literal["johnson", "engstrom"]
VARIANTS = get_args(Variant)
Width = Annotated[int, Field(ge=1)]
Edges = Literal["reflect", "exact"]
EDGES = get_args(Edges)
DEFAULT_EDGES: Edges = "reflect"


class FastStyleConfig(Config):
    """Architecture of a fast style transfer network; round-trips through JSON."""

    variant: Variant = setting(
        "johnson",
        "johnson: pytorch/examples TransformerNet (reflection padding, upsample + conv); "
        "engstrom: the TensorFlow net of the ml5.js checkpoints (SAME padding, transposed convs, tanh)",
    )
    channels: tuple[Width, Width, Width] = setting(
        (32, 64, 128), "widths after the 9x9 input conv and after each of the two stride-2 downsampling convs"
    )
    num_residual_blocks: int = setting(5, "residual blocks at the lowest resolution (1/4 of the input)", ge=0)
    # How an engstrom network meets the picture's border (mlcore.fast_style.inferer; johnson
    # networks pad by reflection in every layer and ignore it). Checkpoints written before the
    # field existed have no key and get the default.
    edges: Edges = setting(
        DEFAULT_EDGES,
        "engstrom only: reflect (mirror the photo's border out before the network and crop back: "
        "no coloured stripes along the edges); exact (TensorFlow's arithmetic, for parity with ml5.js)",
    )

    @model_serializer(mode="wrap")
    def _edges_only_when_chosen(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Left out at its default, so a config written before the field existed is written back
        # to the same text: a resumed training run compares its checkpoint's config text.
        data = handler(self)
        if self.edges == DEFAULT_EDGES:
            data.pop("edges", None)
        return data


VGG16_STYLE_LAYERS = ("relu1_2", "relu2_2", "relu3_3", "relu4_3")
VGG16Relu = Literal[
    "relu1_1", "relu1_2", "relu2_1", "relu2_2", "relu3_1", "relu3_2", "relu3_3",
    "relu4_1", "relu4_2", "relu4_3", "relu5_1", "relu5_2", "relu5_3",
]
VGG16_RELUS = get_args(VGG16Relu)


class FastStyleTrainConfig(Config):
    """Training a fast style network as in Johnson et al. 2016 (the style image and the content
    folder are inputs of the run, not config)."""

    arch: FastStyleConfig = setting(FastStyleConfig(), "architecture of the network being trained")
    steps: int = setting(40_000, "training iterations (Johnson: 40k at batch 4, about 2 epochs of COCO)", ge=1)
    batch_size: int = setting(4, "content images per step", ge=1)
    image_size: int = setting(256, "content images are resized (shorter side) and randomly cropped to this square", ge=16)
    hflip: bool = setting(False, "flip content crops left-right at random")
    style_size: int | None = setting(256, "longest side the style image is resized to (null: as it is)", ge=16)
    lr: float = setting(1e-3, "Adam learning rate", ge=0.0)
    # Weights for the losses of mlcore.losses on torchvision's ImageNet-normalised VGG16
    # features; content and style follow pytorch/examples fast_neural_style (1e5, 1e10).
    content_weight: float = setting(1e5, "weight of the feature reconstruction (content) loss", ge=0.0)
    style_weight: float = setting(1e10, "weight of the Gram-matrix style loss", ge=0.0)
    tv_weight: float = setting(1.0, "weight of the total variation regulariser (output in [0, 1])", ge=0.0)
    content_layer: VGG16Relu = setting("relu3_3", "VGG16 layer of the content loss")
    style_layers: tuple[VGG16Relu, ...] = setting(VGG16_STYLE_LAYERS, "VGG16 layers of the style loss", min_length=1)
    loss_network: Literal["imagenet", "random"] = setting(
        "imagenet", "VGG16 weights: imagenet (torchvision's) or random (tests only, labelled)"
    )
    num_probes: int = setting(4, "content images shown in each sample grid", ge=1, le=16)

    PRESETS: ClassVar[dict[str, dict[str, Any]]] = {
        # The paper's setting: 256 x 256 crops, batch 4, 40k iterations, Adam at 1e-3.
        "johnson2016": {
            "arch": {"variant": "johnson", "channels": [32, 64, 128], "num_residual_blocks": 5},
            "steps": 40_000, "batch_size": 4, "image_size": 256, "lr": 1e-3,
            "content_layer": "relu3_3", "style_layers": list(VGG16_STYLE_LAYERS),
        },
        # Seconds on a CPU: a small network on 64 px crops; for tests and demos only.
        "tiny": {
            "arch": {"channels": [8, 16, 32], "num_residual_blocks": 1},
            "steps": 20, "batch_size": 2, "image_size": 64, "style_size": 64, "num_probes": 2,
        },
    }
