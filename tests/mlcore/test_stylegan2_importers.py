"""Reading community StyleGAN2 checkpoints without running their code: NVlabs network pickles
through the restricted unpickler, rosinality/stylegan2-pytorch files through
torch.load(weights_only=True); both become a state dict in NVlabs' names and shapes.

No real checkpoint can be downloaded here, so the files are written by the tests in the
structure the originals have: an NVlabs pickle is what torch_utils/persistence.py writes (each
module reduced to ``torch_utils.persistence._reconstruct_persistent_obj(meta)``), built from
stand-in classes while fake ``torch_utils`` and ``dnnlib`` modules exist, which are removed
before loading; a rosinality file is a ``torch.save`` of the dict its train.py saves."""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import pickle
import sys
import types
from collections import OrderedDict

import numpy as np
import pytest
import torch

from mlcore.importers import FORMATS
from mlcore.importers.errors import ImporterError
from mlcore.importers.nvlabs_pickle import PersistentRecord, load_nvlabs_pickle, record_state_dict
from mlcore.importers.stylegan2 import (
    _channel_rule,
    estimate_w_avg,
    expected_generator_shapes,
    nvlabs_generator,
    rosinality_generator,
)

# The small generator every fixture describes: 16 px, channels min(128 // res, 16) = 16, 16, 8.
TINY = {"resolution": 16, "z_dim": 8, "w_dim": 8, "mapping_layers": 2, "mapping_lr_multiplier": 0.01,
        "channel_base": 128, "channel_max": 16, "num_fp16_res": 0, "conv_clamp": None, "img_channels": 3}
CHANNELS = {4: 16, 8: 16, 16: 8}
FIR = torch.tensor([1.0, 3.0, 3.0, 1.0])
FIR = FIR[:, None] * FIR[None, :] / 64


# --- writing NVlabs-style pickles ---------------------------------------------------------------


@contextlib.contextmanager
def nvlabs_modules_while_writing():
    """Fake ``torch_utils.persistence`` and ``dnnlib.util`` for pickle to name; gone afterwards."""
    names = ("torch_utils", "torch_utils.persistence", "dnnlib", "dnnlib.util")
    assert not any(n in sys.modules for n in names)
    modules = {n: types.ModuleType(n) for n in names}

    def _reconstruct_persistent_obj(meta):  # never called: the loader must not need this module
        raise AssertionError("NVlabs' reconstruct function was called")

    class EasyDict(dict):
        pass

    _reconstruct_persistent_obj.__module__ = "torch_utils.persistence"
    _reconstruct_persistent_obj.__qualname__ = "_reconstruct_persistent_obj"
    EasyDict.__module__, EasyDict.__qualname__ = "dnnlib.util", "EasyDict"
    modules["torch_utils.persistence"]._reconstruct_persistent_obj = _reconstruct_persistent_obj
    modules["dnnlib.util"].EasyDict = EasyDict
    sys.modules.update(modules)
    try:
        yield types.SimpleNamespace(reconstruct=_reconstruct_persistent_obj, EasyDict=EasyDict)
    finally:
        for n in names:
            sys.modules.pop(n, None)


class Persistent:
    """Pickles as NVlabs' persistent_class decorator makes a module pickle."""

    def __init__(self, fakes, class_name, *, params=(), buffers=(), modules=(), attrs=None, kwargs=None,
                 module_src="# networks.py\n"):
        self.meta = dict(type="class", version=6, module_src=module_src, class_name=class_name, state={
            "training": False,
            "_parameters": OrderedDict((k, torch.nn.Parameter(v, requires_grad=False)) for k, v in params),
            "_buffers": OrderedDict(buffers),
            "_non_persistent_buffers_set": set(),
            "_forward_hooks": OrderedDict(),
            "_modules": OrderedDict(modules),
            "_init_args": (),
            "_init_kwargs": fakes.EasyDict(kwargs or {}),
            **(attrs or {}),
        })
        self.fakes = fakes

    def __reduce__(self):
        return (self.fakes.reconstruct, (self.meta,))


