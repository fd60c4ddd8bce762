"""Output parity of the StyleGAN2 importers: an imported generator draws what the original does.

rosinality/stylegan2-pytorch: a random generator in rosinality's names and shapes (the fixture
builder of test_stylegan2_importers), saved in its training layout, imported with
``import_rosinality`` and loaded as the site loads a model (``load_generator``), against
``stylegan2_rosinality_reference``: rosinality's forward written from its formulas and run on
the original state dict. Same z, truncation 1, the stored noise maps (rosinality's
``randomize_noise=False`` = our ``noise_mode="const"``).

The two differ by one thing, on purpose not "fixed": where the demodulation's 1e-8 goes.
rosinality adds it to the sum of squares of ``weight / sqrt(fan_in) * style``, NVlabs (whose
formulas our network keeps) to that of ``weight * style``, so rosinality's epsilon weighs
fan_in times more. That moves a float64 image by about 1e-7 here; with NVlabs' placement in
the reference the two agree to rounding (1e-12). Every weight is random, with rosinality's
initial scales for the mapping (``randn / lr_mul``) so that w is not negligible, and random
noise strengths (rosinality starts them at 0) so that a misplaced noise map shows.

NVlabs pickles keep our names, so their test is the identity: the imported checkpoint holds
the pickle's tensors bit for bit and draws exactly what a network loaded with them directly
draws.
"""

from __future__ import annotations

import pytest
import stylegan2_rosinality_reference as ref
import test_stylegan2_importers as fixtures
import torch

from mlcore.checkpoint import load_model
from mlcore.importers.stylegan2 import import_nvlabs_stylegan2, import_rosinality
from mlcore.stylegan2 import networks
from mlcore.stylegan2.config import StyleGAN2Config
from mlcore.stylegan2.generate import load_generator

LR_MLP = 0.01  # rosinality's mapping lr multiplier, the one the importer assumes
BATCH = 3


def rosinality_g_ema() -> dict[str, torch.Tensor]:
    """A 32 px rosinality g_ema (channels 16, 16, 8, 4; style_dim 8; n_mlp 2), random."""
    sd = fixtures.rosinality_state_dict(channels=fixtures.SMALLEST)
    for key in [k for k in sd if k.startswith("style.") and k.endswith(".weight")]:
        sd[key] = sd[key] / LR_MLP  # EqualLinear stores randn / lr_mul
    return sd


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    """(rosinality's g_ema, our Generator loaded from the imported checkpoint)."""
    tmp = tmp_path_factory.mktemp("rosinality")
    theirs = rosinality_g_ema()
    torch.save({"g": fixtures.rosinality_state_dict(seed=1, channels=fixtures.SMALLEST), "g_ema": theirs,
                "d": {"convs.0.0.weight": torch.randn(4, 3, 1, 1)},
                "g_optim": {"state": {}, "param_groups": []}, "d_optim": {"state": {}, "param_groups": []},
                "args": fixtures.training_args(32)}, tmp / "040000.pt")
    return theirs, load_generator(import_rosinality(tmp / "040000.pt", tmp / "rosy.safetensors"))


def zs(dtype=torch.float32) -> torch.Tensor:
    return torch.randn(BATCH, 8, generator=torch.Generator().manual_seed(12), dtype=torch.float64).to(dtype)


def test_the_imported_mapping_gives_rosinality_s_w_at_every_layer(imported):
    theirs, G = imported
    with torch.no_grad():
        ours = G.mapping(zs(), None, truncation_psi=1)
    w = ref.mapping(theirs, zs(), lr_mlp=LR_MLP)
    assert G.num_ws == ref.n_latent(theirs) == 8
    assert w.abs().mean() > 0.1  # w is not negligible against the modulations' biases
    assert ours.shape == (BATCH, 8, 8)
    assert (ours - w[:, None]).abs().max() < 1e-5


def test_the_imported_generator_draws_rosinality_s_image_in_float32(imported):
    theirs, G = imported
    with torch.no_grad():
        ours = G(zs(), None, truncation_psi=1, noise_mode="const")
    image, _ = ref.generator(theirs, zs(), lr_mlp=LR_MLP)
    assert ours.shape == image.shape == (BATCH, 3, 32, 32)
    assert image.abs().max() > 1  # random weights: no tanh, values of a few units
    assert (ours - image).abs().max() < 1e-4


