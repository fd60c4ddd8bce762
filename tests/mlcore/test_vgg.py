"""The VGG loss network: where its weights come from, what it computes, how it is labelled."""

from __future__ import annotations

import logging
import urllib.error

import pytest
import torch

from mlcore.vgg import RANDOM_VGG_LABEL, MissingVGGWeightsError, layer_names, load_vgg

IMAGENET_MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
IMAGENET_STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


@pytest.fixture(autouse=True)
def empty_torch_home(tmp_path, monkeypatch):
    """No hub cache and no weights variables: what a fresh offline machine has."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))
    for name in ("RESTYLE_VGG16_WEIGHTS", "RESTYLE_VGG19_WEIGHTS", "RESTYLE_OFFLINE"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def torchvision_vgg16():
    torchvision = pytest.importorskip("torchvision")
    torch.manual_seed(0)
    return torchvision.models.vgg16(weights=None).eval()


@pytest.fixture(scope="module")
def vgg16_file(torchvision_vgg16, tmp_path_factory):
    # torchvision's file, less most of the 500 MB classifier (one entry stays: it is ignored).
    state = {k: v for k, v in torchvision_vgg16.state_dict().items()
             if k.startswith("features.") or k == "classifier.6.bias"}
    path = tmp_path_factory.mktemp("weights") / "vgg16-397923af.pth"
    torch.save(state, path)
    return path


def offline(url, destination):
    raise urllib.error.URLError("[Errno -2] Name or service not known")


def test_missing_weights_offline_say_what_to_download_and_where_to_put_it(tmp_path):
    with pytest.raises(MissingVGGWeightsError) as info:
        load_vgg("vgg16", downloader=offline)
    message = str(info.value)
    assert isinstance(info.value, RuntimeError)
    assert "https://download.pytorch.org/models/vgg16-397923af.pth" in message
    assert "RESTYLE_VGG16_WEIGHTS" in message and "--vgg-weights" in message
    assert "Name or service not known" in message  # why the download failed
    assert str(tmp_path / "torch-home" / "hub" / "checkpoints" / "vgg16-397923af.pth") in message
    assert "\n" not in message  # one line, as the CLI prints it


def test_vgg19_names_its_own_file_and_variable_and_offline_mode_skips_the_download(monkeypatch):
    monkeypatch.setenv("RESTYLE_OFFLINE", "1")

    def must_not_download(url, destination):
        raise AssertionError("downloaded although offline")

    with pytest.raises(MissingVGGWeightsError, match="vgg19-dcbb9e9d.pth.*RESTYLE_OFFLINE.*RESTYLE_VGG19_WEIGHTS"):
        load_vgg("vgg19", downloader=must_not_download)


def test_a_weights_path_that_is_not_a_file_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv("RESTYLE_VGG16_WEIGHTS", str(tmp_path / "nowhere.pth"))
    with pytest.raises(MissingVGGWeightsError, match="RESTYLE_VGG16_WEIGHTS names .*nowhere.pth"):
        load_vgg("vgg16", downloader=offline)


def test_local_torchvision_file_gives_torchvisions_activations(vgg16_file, torchvision_vgg16):
    vgg = load_vgg("vgg16", path=vgg16_file, downloader=offline)
    assert not vgg.is_random and "ImageNet" in vgg.label
    x = torch.rand(2, 3, 32, 24)
    features = vgg(x, ["relu1_2", "relu3_3", "relu4_3"])
    with torch.no_grad():
        expected = torchvision_vgg16.features[:23]((x - IMAGENET_MEAN) / IMAGENET_STD)  # relu4_3
    assert torch.equal(features["relu4_3"], expected)
    assert features["relu1_2"].shape == (2, 64, 32, 24) and features["relu3_3"].shape == (2, 256, 8, 6)


def test_the_environment_variable_and_the_hub_cache_are_found(vgg16_file, tmp_path, monkeypatch):
    monkeypatch.setenv("RESTYLE_VGG16_WEIGHTS", str(vgg16_file))
    assert load_vgg("vgg16", downloader=offline).weights_source == vgg16_file.name
    monkeypatch.delenv("RESTYLE_VGG16_WEIGHTS")
    cache = tmp_path / "torch-home" / "hub" / "checkpoints"
    cache.mkdir(parents=True)
    (cache / "vgg16-397923af.pth").write_bytes(vgg16_file.read_bytes())
    assert not load_vgg("vgg16", downloader=offline).is_random


def test_a_download_lands_in_the_hub_cache(vgg16_file, tmp_path):
    fetched = []

    def fake_download(url, destination):
        fetched.append(url)
        with open(destination, "wb") as handle:
            handle.write(vgg16_file.read_bytes())

    load_vgg("vgg16", downloader=fake_download)
    assert fetched == ["https://download.pytorch.org/models/vgg16-397923af.pth"]
    assert (tmp_path / "torch-home" / "hub" / "checkpoints" / "vgg16-397923af.pth").is_file()


def test_a_file_that_is_not_a_vgg_state_dict_is_refused(tmp_path):
    bad = tmp_path / "vgg16.pth"
    torch.save({"features.0.weight": torch.zeros(64, 3, 3, 3)}, bad)
    with pytest.raises(ValueError, match="not a torchvision vgg16 state dict"):
        load_vgg("vgg16", path=bad)


def test_random_weights_are_labelled_fixed_and_leave_the_global_rng_alone(caplog):
    before = torch.get_rng_state()
    with caplog.at_level(logging.WARNING, logger="mlcore.vgg"):
        a = load_vgg("vgg19", "random")
    assert torch.equal(torch.get_rng_state(), before)
    assert a.is_random and a.label == RANDOM_VGG_LABEL
    assert RANDOM_VGG_LABEL in caplog.text
    b = load_vgg("vgg19", "random")
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))


def test_the_network_is_frozen_but_passes_gradients_to_its_input():
    vgg = load_vgg("vgg16", "random")
    vgg.train()
    assert not vgg.training and not any(p.requires_grad for p in vgg.parameters())
    x = torch.rand(1, 3, 16, 16, requires_grad=True)
    vgg(x, ["relu2_2"])["relu2_2"].sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_layer_names_follow_the_papers():
    assert {"relu1_2", "relu2_2", "relu3_3", "relu4_3"} <= set(layer_names("vgg16"))
    assert {"relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1", "relu4_2"} <= set(layer_names("vgg19"))
    assert "relu3_4" not in layer_names("vgg16") and "relu3_4" in layer_names("vgg19")
    with pytest.raises(ValueError, match="has no layer 'relu9_1'"):
        load_vgg("vgg16", "random")(torch.rand(1, 3, 8, 8), ["relu9_1"])


def test_weights_on_disk_are_found_without_downloading(tmp_path, monkeypatch):
    from mlcore.vgg import imagenet_weights_on_disk

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.delenv("RESTYLE_VGG19_WEIGHTS", raising=False)
    assert imagenet_weights_on_disk("vgg19") is None
    local = tmp_path / "vgg19.pth"
    local.write_bytes(b"weights")
    assert imagenet_weights_on_disk("vgg19", path=local) == local
    monkeypatch.setenv("RESTYLE_VGG19_WEIGHTS", str(local))
    assert imagenet_weights_on_disk("vgg19") == local
