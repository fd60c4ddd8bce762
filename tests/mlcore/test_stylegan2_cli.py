"""``python -m mlcore generate | mix | interpolate | project`` run in a subprocess, as a person
or a worker would, on a tiny StyleGAN2 checkpoint with random weights, offline (no LPIPS
weights: the projection's fallback distance is labelled)."""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from stylegan2_tiny import save_random_generator

from mlcore.checkpoint import save_model
from mlcore.cli import parse_layers, parse_seeds
from mlcore.metrics import FALLBACK_LABEL
from mlcore.registry import get_family
from mlcore.stylegan2.generate import (
    generate,
    layer_ranges,
    load_latent,
    mix,
    save_latent,
    synthesize,
    to_pil,
    ws_from_seeds,
)

REPO_ROOT = Path(__file__).resolve().parents[2]


def mlcore(tmp_path: Path, *args) -> subprocess.CompletedProcess:
    """An offline machine without LPIPS or VGG weights; one thread (tiny networks, busy CPUs)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RESTYLE_VGG", "RESTYLE_LPIPS"))}
    env.update(TORCH_HOME=str(tmp_path / "torch-home"), RESTYLE_OFFLINE="1", OMP_NUM_THREADS="1")
    return subprocess.run([sys.executable, "-m", "mlcore", *map(str, args)], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=300, env=env, check=False)


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """(path, generator): tiny32 with random weights, saved as a Restyle checkpoint."""
    return save_random_generator(tmp_path_factory.mktemp("sg2") / "tiny32.safetensors")


@pytest.fixture(scope="module")
def other_family(tmp_path_factory) -> Path:
    family = get_family("fast_style")
    config = family.config_class()
    path = tmp_path_factory.mktemp("fs") / "style.safetensors"
    save_model(path, family="fast_style", config=config, state_dict=family.build(config).state_dict())
    return path


def test_seeds_and_layers_as_people_type_them():
    assert parse_seeds("0-7") == list(range(8))
    assert parse_seeds("1,5,9") == [1, 5, 9]
    assert parse_seeds("0-3,10") == [0, 1, 2, 3, 10]
    assert parse_seeds(" 4 , 2-3") == [4, 2, 3]
    for bad in ["", "a", "3-1", "1,,2", "-1", "4294967296"]:
        with pytest.raises(argparse.ArgumentTypeError):
            parse_seeds(bad)
    assert parse_layers("coarse") == "coarse" and parse_layers("0-6") == (0, 7)
    for bad in ["hair", "3-2", "x-y"]:
        with pytest.raises(argparse.ArgumentTypeError):
            parse_layers(bad)


def test_generate_writes_one_png_per_seed_named_in_seed_order(model, tmp_path):
    path, G = model
    out = tmp_path / "grid"
    done = mlcore(tmp_path, "generate", "--model", path, "--seeds", "10,2,0-1", "--truncation", "0.5", out)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"4 images in {out}"
    names = sorted(p.name for p in out.iterdir())
    assert names == ["seed0000.png", "seed0001.png", "seed0002.png", "seed0010.png"]  # sorting follows the seeds
    expected = generate(G, [2], truncation_psi=0.5)[0]
    with Image.open(out / "seed0002.png") as image:
        np.testing.assert_array_equal(np.asarray(image), np.asarray(expected))
        assert image.text["restyle-seed"] == "2" and image.text["restyle-truncation"] == "0.5"
        assert image.text["restyle-noise"] == "const"


def test_generate_pads_to_the_widest_seed(model, tmp_path):
    path, _ = model
    done = mlcore(tmp_path, "generate", "--model", path, "--seeds", "123456,7", tmp_path / "wide")
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (tmp_path / "wide").iterdir()) == ["seed000007.png", "seed123456.png"]


def test_bad_seeds_are_bad_usage(model, tmp_path):
    path, _ = model
    done = mlcore(tmp_path, "generate", "--model", path, "--seeds", "7-3", tmp_path / "x")
    assert done.returncode == 2 and "seeds" in done.stderr
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("command", ["generate", "mix", "interpolate", "project"])
def test_a_checkpoint_of_another_family_exits_1_with_one_line(other_family, tmp_path, command):
    photo = tmp_path / "photo.png"
    Image.new("RGB", (40, 40), "red").save(photo)
    args = {
        "generate": ["--seeds", "0", tmp_path / "out"],
        "mix": ["--row-seeds", "1", "--col-seeds", "2", "--layers", "coarse", tmp_path / "mix.png"],
        "interpolate": ["--seeds", "0-1", tmp_path / "walk.webp"],
        "project": [photo, tmp_path / "out"],
    }[command]
    done = mlcore(tmp_path, command, "--model", other_family, *args)
    assert done.returncode == 1
    assert done.stderr.strip() == (f"error: {other_family}: a fast_style checkpoint, not a StyleGAN2 generator "
                                   f"(generate, mix and project need a stylegan2 model)")
    assert not (tmp_path / "out").exists() and not (tmp_path / "mix.png").exists()


def test_project_writes_the_image_the_latent_and_progress_frames(model, tmp_path):
    path, G = model
    photo = tmp_path / "photo.jpg"
    generate(G, [7])[0].resize((48, 40)).save(photo)  # not square, not the model's size
    out = tmp_path / "projection"
    done = mlcore(tmp_path, "project", "--model", path, photo, out, "--steps", "20", "--progress-every", "5",
                  "--space", "w+")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{out / 'projected.png'} [{FALLBACK_LABEL}]"
    assert sorted(p.name for p in (out / "progress").iterdir()) == [
        "step0005.png", "step0010.png", "step0015.png", "step0020.png"]
    ws, meta = load_latent(out / "latent.npz")
    assert ws.shape == (1, G.num_ws, G.w_dim)
    assert meta["model_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert meta["space"] == "w+" and meta["steps"] == 20 and meta["distance_label"] == FALLBACK_LABEL
    assert meta["photo"] == "photo.jpg" and meta["stopped"] == "done"
    with Image.open(out / "projected.png") as projected:
        # The saved latent renders the saved image: what reopening it in the site gives.
        np.testing.assert_array_equal(np.asarray(projected), np.asarray(to_pil(synthesize(G, ws))[0]))
        assert projected.text["restyle-warning"] == FALLBACK_LABEL
    with Image.open(out / "target.png") as target:
        assert target.size == (32, 32)


def test_mix_makes_the_grid_from_seeds_and_a_saved_latent(model, tmp_path):
    path, G = model
    latent = tmp_path / "saved.npz"
    save_latent(latent, ws_from_seeds(G, [42], truncation_psi=0.7), seed=42)
    out = tmp_path / "mix.png"
    done = mlcore(tmp_path, "mix", "--model", path, "--row-seeds", "1", "--latent", latent, "--col-seeds", "3,4",
                  "--layers", "middle", out)
    assert done.returncode == 0, done.stderr
    with Image.open(out) as grid:
        grid = np.asarray(grid)
    assert grid.shape == (3 * 32, 3 * 32, 3)  # the columns on top, two rows (seed 1, the latent)
    assert layer_ranges(G)["middle"] == (3, 8)
    cell = mix(ws_from_seeds(G, [42], truncation_psi=0.7), ws_from_seeds(G, [4], truncation_psi=0.7), "middle")
    np.testing.assert_array_equal(grid[64:, 64:], np.asarray(to_pil(synthesize(G, cell))[0]))


def test_interpolate_writes_an_animated_webp(model, tmp_path):
    path, _ = model
    out = tmp_path / "walk.webp"
    done = mlcore(tmp_path, "interpolate", "--model", path, "--seeds", "0-2", "--frames", "4", "--fps", "8", out)
    assert done.returncode == 0, done.stderr
    with Image.open(out) as webp:
        assert webp.is_animated and webp.n_frames == 12
