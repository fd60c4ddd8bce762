"""Importing junyanz/pytorch-CycleGAN-and-pix2pix generators: same output as the original
network, the quirks of old files smoothed, clear errors for files that do not fit."""

from __future__ import annotations

import functools

import pytest
import torch
from torch import nn

from mlcore.checkpoint import load_model
from mlcore.importers.errors import ImporterError
from mlcore.importers.junyanz import import_junyanz
from mlcore.inference import Inferer
from mlcore.pix2pix import Pix2PixConfig

BATCH = functools.partial(nn.BatchNorm2d, affine=True)
INSTANCE = functools.partial(nn.InstanceNorm2d, affine=False, track_running_stats=False)
OLD_INSTANCE = functools.partial(nn.InstanceNorm2d, affine=False, track_running_stats=True)


class JunyanzBlock(nn.Module):
    """junyanz's ``UnetSkipConnectionBlock`` as they build it, in-place activations included
    (which overwrite the skip with leaky_relu(x)): the reference our U-Net must match."""

    def __init__(self, outer_nc, inner_nc, input_nc=None, submodule=None, outermost=False, innermost=False,
                 norm_layer=BATCH, use_dropout=False):
        super().__init__()
        self.outermost = outermost
        use_bias = norm_layer.func == nn.InstanceNorm2d
        input_nc = outer_nc if input_nc is None else input_nc
        downconv = nn.Conv2d(input_nc, inner_nc, kernel_size=4, stride=2, padding=1, bias=use_bias)
        downrelu, uprelu = nn.LeakyReLU(0.2, True), nn.ReLU(True)
        if outermost:
            model = [downconv, submodule, uprelu, nn.ConvTranspose2d(inner_nc * 2, outer_nc, 4, 2, 1), nn.Tanh()]
        elif innermost:
            model = [downrelu, downconv, uprelu, nn.ConvTranspose2d(inner_nc, outer_nc, 4, 2, 1, bias=use_bias),
                     norm_layer(outer_nc)]
        else:
            model = [downrelu, downconv, norm_layer(inner_nc), submodule, uprelu,
                     nn.ConvTranspose2d(inner_nc * 2, outer_nc, 4, 2, 1, bias=use_bias), norm_layer(outer_nc)]
            model += [nn.Dropout(0.5)] if use_dropout else []
        self.model = nn.Sequential(*model)

    def forward(self, x):
        return self.model(x) if self.outermost else torch.cat([x, self.model(x)], 1)


class JunyanzUnet(nn.Module):
    def __init__(self, input_nc=3, output_nc=3, num_downs=7, ngf=8, norm_layer=BATCH):
        super().__init__()
        block = JunyanzBlock(ngf * 8, ngf * 8, innermost=True, norm_layer=norm_layer)
        for _ in range(num_downs - 5):
            block = JunyanzBlock(ngf * 8, ngf * 8, submodule=block, norm_layer=norm_layer, use_dropout=True)
        for outer, inner in ((4, 8), (2, 4), (1, 2)):
            block = JunyanzBlock(ngf * outer, ngf * inner, submodule=block, norm_layer=norm_layer)
        self.model = JunyanzBlock(output_nc, ngf, input_nc, submodule=block, outermost=True, norm_layer=norm_layer)

    def forward(self, x):
        return self.model(x)