def nvlabs_generator_tree(fakes, *, c_dim=0, stylegan3_synthesis=False, seed=0, channels=None):
    """A Generator as NVlabs networks.py builds it for TINY (architecture 'skip'), and its tensors by name."""
    gen = torch.Generator().manual_seed(seed)
    tensors: dict[str, torch.Tensor] = {}

    def rand(name, *shape):
        tensors[name] = torch.randn(shape, generator=gen)
        return tensors[name]

    def fc(prefix, cin, cout, lr=1.0):
        return Persistent(fakes, "FullyConnectedLayer", params=[("weight", rand(f"{prefix}.weight", cout, cin)),
                                                                ("bias", rand(f"{prefix}.bias", cout))],
                          attrs={"activation": "lrelu", "weight_gain": np.float64(lr / math.sqrt(cin)), "bias_gain": lr})

    def layer(prefix, cin, cout, res, up):
        tensors[f"{prefix}.resample_filter"] = FIR
        return Persistent(
            fakes, "SynthesisLayer",
            params=[("weight", rand(f"{prefix}.weight", cout, cin, 3, 3)),
                    ("noise_strength", rand(f"{prefix}.noise_strength")), ("bias", rand(f"{prefix}.bias", cout))],
            buffers=[("resample_filter", FIR.clone()), ("noise_const", rand(f"{prefix}.noise_const", res, res))],
            modules=[("affine", fc(f"{prefix}.affine", TINY["w_dim"], cin))],
            attrs={"resolution": res, "up": up, "use_noise": True, "activation": "lrelu", "conv_clamp": None,
                   "padding": 1, "act_gain": np.float64(math.sqrt(2))})

    def torgb(prefix, cin):
        return Persistent(fakes, "ToRGBLayer",
                          params=[("weight", rand(f"{prefix}.weight", 3, cin, 1, 1)), ("bias", rand(f"{prefix}.bias", 3))],
                          modules=[("affine", fc(f"{prefix}.affine", TINY["w_dim"], cin))],
                          attrs={"conv_clamp": None, "weight_gain": np.float64(1 / math.sqrt(cin))})

    channels = channels or CHANNELS
    top = max(channels)
    blocks = []
    for res, cout in channels.items():
        prefix, cin = f"synthesis.b{res}", channels.get(res // 2, 0)
        tensors[f"{prefix}.resample_filter"] = FIR
        children = [] if res == 4 else [("conv0", layer(f"{prefix}.conv0", cin, cout, res, 2))]
        children += [("conv1", layer(f"{prefix}.conv1", cout, cout, res, 1)), ("torgb", torgb(f"{prefix}.torgb", cout))]
        params = [("const", rand(f"{prefix}.const", cout, 4, 4))] if res == 4 else []
        blocks.append((f"b{res}", Persistent(fakes, "SynthesisBlock", params=params, buffers=[("resample_filter", FIR.clone())],
                                             modules=children, attrs={"in_channels": cin, "resolution": res,
                                                                      "architecture": "skip", "use_fp16": False})))
    if stylegan3_synthesis:
        blocks = [("input", Persistent(fakes, "SynthesisInput")), ("L0_36_512", Persistent(fakes, "SynthesisLayer"))]
    synthesis_kwargs = {"channel_base": 128, "channel_max": 16, "num_fp16_res": 0, "conv_clamp": None}
    synthesis = Persistent(fakes, "SynthesisNetwork", modules=blocks,
                           kwargs={"w_dim": 8, "img_resolution": top, "img_channels": 3, **synthesis_kwargs},
                           attrs={"w_dim": 8, "img_resolution": top, "img_channels": 3, "block_resolutions": list(channels)})
    mapping = Persistent(fakes, "MappingNetwork",
                         buffers=[("w_avg", rand("mapping.w_avg", 8))],
                         modules=[("fc0", fc("mapping.fc0", 8, 8, 0.01)), ("fc1", fc("mapping.fc1", 8, 8, 0.01))],
                         attrs={"z_dim": 8, "c_dim": c_dim, "w_dim": 8, "num_ws": 8, "num_layers": 2, "w_avg_beta": 0.995})
    kwargs = {"z_dim": 8, "c_dim": c_dim, "w_dim": 8, "img_resolution": top, "img_channels": 3,
              "mapping_kwargs": fakes.EasyDict(num_layers=2), "synthesis_kwargs": fakes.EasyDict(synthesis_kwargs)}
    generator = Persistent(fakes, "Generator", modules=[("synthesis", synthesis), ("mapping", mapping)], kwargs=kwargs,
                           attrs={"z_dim": 8, "c_dim": c_dim, "w_dim": 8, "img_resolution": top, "img_channels": 3,
                                  "num_ws": 8})
    return generator, tensors


def write_nvlabs_pickle(path, **tree_options):
    """An NVlabs-shaped snapshot pickle; returns the G_ema tensors by name."""
    with nvlabs_modules_while_writing() as fakes:
        g_ema, tensors = nvlabs_generator_tree(fakes, **tree_options)
        g, _ = nvlabs_generator_tree(fakes, seed=1, **{k: v for k, v in tree_options.items() if k != "seed"})
        d = Persistent(fakes, "Discriminator", params=[("b4.out.weight", torch.randn(1, 16))])
        snapshot = {"G": g, "D": d, "G_ema": g_ema, "augment_pipe": None,
                    "training_set_kwargs": fakes.EasyDict(class_name="training.dataset.ImageFolderDataset",
                                                          path="/data/wikiart-16.zip", use_labels=False,
                                                          max_size=np.int64(1200), xflip=True, resolution=16)}
        with open(path, "wb") as handle:
            pickle.dump(snapshot, handle)
    assert "torch_utils" not in sys.modules and "dnnlib" not in sys.modules
    return tensors


class Evil:
    """Pickles as a call of ``func(*args)``: what a malicious pickle does."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return (self.func, self.args)


# --- NVlabs pickles -------------------------------------------------------------------------------


def test_a_well_formed_nvlabs_pickle_loads_as_inert_records_with_the_right_tensors(tmp_path):
    tensors = write_nvlabs_pickle(tmp_path / "network-snapshot-000400.pkl")
    data = load_nvlabs_pickle(tmp_path / "network-snapshot-000400.pkl")
    assert "torch_utils" not in sys.modules and "dnnlib" not in sys.modules  # nothing foreign was imported

    assert set(data) == {"G", "D", "G_ema", "augment_pipe", "training_set_kwargs"}
    g_ema = data["G_ema"]
    assert isinstance(g_ema, PersistentRecord) and g_ema.class_name == "Generator"
    assert g_ema.init_kwargs["mapping_kwargs"] == {"num_layers": 2}
    assert type(data["training_set_kwargs"]) is dict and data["training_set_kwargs"]["resolution"] == 16
    assert g_ema.child("mapping").child("fc0").attr("weight_gain") == pytest.approx(0.01 / math.sqrt(8))

    state_dict = record_state_dict(g_ema)
    assert set(state_dict) == set(tensors)
    assert all(torch.equal(state_dict[k], tensors[k]) for k in tensors)
    assert not torch.equal(record_state_dict(data["G"])["mapping.fc0.weight"], tensors["mapping.fc0.weight"])


def test_an_nvlabs_generator_converts_to_nvlabs_names_and_the_config_it_was_built_with(tmp_path):
    tensors = write_nvlabs_pickle(tmp_path / "wikiart.pkl")
    state_dict, config = nvlabs_generator(tmp_path / "wikiart.pkl")
    assert config == TINY
    # The reading of NVlabs networks.py in expected_generator_shapes agrees with the tree above.
    assert {k: tuple(v.shape) for k, v in state_dict.items()} == expected_generator_shapes(TINY)
    # mapping (2 layers + w_avg), 3 block filters + const, 5 synthesis layers of 7 tensors, 3 ToRGB of 4
    assert len(state_dict) == 5 + (3 + 1) + 5 * 7 + 3 * 4
    assert all(torch.equal(state_dict[k], tensors[k]) for k in tensors)
    assert state_dict["synthesis.b8.conv0.weight"].shape == (16, 16, 3, 3)
    assert state_dict["synthesis.b16.conv0.weight"].shape == (8, 16, 3, 3)
    assert state_dict["synthesis.b16.conv1.noise_const"].shape == (16, 16)
    assert state_dict["synthesis.b4.conv1.noise_strength"].shape == ()

    g_state, _ = nvlabs_generator(tmp_path / "wikiart.pkl", which="G")
    assert not torch.equal(g_state["mapping.fc0.weight"], state_dict["mapping.fc0.weight"])


def test_an_os_system_pickle_is_refused_and_the_command_never_runs(tmp_path):
    marker = tmp_path / "pwned"
    with open(tmp_path / "evil.pkl", "wb") as handle:
        pickle.dump({"G_ema": Evil(os.system, f"touch {marker}")}, handle)
    with pytest.raises(ImporterError, match=r"refused to load: the pickle asks for (posix|os|nt)\.system"):
        load_nvlabs_pickle(tmp_path / "evil.pkl")
    with pytest.raises(ImporterError, match="system"):
        nvlabs_generator(tmp_path / "evil.pkl")
    assert not marker.exists()


@pytest.mark.parametrize("func, args, named", [
    (eval, ("1+1",), "builtins.eval"),
    (exec, ("x = 1",), "builtins.exec"),
    (getattr, ("text", "upper"), "builtins.getattr"),
    (__import__("subprocess").Popen, (["true"],), "subprocess.Popen"),
    (torch.load, ("x.pt",), "torch.serialization.load"),  # torch's own globals are not admitted wholesale
])
def test_pickles_calling_anything_outside_the_allowlist_are_refused_naming_the_global(tmp_path, func, args, named):
    with open(tmp_path / "evil.pkl", "wb") as handle:
        pickle.dump({"G_ema": {"nested": [Evil(func, *args)]}}, handle)
    with pytest.raises(ImporterError, match=f"asks for {named}"):
        load_nvlabs_pickle(tmp_path / "evil.pkl")


def test_a_persistence_record_whose_source_would_write_a_file_loads_as_data_and_runs_nothing(tmp_path):
    marker = tmp_path / "written-by-module-src"
    source = f"open({str(marker)!r}, 'w').write('pwned')\nclass Generator: pass\n"
    with nvlabs_modules_while_writing() as fakes:
        record = Persistent(fakes, "Generator", params=[("weight", torch.ones(2, 2))], module_src=source)
        with open(tmp_path / "carrying-code.pkl", "wb") as handle:
            pickle.dump({"G_ema": record}, handle)

    loaded = load_nvlabs_pickle(tmp_path / "carrying-code.pkl")["G_ema"]
    assert loaded.module_src == source and len(loaded.module_src_sha256) == 64
    assert torch.equal(record_state_dict(loaded)["weight"], torch.ones(2, 2))
    assert not marker.exists()
    exec(compile(source, "<proof>", "exec"), {})  # the source does write the file when it is run
    assert marker.exists()


def test_broken_files_are_refused_in_words(tmp_path):
    write_nvlabs_pickle(tmp_path / "good.pkl")
    data = (tmp_path / "good.pkl").read_bytes()
    (tmp_path / "truncated.pkl").write_bytes(data[: len(data) // 2])
    (tmp_path / "garbage.pkl").write_bytes(b"\x00not a pickle at all" * 10)
    (tmp_path / "empty.pkl").write_bytes(b"")
    torch.save({"g_ema": {"w": torch.ones(1)}}, tmp_path / "rosinality.pt")
    with open(tmp_path / "list.pkl", "wb") as handle:
        pickle.dump([1, 2], handle)

    for name in ("truncated", "garbage", "empty"):
        with pytest.raises(ImporterError, match=rf"{name}\.pkl: not a readable NVlabs network pickle"):
            load_nvlabs_pickle(tmp_path / f"{name}.pkl")
    with pytest.raises(ImporterError, match="a torch.save archive.*rosinality importer"):
        load_nvlabs_pickle(tmp_path / "rosinality.pt")
    with pytest.raises(ImporterError, match="holds a list"):
        load_nvlabs_pickle(tmp_path / "list.pkl")
    with pytest.raises(ImporterError, match="no such file"):
        load_nvlabs_pickle(tmp_path / "missing.pkl")
    with pytest.raises(ImporterError, match="which must be one of G_ema, G"):
        nvlabs_generator(tmp_path / "good.pkl", which="D")


def test_conditional_and_stylegan3_generators_are_refused_in_words(tmp_path):
    write_nvlabs_pickle(tmp_path / "conditional.pkl", c_dim=10)
    write_nvlabs_pickle(tmp_path / "sg3.pkl", stylegan3_synthesis=True)
    with pytest.raises(ImporterError, match=r"conditional generator \(c_dim=10"):
        nvlabs_generator(tmp_path / "conditional.pkl")
    with pytest.raises(ImporterError, match="StyleGAN3 .*--cfg=stylegan2"):
        nvlabs_generator(tmp_path / "sg3.pkl")


# --- rosinality checkpoints -----------------------------------------------------------------------


def rosinality_state_dict(*, seed=0, blur_taps=(1, 3, 3, 1), channels=None):
    """g_ema's state dict as rosinality's model.py Generator names and shapes it (for TINY's channels)."""
    gen = torch.Generator().manual_seed(seed)
    taps = torch.tensor(blur_taps, dtype=torch.float32)
    kernel = taps[:, None] * taps[None, :]
    kernel = kernel / kernel.sum() * 4  # make_kernel(k) * factor ** 2
    sd: dict[str, torch.Tensor] = {}
    for i in (1, 2):
        sd[f"style.{i}.weight"], sd[f"style.{i}.bias"] = torch.randn(8, 8, generator=gen), torch.randn(8, generator=gen)

    def styled(prefix, cin, cout, up):
        sd[f"{prefix}.conv.weight"] = torch.randn(1, cout, cin, 3, 3, generator=gen)
        sd[f"{prefix}.conv.modulation.weight"] = torch.randn(cin, 8, generator=gen)
        sd[f"{prefix}.conv.modulation.bias"] = torch.randn(cin, generator=gen)
        if up:
            sd[f"{prefix}.conv.blur.kernel"] = kernel.clone()
        sd[f"{prefix}.noise.weight"] = torch.randn(1, generator=gen)
        sd[f"{prefix}.activate.bias"] = torch.randn(cout, generator=gen)

    def to_rgb(prefix, cin, up):
        if up:
            sd[f"{prefix}.upsample.kernel"] = kernel.clone()
        sd[f"{prefix}.bias"] = torch.randn(1, 3, 1, 1, generator=gen)
        sd[f"{prefix}.conv.weight"] = torch.randn(1, 3, cin, 1, 1, generator=gen)
        sd[f"{prefix}.conv.modulation.weight"] = torch.randn(cin, 8, generator=gen)
        sd[f"{prefix}.conv.modulation.bias"] = torch.randn(cin, generator=gen)

    channels = channels or CHANNELS
    sd["input.input"] = torch.randn(1, channels[4], 4, 4, generator=gen)
    styled("conv1", channels[4], channels[4], False)
    to_rgb("to_rgb1", channels[4], False)
    ups = [r for r in channels if r > 4]
    for k, res in enumerate(ups):
        styled(f"convs.{2 * k}", channels[res // 2], channels[res], True)
        styled(f"convs.{2 * k + 1}", channels[res], channels[res], False)
        to_rgb(f"to_rgbs.{k}", channels[res], True)
    for j in range(2 * len(ups) + 1):
        res = 2 ** ((j + 5) // 2)
        sd[f"noises.noise_{j}"] = torch.randn(1, 1, res, res, generator=gen)
    return sd


def training_args(size=16):
    return argparse.Namespace(size=size, latent=8, n_mlp=2, channel_multiplier=2, r1=10.0, iter=800000, batch=16,
                              ckpt=None, augment=True, ada_target=0.6, distributed=False, path="/data/lmdb")


def test_a_rosinality_training_checkpoint_converts_to_nvlabs_names_and_shapes(tmp_path):
    theirs = rosinality_state_dict()
    torch.save({"g": rosinality_state_dict(seed=1), "d": {"convs.0.0.weight": torch.randn(4, 3, 1, 1)},
                "g_ema": theirs, "g_optim": {"state": {}, "param_groups": []}, "d_optim": {"state": {}, "param_groups": []},
                "args": training_args(), "ada_aug_p": 0.1}, tmp_path / "100000.pt")
    ours, config = rosinality_generator(tmp_path / "100000.pt")
    assert config == TINY
    assert {k: tuple(v.shape) for k, v in ours.items()} == expected_generator_shapes(TINY)

    assert torch.equal(ours["mapping.fc1.weight"], theirs["style.2.weight"])
    assert torch.equal(ours["synthesis.b4.const"], theirs["input.input"][0])
    assert torch.equal(ours["synthesis.b4.conv1.noise_const"], theirs["noises.noise_0"][0, 0])
    assert torch.equal(ours["synthesis.b8.conv0.weight"], theirs["convs.0.conv.weight"][0])  # no flip
    assert torch.equal(ours["synthesis.b8.conv0.noise_const"], theirs["noises.noise_1"][0, 0])
    assert torch.equal(ours["synthesis.b16.conv1.affine.weight"], theirs["convs.3.conv.modulation.weight"])
    assert torch.equal(ours["synthesis.b16.conv1.bias"], theirs["convs.3.activate.bias"])
    assert torch.equal(ours["synthesis.b16.conv1.noise_const"], theirs["noises.noise_4"][0, 0])
    assert ours["synthesis.b16.conv1.noise_strength"] == theirs["convs.3.noise.weight"][0]
    assert torch.equal(ours["synthesis.b16.torgb.bias"], theirs["to_rgbs.1.bias"].flatten())
    # rosinality keeps the up-sampling kernels times 4; NVlabs' resample_filter sums to 1.
    assert torch.allclose(ours["synthesis.b16.resample_filter"], FIR) and ours["synthesis.b16.resample_filter"].sum() == 1
    assert torch.allclose(ours["synthesis.b8.conv0.resample_filter"], theirs["convs.0.conv.blur.kernel"] / 4)
    # No latent_avg in a training checkpoint: w_avg is the mapping's mean over fixed random z.
    assert torch.allclose(ours["mapping.w_avg"], estimate_w_avg(ours, num_layers=2, lr_multiplier=0.01))

    g_state, _ = rosinality_generator(tmp_path / "100000.pt", which="G")
    assert not torch.equal(g_state["mapping.fc0.weight"], ours["mapping.fc0.weight"])


def test_the_estimated_w_avg_is_the_mean_of_the_mapping_network(tmp_path):
    torch.manual_seed(0)
    sd = {f"mapping.fc{i}.{p}": torch.randn(8, 8) if p == "weight" else torch.randn(8) * 10
          for i in range(2) for p in ("weight", "bias")}
    z = torch.randn(20000, 8)
    x = z / z.pow(2).mean(1, keepdim=True).add(1e-8).sqrt()
    for i in range(2):  # the mapping as the paper describes it, one layer at a time
        x = x @ (sd[f"mapping.fc{i}.weight"] * 0.01 / math.sqrt(8)).T + sd[f"mapping.fc{i}.bias"] * 0.01
        x = torch.where(x > 0, x, 0.2 * x) * math.sqrt(2)
    assert torch.allclose(estimate_w_avg(sd, num_layers=2, lr_multiplier=0.01), x.mean(0), atol=0.02)


def test_a_convert_weight_layout_keeps_its_latent_avg(tmp_path):
    latent_avg = torch.randn(8)
    torch.save({"g_ema": rosinality_state_dict(), "latent_avg": latent_avg}, tmp_path / "stylegan2-ffhq-config-f.pt")
    ours, config = rosinality_generator(tmp_path / "stylegan2-ffhq-config-f.pt")
    assert config == TINY and torch.equal(ours["mapping.w_avg"], latent_avg)
    with pytest.raises(ImporterError, match=r"no g state dict \(the file holds g_ema, latent_avg\)"):
        rosinality_generator(tmp_path / "stylegan2-ffhq-config-f.pt", which="G")


def test_rosinality_s_channel_multipliers_are_nvlabs_channel_bases():
    def rosinality_channels(size, multiplier):
        rule = {4: 512, 8: 512, 16: 512, 32: 512, 64: 256 * multiplier, 128: 128 * multiplier,
                256: 64 * multiplier, 512: 32 * multiplier, 1024: 16 * multiplier}
        return {r: c for r, c in rule.items() if r <= size}

    assert _channel_rule(rosinality_channels(1024, 2), where="f") == (32768, 512)  # config-f
    assert _channel_rule(rosinality_channels(256, 1), where="e") == (16384, 512)
    with pytest.raises(ImporterError, match="follow no min"):
        _channel_rule({4: 512, 8: 256, 16: 512}, where="odd")


def test_a_rosinality_file_that_pickles_os_system_is_refused_and_runs_nothing(tmp_path):
    marker = tmp_path / "pwned"
    torch.save({"g_ema": rosinality_state_dict(), "args": Evil(os.system, f"touch {marker}")}, tmp_path / "evil.pt")
    with pytest.raises(ImporterError, match=r"evil.pt: refused to load: the file asks for (posix|os|nt)\.system"):
        rosinality_generator(tmp_path / "evil.pt")
    assert not marker.exists()


def test_rosinality_files_that_do_not_fit_are_refused_in_words(tmp_path):
    torch.save({"g_ema": rosinality_state_dict(blur_taps=(1, 2, 1, 0))}, tmp_path / "blur.pt")
    broken = rosinality_state_dict()
    del broken["noises.noise_3"]
    torch.save({"g_ema": broken}, tmp_path / "no_noise.pt")
    extra = {**rosinality_state_dict(), "convs.0.conv.extra": torch.ones(1)}
    torch.save({"g_ema": extra}, tmp_path / "extra.pt")
    torch.save({"generator": {}}, tmp_path / "other.pt")
    (tmp_path / "garbage.pt").write_bytes(b"PK\x03\x04 broken zip")
    torch.save({"g_ema": rosinality_state_dict(), "args": argparse.Namespace(size=32)}, tmp_path / "size.pt")

    with pytest.raises(ImporterError, match=r"convs.0.conv.blur.kernel is not the \[1,3,3,1\] filter"):
        rosinality_generator(tmp_path / "blur.pt")
    with pytest.raises(ImporterError, match="no noises.noise_3"):
        rosinality_generator(tmp_path / "no_noise.pt")
    with pytest.raises(ImporterError, match="does not have: convs.0.conv.extra"):
        rosinality_generator(tmp_path / "extra.pt")
    with pytest.raises(ImporterError, match="not a rosinality/stylegan2-pytorch checkpoint"):
        rosinality_generator(tmp_path / "other.pt")
    with pytest.raises(ImporterError, match="garbage.pt: not a loadable PyTorch file"):
        rosinality_generator(tmp_path / "garbage.pt")
    with pytest.raises(ImporterError, match="args.size is 32 but the weights are for 16px"):
        rosinality_generator(tmp_path / "size.pt")


def test_both_formats_are_in_the_importers_table():
    assert FORMATS["nvlabs-stylegan2"].source == "PKL"
    assert FORMATS["rosinality"].source == "PT"
    assert [o.name for o in FORMATS["rosinality"].options] == ["which"]


# --- into a Restyle checkpoint (needs mlcore.stylegan2, the network the weights fill) ------------

SMALLEST = {4: 16, 8: 16, 16: 8, 32: 4}  # min(128 // res, 16) at 32 px, the smallest StyleGAN2Config


def test_both_converters_write_a_checkpoint_the_stylegan2_network_loads_exactly(tmp_path):
    networks = pytest.importorskip("mlcore.stylegan2.networks")
    from mlcore.checkpoint import load_model
    from mlcore.importers.stylegan2 import import_nvlabs_stylegan2, import_rosinality

    with nvlabs_modules_while_writing() as fakes:
        g_ema, tensors = nvlabs_generator_tree(fakes, channels=SMALLEST)
        with open(tmp_path / "art.pkl", "wb") as handle:
            pickle.dump({"G_ema": g_ema}, handle)
    torch.save({"g_ema": rosinality_state_dict(channels=SMALLEST), "args": training_args(32)}, tmp_path / "r.pt")

    for out, source in ((import_nvlabs_stylegan2(tmp_path / "art.pkl", tmp_path / "a.safetensors"), "NVlabs"),
                        (import_rosinality(tmp_path / "r.pt", tmp_path / "r.safetensors", name="Rosy"), "rosinality")):
        checkpoint = load_model(out)
        assert checkpoint.family == "stylegan2" and source in checkpoint.meta["source"]
        assert (checkpoint.config.resolution, checkpoint.config.channel_base, checkpoint.config.channel_max) == (32, 128, 16)
        generator = networks.build(checkpoint.config).eval()
        generator.load_state_dict(checkpoint.state_dict, strict=True)
        with torch.no_grad():
            image = generator(torch.randn(2, 8), None, noise_mode="const")
        assert image.shape == (2, 3, 32, 32) and torch.isfinite(image).all()
    assert torch.equal(load_model(tmp_path / "a.safetensors").state_dict["synthesis.b32.conv0.weight"],
                       tensors["synthesis.b32.conv0.weight"])
    assert load_model(tmp_path / "r.safetensors").meta["name"] == "Rosy"
