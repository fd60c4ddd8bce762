"""Importing znxlwm/UGATIT-pytorch checkpoints: an imported generator gives the original
network's output, both directions, light and full; bad files are refused in words."""

from __future__ import annotations

import argparse
from collections import OrderedDict

import pytest
import torch

from mlcore.importers.errors import ImporterError
from mlcore.importers.ugatit import import_ugatit
from mlcore.inference import Inferer
from mlcore.ugatit import UGATITConfig
from mlcore.cli import build_parser
from mlcore.ugatit.networks import Discriminator, ResnetGenerator

# No pretrained U-GAT-IT weights are available offline: the "original" networks are built with
# their layout (ours copies it key for key) and random weights, saved the way UGATIT.save does.


def their_checkpoint(path, *, light: bool, img_size: int = 32, ngf: int = 4, n_blocks: int = 2):
    torch.manual_seed(1)
    gen_a2b = ResnetGenerator(3, 3, ngf=ngf, n_blocks=n_blocks, img_size=img_size, light=light).eval()
    torch.manual_seed(2)
    gen_b2a = ResnetGenerator(3, 3, ngf=ngf, n_blocks=n_blocks, img_size=img_size, light=light).eval()
    with torch.no_grad():  # rho and LIN gamma/beta away from their initial values, as after training
        for net in (gen_a2b, gen_b2a):
            for name, p in net.named_parameters():
                if name.endswith(("rho", ".gamma", ".beta")):
                    p.uniform_(0.2, 0.8)
    params = {"genA2B": gen_a2b.state_dict(), "genB2A": gen_b2a.state_dict(),
              "disGA": Discriminator(3, ngf, 7).state_dict(), "disLA": Discriminator(3, ngf, 5).state_dict()}
    torch.save(params, path)
    return path, {"A2B": gen_a2b, "B2A": gen_b2a}


@pytest.mark.parametrize("light", [True, False], ids=["light", "full"])
@pytest.mark.parametrize("direction", ["A2B", "B2A"])
def test_an_imported_generator_gives_the_original_output(tmp_path, light, direction):
    pt, originals = their_checkpoint(tmp_path / "selfie2anime_params_0100000.pt", light=light)
    out = import_ugatit(pt, tmp_path / "model.safetensors", direction=direction, img_size=32 if light else None)
    inferer = Inferer.load(out)
    assert inferer.family == "ugatit"
    assert inferer.config == UGATITConfig(light=light, ngf=4, n_res=2, img_size=32)
    assert inferer.meta["direction"] == direction
    assert inferer.meta["name"] == f"selfie2anime_params_0100000 {direction[0]} to {direction[2]}"

    x01 = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        expected = (originals[direction](x01 * 2 - 1)[0] + 1) / 2
    assert torch.allclose(inferer.translate_tensor(x01), expected.clamp(0, 1), atol=1e-6)
    other = "B2A" if direction == "A2B" else "A2B"
    with torch.no_grad():
        assert not torch.allclose(inferer.translate_tensor(x01), (originals[other](x01 * 2 - 1)[0] + 1) / 2)


def test_a_full_model_s_size_is_read_off_the_weights_and_a_light_one_s_taken_as_given(tmp_path):
    pt, _ = their_checkpoint(tmp_path / "full.pt", light=False, img_size=48, ngf=2, n_blocks=1)
    full = Inferer.load(import_ugatit(pt, tmp_path / "full.safetensors"))
    assert full.config == UGATITConfig(light=False, ngf=2, n_res=1, img_size=48)
    pt, _ = their_checkpoint(tmp_path / "light.pt", light=True, ngf=2, n_blocks=3)
    assert Inferer.load(import_ugatit(pt, tmp_path / "light.safetensors")).config.img_size == 256
    assert Inferer.load(import_ugatit(pt, tmp_path / "l64.safetensors", img_size=64)).config.img_size == 64


def test_name_and_meta_are_stored(tmp_path):
    pt, _ = their_checkpoint(tmp_path / "x.pt", light=True)
    out = import_ugatit(pt, tmp_path / "m.safetensors", name="Selfie to anime", meta={"license": "MIT"})
    meta = Inferer.load(out).meta
    assert meta["name"] == "Selfie to anime" and meta["license"] == "MIT"
    assert meta["source"] == "znxlwm/UGATIT-pytorch checkpoint"