@pytest.fixture(scope="module")
def imported_float64(imported):
    theirs, G = imported
    G64 = networks.build(G_config(G)).to(torch.float64).eval()
    G64.load_state_dict({k: v.double() for k, v in G.state_dict().items()})
    return {k: v.double() for k, v in theirs.items()}, G64


def G_config(G: networks.Generator) -> StyleGAN2Config:
    return StyleGAN2Config(**{**fixtures.TINY, "resolution": G.img_resolution})


def test_in_float64_the_only_difference_is_where_the_demodulation_epsilon_goes(imported_float64):
    theirs, G = imported_float64
    with torch.no_grad():
        ours = G(zs(torch.float64), None, truncation_psi=1, noise_mode="const")
    image, _ = ref.generator(theirs, zs(torch.float64), lr_mlp=LR_MLP)
    epsilon_moved, _ = ref.generator(theirs, zs(torch.float64), lr_mlp=LR_MLP, nvlabs_epsilon=True)
    assert 1e-9 < (ours - image).abs().max() < 1e-6  # rosinality's epsilon, fan_in times NVlabs'
    assert (ours - epsilon_moved).abs().max() < 1e-12


@pytest.mark.parametrize("mistake", [
    "up-sampling weight flipped",
    "noise maps of one block swapped",
    "noise of the first conv left out",
    "resample filter kept times 4",
    "ToRGB weights of two blocks swapped",
    "mapping layers swapped",
])
def test_the_comparison_catches_each_conversion_mistake(imported_float64, mistake):
    """The parity above is not loose: each plausible importer mistake moves the image by far
    more than the tolerance."""
    theirs, G = imported_float64
    state = {k: v.clone() for k, v in G.state_dict().items()}
    if mistake == "up-sampling weight flipped":
        state["synthesis.b16.conv0.weight"] = state["synthesis.b16.conv0.weight"].flip([2, 3])
    elif mistake == "noise maps of one block swapped":
        a, b = "synthesis.b8.conv0.noise_const", "synthesis.b8.conv1.noise_const"
        state[a], state[b] = state[b], state[a]
    elif mistake == "noise of the first conv left out":
        state["synthesis.b4.conv1.noise_strength"] = torch.zeros((), dtype=torch.float64)
    elif mistake == "resample filter kept times 4":
        state["synthesis.b8.conv0.resample_filter"] = state["synthesis.b8.conv0.resample_filter"] * 4
    elif mistake == "ToRGB weights of two blocks swapped":  # b4 and b8 both have 16 channels
        a, b = "synthesis.b4.torgb.weight", "synthesis.b8.torgb.weight"
        state[a], state[b] = state[b], state[a]
    elif mistake == "mapping layers swapped":
        a, b = "mapping.fc0.weight", "mapping.fc1.weight"
        state[a], state[b] = state[b], state[a]
    wrong = networks.build(G_config(G)).to(torch.float64).eval()
    wrong.load_state_dict(state)
    with torch.no_grad():
        drawn = wrong(zs(torch.float64), None, truncation_psi=1, noise_mode="const")
    image, _ = ref.generator(theirs, zs(torch.float64), lr_mlp=LR_MLP)
    assert (drawn - image).abs().max() > 1e-2


# --- NVlabs pickles: the names map one to one -----------------------------------------------


def test_an_nvlabs_pickle_imports_its_tensors_exactly_and_draws_what_they_draw(tmp_path):
    tensors = fixtures.write_nvlabs_pickle(tmp_path / "network-snapshot.pkl", channels=fixtures.SMALLEST)
    out = import_nvlabs_stylegan2(tmp_path / "network-snapshot.pkl", tmp_path / "nv.safetensors")

    stored = load_model(out).state_dict
    assert set(stored) == set(tensors)
    for key, tensor in tensors.items():
        assert stored[key].dtype == torch.float32 and torch.equal(stored[key], tensor), key

    direct = networks.build(StyleGAN2Config(**{**fixtures.TINY, "resolution": 32})).eval()
    direct.load_state_dict(tensors, strict=True)
    G = load_generator(out)
    z = zs()
    with torch.no_grad():
        for psi in (1.0, 0.7):  # 0.7 goes through the pickle's w_avg
            assert torch.equal(G(z, None, truncation_psi=psi, noise_mode="const"),
                               direct(z, None, truncation_psi=psi, noise_mode="const"))
        assert torch.equal(G.mapping(z, None), direct.mapping(z, None))

