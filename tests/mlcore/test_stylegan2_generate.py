"""StyleGAN2 generation on tiny generators with random weights: seeds mean NVlabs' z, images
repeat per seed whatever else is in the call, the 8-bit formula, which ws drive which
resolution (found by watching the network, not by reading its code), style mixing, truncation,
latent files, interpolation frames and the animated WebP, and loading only stylegan2 models."""

import numpy as np
import pytest
import torch
from PIL import Image
from stylegan2_tiny import random_generator, save_random_generator

from mlcore.checkpoint import CheckpointError, save_model
from mlcore.registry import get_family
from mlcore.stylegan2 import networks
from mlcore.stylegan2.config import StyleGAN2Config
from mlcore.stylegan2.generate import (
    generate,
    interpolate,
    layer_ranges,
    load_generator,
    load_latent,
    mix,
    mixing_grid,
    save_latent,
    save_webp,
    synthesize,
    to_pil,
    to_uint8,
    ws_from_seeds,
    ws_resolutions,
    z_from_seed,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def G64():
    """tiny64 with random weights (the smallest model with fine layers)."""
    return random_generator("tiny64")


def pixels(images):
    return [np.asarray(image) for image in images]


# --- seeds ------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 42, 2**32 - 1])
def test_a_seed_is_numpy_randomstate_randn_as_nvlabs(seed):
    z = z_from_seed(seed, 512)
    expected = np.random.RandomState(seed).randn(1, 512)
    assert z.dtype == torch.float32 and z.shape == (1, 512)
    np.testing.assert_array_equal(z.numpy(), expected.astype(np.float32))


@pytest.mark.parametrize("seed", [-1, 2**32, 1.5, "3", True])
def test_a_seed_numpy_cannot_take_is_refused(seed):
    with pytest.raises(ValueError, match="seed"):
        z_from_seed(seed, 8)


def test_generate_gives_the_same_pixels_per_seed_whatever_else_is_in_the_call(G):
    first = pixels(generate(G, [0, 1, 2, 3, 4, 5, 6, 7], truncation_psi=0.7))
    again = pixels(generate(G, [0, 1, 2, 3, 4, 5, 6, 7], truncation_psi=0.7))
    shuffled = pixels(generate(G, [6, 3, 0], truncation_psi=0.7))
    alone = pixels(generate(G, [5], truncation_psi=0.7))
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    for seed, image in zip([6, 3, 0], shuffled):
        np.testing.assert_array_equal(first[seed], image)
    np.testing.assert_array_equal(first[5], alone[0])
    assert first[0].shape == (32, 32, 3) and first[0].dtype == np.uint8


def test_different_seeds_give_different_images(G):
    images = pixels(generate(G, [0, 1, 2]))
    for i in range(3):
        for j in range(i + 1, 3):
            assert np.abs(images[i].astype(int) - images[j]).mean() > 1.0


def test_random_noise_repeats_per_seed_and_differs_from_const(G):
    random_a = pixels(generate(G, [3, 4], noise_mode="random"))
    random_b = pixels(generate(G, [4, 3], noise_mode="random"))
    const = pixels(generate(G, [3], noise_mode="const"))
    none = pixels(generate(G, [3], noise_mode="none"))
    np.testing.assert_array_equal(random_a[0], random_b[1])
    assert not np.array_equal(random_a[0], const[0])
    assert not np.array_equal(const[0], none[0])
    with pytest.raises(ValueError, match="noise mode"):
        generate(G, [3], noise_mode="loud")


def test_to_uint8_is_nvlabs_formula_truncated_and_clamped_in_nhwc():
    values = torch.tensor([-2.0, -1.0, -0.008, 0.0, 0.5, 0.999, 1.0, 3.0])
    images = values.view(1, 1, 1, 8).expand(1, 3, 1, 8)
    out = to_uint8(images)
    # x * 127.5 + 128: -127 -> 0, 0.5 -> 0, 126.98 -> 126, 128, 191.75 -> 191, 255.37 -> 255, 255.5 -> 255,
    # 510.5 -> 255 (truncated, not rounded: rounding would give 127 and 192)
    assert out.dtype == torch.uint8 and out.shape == (1, 1, 8, 3)
    assert out[0, 0, :, 0].tolist() == [0, 0, 126, 128, 191, 255, 255, 255]
    assert to_pil(images)[0].mode == "RGB"


def test_to_uint8_leaves_the_callers_tensor_alone():
    images = torch.zeros(1, 3, 2, 2)
    to_uint8(images)
    assert images.abs().sum() == 0


# --- which ws drive which resolution ------------------------------------------------------------


def observed_ws_resolutions(G):
    """Run the synthesis network on ws whose index i is filled with the value i and record the
    index each style affine receives, with its layer's resolution: what the network does, not
    what its code says. Convolutions win over a ToRGB that shares their w."""
    seen: dict[int, list[tuple[str, int]]] = {}
    hooks = []
    for name, module in G.synthesis.named_modules():
        if isinstance(module, (networks.SynthesisLayer, networks.ToRGBLayer)):
            block = G.synthesis.get_submodule(name.rsplit(".", 1)[0])
            kind = "conv" if isinstance(module, networks.SynthesisLayer) else "torgb"

            def hook(mod, args, kind=kind, res=block.resolution):
                index = round(args[0][0, 0].item())
                assert torch.all(args[0] == index)
                seen.setdefault(index, []).append((kind, res))

            hooks.append(module.affine.register_forward_pre_hook(hook))
    ws = torch.arange(G.num_ws, dtype=torch.float32).view(1, -1, 1).expand(1, G.num_ws, G.w_dim)
    try:
        synthesize(G, ws)
    finally:
        for h in hooks:
            h.remove()
    assert sorted(seen) == list(range(G.num_ws)), "every ws drives some layer"
    return [max(res for kind, res in seen[i] if kind == "conv") if any(k == "conv" for k, _ in seen[i])
            else seen[i][0][1] for i in range(G.num_ws)]


@pytest.mark.parametrize("resolution", [32, 64, 256])
def test_ws_resolutions_match_what_the_synthesis_network_does(resolution):
    config = StyleGAN2Config(resolution=resolution, z_dim=8, w_dim=8, mapping_layers=1, channel_base=2048,
                             channel_max=8, num_fp16_res=0, conv_clamp=None)
    G = networks.build(config).eval()
    assert ws_resolutions(G) == observed_ws_resolutions(G)
    assert ws_resolutions(G.num_ws) == ws_resolutions(G)


@pytest.mark.parametrize("num_ws", [8, 10, 12, 14, 16, 18])
def test_layer_ranges_cover_every_ws_once_and_split_by_resolution(num_ws):
    ranges = layer_ranges(num_ws)
    assert list(ranges) == ["coarse", "middle", "fine"]
    covered = [i for start, stop in ranges.values() for i in range(start, stop)]
    assert covered == list(range(num_ws))
    resolutions = ws_resolutions(num_ws)
    for name, (low, high) in {"coarse": (4, 8), "middle": (16, 32), "fine": (64, 1024)}.items():
        start, stop = ranges[name]
        assert all(low <= resolutions[i] <= high for i in range(start, stop)), name


def test_layer_ranges_of_known_sizes():
    assert layer_ranges(18) == {"coarse": (0, 3), "middle": (3, 7), "fine": (7, 18)}  # 1024 px
    assert layer_ranges(14) == {"coarse": (0, 3), "middle": (3, 7), "fine": (7, 14)}  # 256 px
    assert layer_ranges(8) == {"coarse": (0, 3), "middle": (3, 8), "fine": (8, 8)}  # 32 px: no fine layers


@pytest.mark.parametrize("layers", ["coarse", "middle", "fine", (2, 5)])
def test_mix_replaces_exactly_the_chosen_range(G64, layers):
    ws_a = ws_from_seeds(G64, [1, 2])
    ws_b = ws_from_seeds(G64, [3])
    out = mix(ws_a, ws_b, layers)
    start, stop = layer_ranges(G64)[layers] if isinstance(layers, str) else layers
    assert out.shape == ws_a.shape and stop > start
    for i in range(G64.num_ws):
        source = ws_b.expand(2, -1, -1) if start <= i < stop else ws_a
        torch.testing.assert_close(out[:, i], source[:, i], rtol=0, atol=0)
    assert not torch.equal(ws_a, ws_from_seeds(G64, [3]).expand(2, -1, -1))  # the sources did differ
    torch.testing.assert_close(ws_a, ws_from_seeds(G64, [1, 2]), rtol=0, atol=0)  # not written to


def test_mix_refuses_ranges_the_model_does_not_have(G):
    ws = ws_from_seeds(G, [1])
    for bad in [(0, 0), (3, 2), (0, G.num_ws + 1), (-1, 2), "hair"]:
        with pytest.raises(ValueError):
            mix(ws, ws, bad)


def test_mixing_grid_has_sources_on_the_edges_and_mixes_in_the_cells(G64):
    rows, cols = ws_from_seeds(G64, [1, 2]), ws_from_seeds(G64, [3, 4, 5])
    grid = np.asarray(mixing_grid(G64, rows, cols, "coarse"))
    size = 64
    assert grid.shape == (3 * size, 4 * size, 3)
    np.testing.assert_array_equal(grid[:size, size:2 * size], pixels(to_pil(synthesize(G64, cols[:1])))[0])
    np.testing.assert_array_equal(grid[2 * size:, :size], pixels(to_pil(synthesize(G64, rows[1:])))[0])
    cell = pixels(to_pil(synthesize(G64, mix(rows[1:], cols[2:], "coarse"))))[0]
    np.testing.assert_array_equal(grid[2 * size:, 3 * size:], cell)


# --- truncation -------------------------------------------------------------------------------


def test_truncation_zero_gives_w_avgs_image_for_every_seed(G):
    images = pixels(generate(G, [0, 7, 123], truncation_psi=0.0))
    w_avg = G.mapping.w_avg.view(1, 1, -1).expand(1, G.num_ws, -1)
    assert G.mapping.w_avg.abs().sum() > 0  # a tracked, non-zero w_avg
    expected = pixels(to_pil(synthesize(G, w_avg)))[0]
    for image in images:
        np.testing.assert_array_equal(image, expected)


def test_truncation_moves_w_towards_w_avg(G):
    full = ws_from_seeds(G, [9], truncation_psi=1.0)
    half = ws_from_seeds(G, [9], truncation_psi=0.5)
    torch.testing.assert_close(half, G.mapping.w_avg + 0.5 * (full - G.mapping.w_avg))


# --- latents ----------------------------------------------------------------------------------


def test_a_latent_round_trips_with_its_metadata(G, tmp_path):
    ws = ws_from_seeds(G, [11], truncation_psi=0.7)
    path = save_latent(tmp_path / "seed11.npz", ws, model_sha256="ab" * 32, seed=11, truncation=0.7, space="w")
    loaded, meta = load_latent(path)
    torch.testing.assert_close(loaded, ws, rtol=0, atol=0)
    assert meta == {"model_sha256": "ab" * 32, "seed": 11, "truncation": 0.7, "space": "w"}
    np.testing.assert_array_equal(pixels(to_pil(synthesize(G, loaded))), pixels(generate(G, [11])))


def test_an_nvlabs_projector_latent_loads_and_a_pickle_is_refused(G, tmp_path):
    ws = ws_from_seeds(G, [1]).numpy()
    np.savez(tmp_path / "projected_w.npz", w=ws)  # what NVlabs projector.py writes
    loaded, meta = load_latent(tmp_path / "projected_w.npz")
    np.testing.assert_array_equal(loaded.numpy(), ws)
    assert meta == {}
    np.savez(tmp_path / "evil.npz", w=np.array([object()], dtype=object))
    with pytest.raises(ValueError, match="evil.npz"):
        load_latent(tmp_path / "evil.npz")
    np.savez(tmp_path / "other.npz", x=ws)
    with pytest.raises(ValueError, match="no 'w' or 'ws'"):
        load_latent(tmp_path / "other.npz")
    (tmp_path / "text.npz").write_text("not a zip")
    with pytest.raises(ValueError, match="text.npz"):
        load_latent(tmp_path / "text.npz")


def test_latent_metadata_must_be_json(G, tmp_path):
    with pytest.raises(ValueError, match="JSON"):
        save_latent(tmp_path / "x.npz", ws_from_seeds(G, [1]), when=object())
    assert not (tmp_path / "x.npz").exists()


# --- interpolation ----------------------------------------------------------------------------


def test_interpolation_passes_through_every_seed_and_loops(G):
    frames = interpolate(G, [1, 2, 3], frames_per_seed=4, truncation_psi=0.7, batch_size=1)
    assert len(frames) == 12
    seeds = pixels(generate(G, [1, 2, 3], truncation_psi=0.7))
    for k in range(3):
        np.testing.assert_array_equal(np.asarray(frames[4 * k]), seeds[k])
    open_ended = interpolate(G, [1, 2, 3], frames_per_seed=4, loop=False, batch_size=1)
    assert len(open_ended) == 9
    np.testing.assert_array_equal(np.asarray(open_ended[-1]), seeds[2])
    with pytest.raises(ValueError, match="two seeds"):
        interpolate(G, [1])


def test_an_animated_webp_has_every_frame_and_loops(G, tmp_path):
    frames = interpolate(G, [1, 2], frames_per_seed=3)
    path = save_webp(frames, tmp_path / "walk.webp", fps=10)
    with Image.open(path) as webp:
        assert webp.format == "WEBP" and webp.is_animated
        assert webp.n_frames == 6
        assert webp.info.get("loop") == 0
        durations = []
        for k in range(webp.n_frames):
            webp.seek(k)
            webp.load()
            durations.append(webp.info.get("duration"))
        assert durations == [100] * 6


# --- loading ----------------------------------------------------------------------------------


def test_load_generator_gives_the_saved_models_pixels(tmp_path):
    path, G = save_random_generator(tmp_path / "g.safetensors")
    loaded = load_generator(path)
    assert not loaded.training and not any(p.requires_grad for p in loaded.parameters())
    np.testing.assert_array_equal(pixels(generate(loaded, [4, 5])), pixels(generate(G, [4, 5])))


def test_load_generator_refuses_another_family_clearly(tmp_path):
    family = get_family("fast_style")
    config = family.config_class()
    save_model(tmp_path / "style.safetensors", family="fast_style", config=config,
               state_dict=family.build(config).state_dict())
    with pytest.raises(CheckpointError, match="a fast_style checkpoint, not a StyleGAN2 generator"):
        load_generator(tmp_path / "style.safetensors")