def trained_looking(net: nn.Module, seed: int = 0) -> nn.Module:
    """Random weights and batch norm statistics, so that every parameter matters."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in net.state_dict().items():
            if name.endswith("running_var"):
                tensor.copy_(torch.rand(tensor.shape, generator=generator) + 0.5)
            elif tensor.is_floating_point():
                tensor.copy_(torch.randn(tensor.shape, generator=generator) * (0.1 if "weight" in name else 0.2))
    return net


def save(net_or_state, path):
    state = net_or_state.state_dict() if isinstance(net_or_state, nn.Module) else net_or_state
    torch.save(state, path)
    return path


def junyanz_output(net: nn.Module, x01: torch.Tensor, *, eval_mode: bool) -> torch.Tensor:
    """What junyanz's test.py gives: with --eval (eval mode) or by default (training mode; we
    switch dropout off, since our inference never drops out)."""
    net.train(not eval_mode)
    for module in net.modules():
        if isinstance(module, nn.Dropout):
            module.eval()
    with torch.no_grad():
        return ((net(x01 * 2 - 1) + 1) / 2).clamp(0, 1)


@pytest.mark.parametrize("test_norm, eval_mode", [("running", True), ("image", False)])
def test_an_imported_generator_gives_junyanz_output(tmp_path, test_norm, eval_mode):
    original = trained_looking(JunyanzUnet(num_downs=7, ngf=8))
    pth = save(original, tmp_path / "latest_net_G.pth")
    model = import_junyanz(pth, tmp_path / "facades.safetensors", arch="unet_128", ngf=8, test_norm=test_norm)
    inferer = Inferer.load(model)
    assert inferer.config == Pix2PixConfig(generator="unet_128", ngf=8, test_norm=test_norm)
    x = torch.rand(2, 3, 128, 128, generator=torch.Generator().manual_seed(1))
    # junyanz's test.py runs one image at a time (what training-mode batch norm sees).
    expected = torch.cat([junyanz_output(original, x[i:i + 1], eval_mode=eval_mode) for i in range(2)])
    assert torch.allclose(inferer.translate_tensor(x), expected, atol=1e-5)
    assert inferer.meta["name"] == "latest_net_G"
    assert inferer.meta["source"].startswith("junyanz/pytorch-CycleGAN-and-pix2pix")


def test_instance_norm_generators_import_with_or_without_old_running_statistics(tmp_path):
    current = trained_looking(JunyanzUnet(num_downs=5, ngf=4, norm_layer=INSTANCE))
    old = JunyanzUnet(num_downs=5, ngf=4, norm_layer=OLD_INSTANCE)
    old.load_state_dict(current.state_dict(), strict=False)  # + running_mean/var/num_batches_tracked
    assert any(k.endswith("running_mean") for k in old.state_dict())
    x = torch.rand(1, 3, 32, 32)
    expected = junyanz_output(current, x, eval_mode=True)
    for name, net in (("current", current), ("old", old)):
        model = import_junyanz(save(net, tmp_path / f"{name}.pth"), tmp_path / f"{name}.safetensors",
                               arch="unet_32", norm="instance", ngf=4)
        assert not any("running" in key for key in load_model(model).state_dict)
        assert torch.allclose(Inferer.load(model).translate_tensor(x), expected, atol=1e-5), name


def test_dataparallel_prefixes_and_missing_batch_norm_counters_are_smoothed(tmp_path):
    original = trained_looking(JunyanzUnet(num_downs=5, ngf=4))
    # Saved from a DataParallel wrapper by PyTorch < 0.4: "module." keys, no num_batches_tracked.
    old_file = {f"module.{k}": v for k, v in original.state_dict().items() if not k.endswith("num_batches_tracked")}
    model = import_junyanz(save(old_file, tmp_path / "old.pth"), tmp_path / "old.safetensors", arch="unet_32",
                           ngf=4, test_norm="running")
    state = load_model(model).state_dict
    assert state["model.model.1.model.2.num_batches_tracked"].item() == 0
    x = torch.rand(1, 3, 32, 32)
    assert torch.allclose(Inferer.load(model).translate_tensor(x), junyanz_output(original, x, eval_mode=True),
                          atol=1e-5)


def test_grey_generators_keep_their_channel_counts(tmp_path):
    grey = trained_looking(JunyanzUnet(input_nc=1, output_nc=1, num_downs=5, ngf=4))
    model = import_junyanz(save(grey, tmp_path / "g.pth"), tmp_path / "g.safetensors", arch="unet_32", ngf=4)
    inferer = Inferer.load(model)
    assert (inferer.config.in_channels, inferer.config.out_channels) == (1, 1)
    out = inferer.translate_tensor(torch.rand(1, 3, 20, 24))
    assert out.shape == (1, 3, 20, 24) and torch.equal(out[:, 0], out[:, 2])  # grey, shown as RGB


# --- errors ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_file(tmp_path_factory):
    """A junyanz unet_32 (ngf 4, batch norm) state dict."""
    return trained_looking(JunyanzUnet(num_downs=5, ngf=4)).state_dict()


def test_depth_and_width_are_read_off_the_file(tmp_path, small_file):
    model = import_junyanz(save(small_file, tmp_path / "g.pth"), tmp_path / "out.safetensors")
    config = Inferer.load(model).config
    assert (config.generator, config.ngf) == ("unet_32", 4)


def test_another_depth_or_width_than_asked_for_says_which_arguments_fit(tmp_path, small_file):
    pth = save(small_file, tmp_path / "g.pth")
    with pytest.raises(ImporterError, match=r"U-Net with 5 levels \(that is unet_32; pass arch='unet_32'\), "
                                            "unet_256 has 8"):
        import_junyanz(pth, tmp_path / "out.safetensors", arch="unet_256", ngf=4)
    with pytest.raises(ImporterError, match="has ngf=4 filters in its first layer, not 64; pass ngf=4"):
        import_junyanz(pth, tmp_path / "out.safetensors", arch="unet_32", ngf=64)
    assert not (tmp_path / "out.safetensors").exists()


def test_missing_unexpected_and_misshapen_keys_are_named(tmp_path, small_file):
    broken = dict(small_file)
    del broken["model.model.1.model.2.weight"]
    broken["model.extra.weight"] = torch.zeros(1)
    with pytest.raises(ImporterError, match=r"missing keys: model\.model\.1\.model\.2\.weight; "
                                            r"unexpected keys: model\.extra\.weight"):
        import_junyanz(save(broken, tmp_path / "a.pth"), tmp_path / "a.safetensors", arch="unet_32", ngf=4)

    misshapen = dict(small_file)
    misshapen["model.model.1.model.2.weight"] = torch.ones(5)
    with pytest.raises(ImporterError, match=r"model\.model\.1\.model\.2\.weight has shape \[5\], a unet_32 "
                                            r"U-Net with ngf=4 needs \[8\]"):
        import_junyanz(save(misshapen, tmp_path / "b.pth"), tmp_path / "b.safetensors", arch="unet_32", ngf=4)


def test_a_batch_norm_file_read_as_instance_norm_is_refused(tmp_path, small_file):
    with pytest.raises(ImporterError, match=r"not a junyanz unet_32 UnetGenerator state dict with instance norm; "
                                            r"missing keys: .*model\.model\.0\.bias.*unexpected keys: .*running_mean"):
        import_junyanz(save(small_file, tmp_path / "g.pth"), tmp_path / "g.safetensors", arch="unet_32",
                       norm="instance", ngf=4)


def test_files_that_are_not_generator_state_dicts_are_refused(tmp_path, small_file):
    with pytest.raises(ImporterError, match="no such file"):
        import_junyanz(tmp_path / "missing.pth", tmp_path / "m.safetensors")
    with pytest.raises(ImporterError, match="expected a state dict"):
        import_junyanz(save([1, 2], tmp_path / "list.pth"), tmp_path / "l.safetensors")
    torch.save(nn.Linear(2, 2), tmp_path / "module.pth")  # a pickled module, not weights
    with pytest.raises(ImporterError, match="not a loadable PyTorch file .* pickled objects are never loaded"):
        import_junyanz(tmp_path / "module.pth", tmp_path / "p.safetensors")
    colour = dict(small_file)
    colour["model.model.3.weight"] = torch.zeros(8, 2, 4, 4)  # junyanz's colorization: L in, ab out
    colour["model.model.3.bias"] = torch.zeros(2)
    with pytest.raises(ImporterError, match="2 output channels; mlcore translates pictures with 1 .* or 3"):
        import_junyanz(save(colour, tmp_path / "c.pth"), tmp_path / "c.safetensors", arch="unet_32", ngf=4)
