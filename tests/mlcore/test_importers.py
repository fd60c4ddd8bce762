"""Importers: ml5.js folders, pytorch/examples .pth files and the ml5.js download."""

from __future__ import annotations

import json
import os
import shutil
import urllib.error
from pathlib import Path

import numpy as np
import pytest
import torch

from mlcore.checkpoint import load_model
from mlcore.fast_style import FastStyleConfig
from mlcore.fast_style.networks import TransformerNet
from mlcore.importers import ImporterError
from mlcore.importers.ml5 import ML5_COMMIT, fetch_ml5_style, import_ml5
from mlcore.importers.pytorch_examples import import_pytorch_examples
from mlcore.inference import Inferer

# EngstromNet parameter prefix -> (TF variable id of its conv weight, its instance norm prefix).
ML5_LAYOUT = {
    "conv1": (0, "in1"), "conv2": (3, "in2"), "conv3": (6, "in3"),
    **{f"res{b}.conv1": (9 + 6 * (b - 1), f"res{b}.in1") for b in range(1, 6)},
    **{f"res{b}.conv2": (12 + 6 * (b - 1), f"res{b}.in2") for b in range(1, 6)},
    "deconv1": (39, "in4"), "deconv2": (42, "in5"), "deconv3": (45, "in6"),
}


def _raw_variable(folder: Path, var_id: int) -> np.ndarray:
    manifest = json.loads((folder / "manifest.json").read_text())
    entry = manifest["Variable" if var_id == 0 else f"Variable_{var_id}"]
    return np.fromfile(folder / entry["filename"], dtype="<f4").reshape(entry["shape"])


# --- ml5.js ----------------------------------------------------------------------------------


def test_ml5_import_holds_the_raw_variables_in_torch_layout(wave_checkpoint, wave_dir):
    checkpoint = load_model(wave_checkpoint)
    weights = checkpoint.state_dict

    assert checkpoint.config == FastStyleConfig(variant="engstrom", channels=(32, 64, 128),
                                                num_residual_blocks=5)
    assert len(weights) == 3 * len(ML5_LAYOUT)
    for conv, (var_id, norm) in ML5_LAYOUT.items():
        expected = _raw_variable(wave_dir, var_id).transpose(3, 2, 0, 1)
        assert np.array_equal(weights[f"{conv}.weight"].numpy(), expected), conv
        assert np.array_equal(weights[f"{norm}.bias"].numpy(), _raw_variable(wave_dir, var_id + 1))
        assert np.array_equal(weights[f"{norm}.weight"].numpy(), _raw_variable(wave_dir, var_id + 2))
    # Transposed convs: TF [k, k, out, in] becomes ConvTranspose2d's [in, out, k, k].
    assert weights["deconv1.weight"].shape == (128, 64, 3, 3)


def test_ml5_import_describes_where_the_weights_come_from(wave_checkpoint):
    meta = load_model(wave_checkpoint).meta
    assert meta["name"] == "wave" and meta["style"] == "wave" and meta["source"] == "ml5.js"
    assert "Engstrom" in meta["attribution"] and "commercial" in meta["license"]
    assert ML5_COMMIT in meta["source_url"]


def test_ml5_import_takes_a_name_and_extra_meta(wave_dir, tmp_path):
    path = import_ml5(
        wave_dir, tmp_path / "w.safetensors", name="Great Wave", meta={"license": "custom"}
    )
    meta = load_model(path).meta
    assert meta["name"] == "Great Wave" and meta["license"] == "custom" and meta["style"] == "wave"


@pytest.fixture
def wave_copy(wave_dir, tmp_path):
    return Path(shutil.copytree(wave_dir, tmp_path / "wave"))


def test_ml5_short_variable_file_is_named_in_the_error(wave_copy, tmp_path):
    data = (wave_copy / "Variable_12").read_bytes()
    (wave_copy / "Variable_12").write_bytes(data[:-4])
    message = r"'Variable_12' holds 589820 bytes; its shape \[3, 3, 128, 128\] needs 589824"
    with pytest.raises(ImporterError, match=message):
        import_ml5(wave_copy, tmp_path / "out.safetensors")
    assert not (tmp_path / "out.safetensors").exists()


def test_ml5_missing_variable_file_is_named_in_the_error(wave_copy, tmp_path):
    (wave_copy / "Variable_40").unlink()
    with pytest.raises(ImporterError, match="'Variable_40' is missing"):
        import_ml5(wave_copy, tmp_path / "out.safetensors")


def test_ml5_folder_without_manifest_is_refused(tmp_path):
    with pytest.raises(ImporterError, match="no manifest.json"):
        import_ml5(tmp_path, tmp_path / "out.safetensors")


def test_ml5_manifest_with_a_missing_variable_is_refused(wave_copy, tmp_path):
    manifest = json.loads((wave_copy / "manifest.json").read_text())
    del manifest["Variable_20"]
    (wave_copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ImporterError, match="expected variables 0..N-1"):
        import_ml5(wave_copy, tmp_path / "out.safetensors")


