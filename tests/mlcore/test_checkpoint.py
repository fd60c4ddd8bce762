"""The Restyle checkpoint format: round trip, atomic writes and clear refusals."""

from __future__ import annotations

import json
import os
import stat

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

import mlcore
from mlcore.checkpoint import CheckpointError, load_model, read_header, save_model
from mlcore.fast_style import FastStyleConfig
from mlcore.fast_style.networks import TransformerNet

CONFIG = FastStyleConfig(variant="johnson", channels=(4, 8, 16), num_residual_blocks=1)
META = {"name": "Tiny", "style": "test", "license": "CC0", "attribution": "the test suite"}


@pytest.fixture
def state_dict():
    torch.manual_seed(0)
    return TransformerNet(CONFIG.channels, CONFIG.num_residual_blocks).state_dict()


@pytest.fixture
def saved(tmp_path, state_dict):
    return save_model(tmp_path / "tiny.safetensors", family="fast_style", config=CONFIG,
                      state_dict=state_dict, meta=META)


def test_save_then_load_gives_back_everything(saved, state_dict):
    loaded = load_model(saved)
    assert loaded.family == "fast_style"
    assert loaded.config == CONFIG
    assert loaded.meta == META
    assert loaded.mlcore_version == mlcore.__version__
    assert loaded.state_dict.keys() == state_dict.keys()
    for key, tensor in state_dict.items():
        assert torch.equal(loaded.state_dict[key], tensor), key


def test_read_header_describes_the_model_without_weights(saved):
    header = read_header(saved)
    assert (header.family, header.config, header.meta) == ("fast_style", CONFIG, META)
    assert header.state_dict == {}


def test_file_is_plain_safetensors_with_the_documented_metadata(saved):
    with safe_open(str(saved), framework="pt") as f:
        metadata = f.metadata()
        assert "conv1.conv2d.weight" in f.keys()
    assert metadata == {
        "format": "restyle.model",
        "format_version": "1",
        "family": "fast_style",
        "config": CONFIG.to_json(),
        "meta": json.dumps(META, sort_keys=True),
        "mlcore_version": mlcore.__version__,
    }


def test_tied_and_non_contiguous_tensors_are_saved_as_independent_copies(tmp_path):
    base = torch.arange(12.0).reshape(3, 4)
    tensors = {"a": base, "b": base, "t": base.t(), "row": base[1]}
    path = save_model(
        tmp_path / "m.safetensors", family="fast_style", config=CONFIG, state_dict=tensors
    )
    loaded = load_model(path).state_dict
    for key, tensor in tensors.items():
        assert torch.equal(loaded[key], tensor), key
    assert base.tolist() == torch.arange(12.0).reshape(3, 4).tolist()  # caller's tensor untouched


def test_a_failed_write_leaves_the_previous_file_intact(saved, monkeypatch):
    before = saved.read_bytes()

    def disk_full(fd):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", disk_full)  # the new bytes are written, not yet in place
    with pytest.raises(OSError, match="disk full"):
        save_model(saved, family="fast_style", config=CONFIG, state_dict={"x": torch.zeros(2)})
    monkeypatch.undo()

    assert saved.read_bytes() == before
    assert load_model(saved).meta == META
    assert sorted(p.name for p in saved.parent.iterdir()) == [saved.name]  # no temp file left


def test_checkpoint_files_follow_the_umask_like_any_other_file(saved, tmp_path):
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    assert stat.S_IMODE(saved.stat().st_mode) == stat.S_IMODE(plain.stat().st_mode)


def test_save_refuses_a_config_of_another_class(tmp_path):
    with pytest.raises(TypeError, match="must be a FastStyleConfig"):
        save_model(tmp_path / "x.safetensors", family="fast_style", config={"variant": "johnson"},
                   state_dict={})


def test_save_refuses_meta_that_is_not_json(tmp_path):
    with pytest.raises(ValueError, match="JSON-serialisable"):
        save_model(tmp_path / "x.safetensors", family="fast_style", config=CONFIG, state_dict={},
                   meta={"when": object()})


# --- refusals --------------------------------------------------------------------------------


def _raw_safetensors(path, **metadata):
    save_file({"w": torch.ones(4, 4)}, str(path), metadata={k: str(v) for k, v in metadata.items()})
    return path


def _restyle_metadata(**overrides):
    metadata = {"format": "restyle.model", "format_version": "1", "family": "fast_style",
                "config": CONFIG.to_json(), "meta": "{}", "mlcore_version": "0.1.0"}
    metadata.update(overrides)
    return metadata


@pytest.mark.parametrize("reader", [read_header, load_model], ids=["read_header", "load_model"])
@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.write_bytes(b""), "not a Restyle checkpoint"),
        (lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 100), "not a Restyle checkpoint"),
        (lambda p: p.write_text("{\"format\": \"restyle.model\"}"), "not a Restyle checkpoint"),
        (lambda p: _raw_safetensors(p), "not a Restyle checkpoint"),
        (lambda p: _raw_safetensors(p, format="something.else"), "not a Restyle checkpoint"),
        (lambda p: _raw_safetensors(p, **_restyle_metadata(family="dcgan")),
         "unknown model family 'dcgan' (known families: fast_style, gatys, pix2pix, stylegan2, ugatit)"),
        (lambda p: _raw_safetensors(p, **_restyle_metadata(format_version="2")),
         "format_version 2 is newer"),
        (lambda p: _raw_safetensors(p, **_restyle_metadata(config='{"variant": "x"}')),
         "bad fast_style config"),
    ],
    ids=["empty", "png", "json", "foreign-safetensors", "other-format", "unknown-family",
         "newer-version", "bad-config"],
)
def test_files_that_are_not_readable_checkpoints_are_refused(tmp_path, reader, make, message):
    path = tmp_path / "bad.safetensors"
    make(path)
    with pytest.raises(CheckpointError, match=message.replace("(", r"\(").replace(")", r"\)")):
        reader(path)


@pytest.mark.parametrize("keep", [0.5, 0.999, 0.0005], ids=["half", "last-bytes", "inside-header"])
def test_truncated_checkpoints_are_refused(saved, keep):
    data = saved.read_bytes()
    saved.write_bytes(data[: max(9, int(len(data) * keep))])
    for reader in (read_header, load_model):
        with pytest.raises(CheckpointError, match="truncated"):
            reader(saved)


def test_missing_file_is_a_checkpoint_error(tmp_path):
    with pytest.raises(CheckpointError, match="cannot read checkpoint"):
        load_model(tmp_path / "nowhere.safetensors")