def test_files_that_are_not_ugatit_checkpoints_are_refused_in_words(tmp_path):
    with pytest.raises(ImporterError, match="no such file"):
        import_ugatit(tmp_path / "missing.pt", tmp_path / "out.safetensors")
    torch.save({"disGA": {}}, tmp_path / "only_d.pt")
    with pytest.raises(ImporterError, match="expected a dict with 'genA2B' and 'genB2A'.*found disGA"):
        import_ugatit(tmp_path / "only_d.pt", tmp_path / "out.safetensors")
    torch.save({"genA2B": [1, 2]}, tmp_path / "list.pt")
    with pytest.raises(ImporterError, match="genA2B is not a state dict"):
        import_ugatit(tmp_path / "list.pt", tmp_path / "out.safetensors")
    torch.save({"genA2B": OrderedDict(weight=torch.zeros(3))}, tmp_path / "other.pt")
    with pytest.raises(ImporterError, match="no DownBlock.1.weight"):
        import_ugatit(tmp_path / "other.pt", tmp_path / "out.safetensors")
    (tmp_path / "garbage.pt").write_bytes(b"not a torch file")
    with pytest.raises(ImporterError, match="not a loadable PyTorch file"):
        import_ugatit(tmp_path / "garbage.pt", tmp_path / "out.safetensors")
    torch.save({"genA2B": argparse.Namespace(a=1)}, tmp_path / "pickled.pt")
    with pytest.raises(ImporterError, match="pickled objects are never loaded"):
        import_ugatit(tmp_path / "pickled.pt", tmp_path / "out.safetensors")
    with pytest.raises(ImporterError, match="direction must be one of A2B, B2A"):
        import_ugatit(tmp_path / "only_d.pt", tmp_path / "out.safetensors", direction="AtoB")
    assert not (tmp_path / "out.safetensors").exists()


def test_shapes_that_do_not_fit_are_refused_in_words(tmp_path):
    pt, originals = their_checkpoint(tmp_path / "full.pt", light=False)
    out = tmp_path / "out.safetensors"
    with pytest.raises(ImporterError, match="a full model .* not a light one"):
        import_ugatit(pt, out, light=True)
    with pytest.raises(ImporterError, match="full model for 32x32 images, not 64"):
        import_ugatit(pt, out, img_size=64)
    with pytest.raises(ImporterError, match="the weights have ngf=4, not 8"):
        import_ugatit(pt, out, ngf=8)

    state = dict(originals["A2B"].state_dict())
    state["FC.0.weight"] = torch.zeros(16, 1000)
    torch.save({"genA2B": state}, tmp_path / "odd_fc.pt")
    with pytest.raises(ImporterError, match="takes 1000 features, neither 16 \\(light\\)"):
        import_ugatit(tmp_path / "odd_fc.pt", out)

    state = dict(originals["A2B"].state_dict())
    del state["UpBlock1_1.norm1.rho"]
    torch.save({"genA2B": state}, tmp_path / "missing_key.pt")
    with pytest.raises(ImporterError, match="missing keys: UpBlock1_1.norm1.rho"):
        import_ugatit(tmp_path / "missing_key.pt", out)

    state = dict(originals["A2B"].state_dict())
    state["conv1x1.bias"] = torch.zeros(5)
    torch.save({"genA2B": state}, tmp_path / "bad_shape.pt")
    with pytest.raises(ImporterError, match=r"genA2B.conv1x1.bias has shape \[5\], the generator needs \[16\]"):
        import_ugatit(tmp_path / "bad_shape.pt", out)
    assert not out.exists()


def test_the_import_command(tmp_path, capsys):
    pt, _ = their_checkpoint(tmp_path / "h2z.pt", light=True)
    parser = build_parser()
    args = parser.parse_args(["import", "ugatit", str(pt), str(tmp_path / "b2a.safetensors"), "--direction", "B2A",
                              "--light", "--img-size", "64", "--name", "Zebra to horse"])
    args.handler(args)
    assert capsys.readouterr().out.strip() == str(tmp_path / "b2a.safetensors")
    inferer = Inferer.load(tmp_path / "b2a.safetensors")
    assert (inferer.meta["direction"], inferer.meta["name"], inferer.config.img_size) == ("B2A", "Zebra to horse", 64)
    with pytest.raises(SystemExit):
        parser.parse_args(["import", "ugatit", str(pt), "out", "--direction", "sideways"])