# --- pytorch/examples ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def examples_net():
    torch.manual_seed(0)
    net = TransformerNet(channels=(8, 16, 32), num_residual_blocks=2).eval()
    with torch.no_grad():  # instance norms start as identity; make them matter
        for name, param in net.named_parameters():
            if name.startswith("in") or ".in" in name:
                param.copy_(torch.randn_like(param) * 0.3 + (1.0 if name.endswith("weight") else 0.0))
    return net


def _old_style_state_dict(net):
    # Files saved by old PyTorch versions carry running stats InstanceNorm no longer has.
    state = dict(net.state_dict())
    for norm in ("in1", "in2", "in3", "in4", "in5", "res1.in1", "res2.in2"):
        channels = state[f"{norm}.weight"].shape[0]
        state[f"{norm}.running_mean"] = torch.zeros(channels)
        state[f"{norm}.running_var"] = torch.ones(channels)
    return state


def test_pytorch_examples_import_runs_like_the_original_module(examples_net, tmp_path):
    pth = tmp_path / "candy.pth"
    torch.save(_old_style_state_dict(examples_net), pth)

    out = import_pytorch_examples(pth, tmp_path / "candy.safetensors")
    inferer = Inferer.load(out)

    assert inferer.config == FastStyleConfig(
        variant="johnson", channels=(8, 16, 32), num_residual_blocks=2
    )
    assert inferer.meta["name"] == "candy"
    x = torch.rand(1, 3, 21, 30)
    with torch.no_grad():
        expected = (examples_net(x * 255) / 255).clamp(0, 1)
    assert torch.allclose(inferer.translate_tensor(x), expected, atol=1e-5)


def test_pytorch_examples_with_wrong_keys_lists_them(examples_net, tmp_path):
    state = dict(examples_net.state_dict())
    state["conv_in.weight"] = state.pop("in1.weight")
    torch.save(state, tmp_path / "wrong.pth")
    message = "missing keys: in1.weight; unexpected keys: conv_in.weight"
    with pytest.raises(ImporterError, match=message):
        import_pytorch_examples(tmp_path / "wrong.pth", tmp_path / "out.safetensors")


def test_pytorch_examples_refuses_pickled_objects(tmp_path):
    torch.save(TransformerNet(), tmp_path / "module.pth")  # a whole module, not a state dict
    with pytest.raises(ImporterError, match="not a loadable PyTorch file"):
        import_pytorch_examples(tmp_path / "module.pth", tmp_path / "out.safetensors")


class _RunsACommand:
    """Pickles as a call of os.system: what a hostile .pth file would carry."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def test_a_file_that_would_run_a_command_is_refused_by_name_and_runs_nothing(tmp_path):
    marker = tmp_path / "ran"
    torch.save({"in1.weight": _RunsACommand(marker)}, tmp_path / "hostile.pth")
    with pytest.raises(ImporterError, match=r"it asks for posix\.system, which could run code"):
        import_pytorch_examples(tmp_path / "hostile.pth", tmp_path / "out.safetensors")
    assert not marker.exists()
    assert not (tmp_path / "out.safetensors").exists()


# --- fetch_ml5_style -------------------------------------------------------------------------


class FakeGitHub:
    """Serves ml5-data-and-models URLs from a local style folder; records what was asked."""

    def __init__(self, folder: Path, corrupt: str | None = None):
        self.folder, self.corrupt, self.urls = folder, corrupt, []

    def __call__(self, url, timeout):
        self.urls.append(url)
        prefix = (
            "https://raw.githubusercontent.com/ml5js/ml5-data-and-models/"
            f"{ML5_COMMIT}/models/style-transfer/wave/"
        )
        if not url.startswith(prefix):
            raise urllib.error.HTTPError(url, 404, "Not Found", None, None)
        name = url[len(prefix):]
        if name == self.corrupt:
            return _Response(b"\0" * 10)
        return open(self.folder / name, "rb")


class _Response:
    def __init__(self, data):
        self.data = data

    def read(self):
        return self.data

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_fetch_downloads_a_style_that_then_imports(wave_dir, tmp_path):
    github = FakeGitHub(wave_dir)
    folder = fetch_ml5_style("wave", tmp_path / "models", opener=github)

    assert folder == tmp_path / "models" / "wave"
    assert len(github.urls) == 49 and github.urls[0].endswith("/wave/manifest.json")
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in wave_dir.iterdir())
    assert (folder / "Variable_33").read_bytes() == (wave_dir / "Variable_33").read_bytes()
    import_ml5(folder, tmp_path / "wave.safetensors")


def test_fetch_with_a_short_download_leaves_nothing_behind(wave_dir, tmp_path):
    with pytest.raises(ImporterError, match="Variable_7: got 10 bytes"):
        fetch_ml5_style("wave", tmp_path, opener=FakeGitHub(wave_dir, corrupt="Variable_7"))
    assert list(tmp_path.iterdir()) == []


def test_fetch_reports_an_unknown_style(wave_dir, tmp_path):
    message = "could not download .*/models/style-transfer/nosuch/manifest.json"
    with pytest.raises(ImporterError, match=message):
        fetch_ml5_style("nosuch", tmp_path, opener=FakeGitHub(wave_dir))


def test_fetch_refuses_style_names_that_are_paths(tmp_path):
    with pytest.raises(ImporterError, match="invalid style name"):
        fetch_ml5_style("../etc", tmp_path, opener=lambda url, timeout: pytest.fail("no download"))
