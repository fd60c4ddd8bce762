"""Training a fast style network (Johnson et al. 2016) on the CPU with the test-only random VGG."""

from __future__ import annotations

import statistics

import pytest
from PIL import Image

from mlcore import engine
from mlcore.fast_style import FastStyleConfig, FastStyleTrainConfig
from mlcore.images import open_image
from mlcore.inference import Inferer
from mlcore.registry import get_family, trainable_families
from mlcore.vgg import RANDOM_VGG_LABEL


@pytest.fixture(scope="module")
def trained(tmp_path_factory, tiny_train_config, train_inputs):
    run_dir = tmp_path_factory.mktemp("fast-style")
    result = engine.start(run_dir, family="fast_style", config=tiny_train_config.replace(steps=16),
                          inputs=train_inputs, num_workers=0, log_every=1, sample_every=8)
    return run_dir, result


def test_the_loss_falls(trained):
    run_dir, result = trained
    losses = [m["loss"] for m in engine.read_metrics(run_dir)]
    assert len(losses) == 16 and result.status == "completed"
    assert statistics.mean(losses[-4:]) < 0.97 * statistics.mean(losses[:4])


def test_the_model_loads_in_the_inferer_and_keeps_the_picture_size(trained, chelsea_path):
    _, result = trained
    inferer = Inferer.load(result.model_path)
    assert inferer.family == "fast_style"
    assert inferer.config == FastStyleConfig(channels=(8, 16, 32), num_residual_blocks=1)
    out = inferer.translate(open_image(chelsea_path))
    assert out.size == (451, 300) and out.mode == "RGB"


def test_everything_made_with_the_random_vgg_says_so(trained):
    run_dir, result = trained
    meta = Inferer.load(result.model_path).meta
    assert meta["loss_network"] == RANDOM_VGG_LABEL
    assert meta["training"]["labels"] == [RANDOM_VGG_LABEL]
    assert engine.read_run(run_dir)["labels"] == [RANDOM_VGG_LABEL]
    with Image.open(result.sample_path) as grid:
        assert grid.info["comment"].decode() == RANDOM_VGG_LABEL
        # Banner above two rows (probes, outputs) of two 32 px images with 2 px padding.
        assert grid.height > 2 * 32 + 3 * 2


def test_the_family_offers_training_with_its_inputs_and_presets():
    family = get_family("fast_style")
    assert family in trainable_families()
    assert family.training.config_class is FastStyleTrainConfig
    assert [(i.name, i.kind, i.required) for i in family.training.inputs] == [
        ("style", "image", True), ("content", "folder", True), ("vgg_weights", "file", False)]
    paper = FastStyleTrainConfig.preset("johnson2016")
    assert (paper.image_size, paper.batch_size, paper.steps, paper.lr) == (256, 4, 40_000, 1e-3)
    assert (paper.content_layer, paper.style_layers) == ("relu3_3", ("relu1_2", "relu2_2", "relu3_3", "relu4_3"))
    assert paper.loss_network == "imagenet"
    assert FastStyleTrainConfig.from_json(paper.to_json()) == paper
    with pytest.raises(ValueError, match="style_layers.0: Input should be 'relu1_1', 'relu1_2'"):
        FastStyleTrainConfig.from_dict({"style_layers": ["conv1_1"]})
