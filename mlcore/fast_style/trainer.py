"""Training a fast style network (Johnson et al. 2016) on mlcore.engine.

One step: stylise a batch of content crops with the transformation network, then with a frozen
VGG16 loss network compute
- the content (feature reconstruction) loss between output and input at ``content_layer``
  (relu3_3),
- the style loss between the output's Gram matrices and the style image's at
  ``style_layers`` (relu1_2, relu2_2, relu3_3, relu4_3),
- the total variation of the output,
and take an Adam step on their weighted sum (mlcore.losses defines each term). The run's
inputs are ``style`` (an image), ``content`` (a folder of photos, e.g. COCO) and optionally
``vgg_weights`` (a local copy of torchvision's VGG16 file, see mlcore.vgg).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from mlcore import images
from mlcore.data import ImageFolderDataset, ImageTransform, load_image
from mlcore.engine import ExportedModel, TrainingTask
from mlcore.fast_style.config import FastStyleTrainConfig
from mlcore.fast_style.inferer import translate
from mlcore.fast_style.networks import build as build_network
from mlcore.losses import content_loss, gram_matrix, style_loss, total_variation
from mlcore.vgg import load_vgg

__all__ = ["Task"]

log = logging.getLogger(__name__)



class Task(TrainingTask):
    """Johnson et al.'s training of a TransformerNet (or EngstromNet) for one style image."""

    config: FastStyleTrainConfig

    def setup(self) -> None:
        config, inputs, seed = self.config, self.inputs, self.seed
        self.style_path = Path(inputs["style"])
        self._dataset = ImageFolderDataset(
            inputs["content"],
            ImageTransform(resize=config.image_size, crop=config.image_size, random_crop=True,
                           hflip=config.hflip),
            seed=seed,
        )
        self.vgg = load_vgg("vgg16", config.loss_network, path=inputs.get("vgg_weights"), device=self.device)
        self.net = build_network(config.arch).to(self.device)
        self.networks = {"transformer": self.net}
        self.optimizers = {"transformer": torch.optim.Adam(self.net.parameters(), lr=config.lr)}
        self.style_grams = self._style_targets(load_image(self.style_path))

    def _style_targets(self, style: Image.Image) -> dict[str, torch.Tensor]:
        size = self.config.style_size
        if size is not None and max(style.size) != size:
            scale = size / max(style.size)
            style = style.resize((max(1, round(style.width * scale)), max(1, round(style.height * scale))),
                                 Image.Resampling.BILINEAR)
        with torch.no_grad():
            features = self.vgg(images.pil_to_tensor(style).to(self.device), self.config.style_layers)
            return {layer: gram_matrix(f) for layer, f in features.items()}

    @property
    def dataset(self) -> ImageFolderDataset:
        return self._dataset

    @property
    def labels(self) -> tuple[str, ...]:
        return (self.vgg.label,) if self.vgg.is_random else ()

    def probe_batch(self) -> torch.Tensor:
        return self._dataset.probe_batch(self.config.num_probes)

    def stylise(self, x01: torch.Tensor) -> torch.Tensor:
        """The network's output in [0, 1] units, unclamped (so the losses see its real values);
        through the DDP wrapper when several processes train."""
        return self.step_networks["transformer"](x01 * 255.0) / 255.0

    def train_step(self, batch: torch.Tensor) -> dict[str, float]:
        config = self.config
        with torch.no_grad():
            target = self.vgg(batch, [config.content_layer])[config.content_layer]
        output = self.stylise(batch)
        layers = list(dict.fromkeys([config.content_layer, *config.style_layers]))
        features = self.vgg(output, layers)
        content = config.content_weight * content_loss(features[config.content_layer], target)
        style = config.style_weight * style_loss(features, self.style_grams)
        tv = config.tv_weight * total_variation(output)
        loss = content + style + tv
        self.optimizer_step(loss, self.optimizers["transformer"])
        return {"loss": loss.item(), "content": content.item(), "style": style.item(), "tv": tv.item()}

    def sample(self, probe: torch.Tensor) -> torch.Tensor:
        return torch.cat([probe, translate(self.net, probe).float()])  # inputs row, outputs row

    def export_model(self) -> ExportedModel:
        meta: dict[str, Any] = {
            "name": f"{self.style_path.stem} (trained)",
            "style": self.style_path.name,
            "source": "trained with mlcore (Johnson et al. 2016 perceptual losses)",
            "loss_network": self.vgg.label,
        }
        state = {k: v.detach().to("cpu", torch.float32) for k, v in self.net.state_dict().items()}
        return ExportedModel(family="fast_style", config=self.config.arch, state_dict=state, meta=meta)
