"""Fixtures for the mlcore tests: real files from the shared data folder (``data_dir``, in
tests/conftest.py), an ml5.js checkpoint imported once, and tiny StyleGAN2 generators."""

from __future__ import annotations

from pathlib import Path

import pytest


def _require(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"shared data not found: {path} (set RESTYLE_DATA_DIR to the data folder)")
    return path


@pytest.fixture(scope="session")
def wave_dir(data_dir: Path) -> Path:
    """The ml5.js 'wave' style folder (manifest.json + Variable_N files)."""
    return _require(data_dir / "pretrained" / "fast-style-ml5" / "wave")


@pytest.fixture(scope="session")
def chelsea_path(data_dir: Path) -> Path:
    """scikit-image's chelsea.png: 451 x 300 RGB, odd width."""
    return _require(data_dir / "images" / "content" / "chelsea.png")


@pytest.fixture(scope="session")
def wave_checkpoint(wave_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wave style imported once per test session into a Restyle checkpoint."""
    from mlcore.importers.ml5 import import_ml5

    return import_ml5(wave_dir, tmp_path_factory.mktemp("ckpt") / "wave.safetensors")


@pytest.fixture(scope="session")
def wave_exact_checkpoint(wave_checkpoint: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The imported wave style with ``edges="exact"``: TensorFlow's arithmetic, for parity."""
    from mlcore.checkpoint import load_model, save_model

    model = load_model(wave_checkpoint)
    return save_model(tmp_path_factory.mktemp("ckpt") / "wave-exact.safetensors", family=model.family,
                      config=model.config.replace(edges="exact"), state_dict=model.state_dict, meta=model.meta)


@pytest.fixture(scope="session")
def content_folder(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shared content photos, shrunk to 72 px on the shorter side, in a temporary folder
    with a subfolder and all three formats (jpg, png, webp): a small training set."""
    from PIL import Image

    folder = tmp_path_factory.mktemp("content")
    (folder / "more").mkdir()
    sources = sorted((data_dir / "images" / "content").iterdir())
    if not sources:
        pytest.skip("no shared content images")
    for i, src in enumerate(sources):
        with Image.open(src) as img:
            img = img.convert("RGB")
            img.thumbnail((10_000, 72)) if img.width >= img.height else img.thumbnail((72, 10_000))
            fmt = ("jpg", "png", "webp")[i % 3]
            target = (folder / "more" if i % 2 else folder) / f"{src.stem}.{fmt}"
            img.save(target)
    return folder


@pytest.fixture(scope="session")
def style_path(data_dir: Path) -> Path:
    """Hokusai's Great Wave (public domain)."""
    return _require(data_dir / "images" / "styles" / "wave.jpg")


@pytest.fixture(scope="session")
def tiny_train_config():
    """The "tiny" fast-style preset on 32 px crops with the random (test-only) VGG16."""
    from mlcore.fast_style import FastStyleTrainConfig

    return FastStyleTrainConfig.preset("tiny", loss_network="random", image_size=32, style_size=48,
                                       hflip=True, steps=6)


@pytest.fixture(scope="session")
def train_inputs(content_folder: Path, style_path: Path) -> dict[str, str]:
    return {"style": str(style_path), "content": str(content_folder)}


@pytest.fixture(scope="session")
def photos(data_dir: Path) -> Path:
    """The shared content photos (astronaut, chelsea, coffee...)."""
    return _require(data_dir / "images" / "content")


@pytest.fixture(scope="session")
def pair_fixtures(data_dir: Path) -> Path:
    """Four published pix2pix pairs in the A|B layout (facades and edges2shoes)."""
    return _require(data_dir / "pairs" / "facades-edges2shoes-fixtures")


@pytest.fixture(scope="session")
def horse2zebra(data_dir: Path) -> Path:
    """mmagic's horse2zebra fixtures: trainA/ trainB/ testA/ testB/."""
    return _require(data_dir / "unpaired" / "mmagic-horse2zebra-fixtures")


@pytest.fixture(scope="session")
def random_inception_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random state dict in the published FID Inception file's layout (torchvision's Inception
    v3, 1008 classes, no aux head), saved under the published file's name: RANDOM weights, so
    the features it gives exercise the code, never a real FID."""
    import torch

    torchvision = pytest.importorskip("torchvision")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        net = torchvision.models.inception_v3(weights=None, aux_logits=False, num_classes=1008, init_weights=False)
    state = net.state_dict()
    assert state["fc.weight"].shape == (1008, 2048) and not any(k.startswith("AuxLogits") for k in state)
    path = tmp_path_factory.mktemp("weights") / "weights-inception-2015-12-05-6726825d.pth"
    torch.save(state, path)
    return path


@pytest.fixture(scope="module")
def one_torch_thread():
    """Tiny networks gain nothing from a second thread, and on a busy machine its waits cost
    many times the work (modules ask for it with ``pytest.mark.usefixtures``)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def G():
    """StyleGAN2 tiny32 with random weights."""
    from stylegan2_tiny import random_generator

    return random_generator("tiny32")


@pytest.fixture(autouse=True)
def grad_mode_restored():
    """A test that switches autograd off for the process (a benchmark's main run in-process, say)
    must not leave the tests after it without gradients."""
    import torch

    enabled = torch.is_grad_enabled()
    yield
    torch.set_grad_enabled(enabled)
