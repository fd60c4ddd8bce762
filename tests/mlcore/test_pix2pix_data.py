"""Paired data for Pix2Pix: both layouts, one crop and flip for A and B, determinism, every
error named, inspect_dataset, and paired sets made from photos."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from mlcore.data import DatasetError, ImageTransform
from mlcore.pix2pix import FAMILY
from mlcore.pix2pix.data import LAYOUT as DATASET_LAYOUT
from mlcore.pix2pix.data import FOLDERS, SIDE_BY_SIDE, PairedDataset, inspect_dataset
from mlcore.tools.make_pairs import make_pairs

JITTER = ImageTransform(resize=40, crop=32, random_crop=True, hflip=True)


def noise(width: int, height: int, seed: int) -> Image.Image:
    return Image.frombytes("RGB", (width, height), random.Random(seed).randbytes(width * height * 3))


def side_by_side(a: Image.Image, b: Image.Image) -> Image.Image:
    pair = Image.new("RGB", (a.width + b.width, a.height))
    pair.paste(a, (0, 0))
    pair.paste(b, (a.width, 0))
    return pair


@pytest.fixture
def twins(tmp_path: Path) -> dict[str, Path]:
    """Pairs whose A and B are the same noise picture, in both layouts (PNG: lossless)."""
    joined, split = tmp_path / "joined", tmp_path / "split"
    for folder in (joined, split / "A" / "sub", split / "B" / "sub"):
        folder.mkdir(parents=True)
    for i in range(3):
        picture = noise(48, 44, seed=i)
        side_by_side(picture, picture).save(joined / f"{i}.png")
        sub = "sub/" if i == 2 else ""
        picture.save(split / "A" / f"{sub}{i}.png")
        picture.save(split / "B" / f"{sub}{i}.png")
    return {"joined": joined, "split": split}


# --- loading ---------------------------------------------------------------------------------


def test_the_published_fixtures_load_as_256px_a_and_b_halves(pair_fixtures):
    dataset = PairedDataset(pair_fixtures, ImageTransform(resize=286, crop=256, hflip=True), seed=0)
    assert dataset.layout == SIDE_BY_SIDE and len(dataset) == 4
    assert [p.a.relative_to(pair_fixtures).as_posix() for p in dataset.pairs] == [
        "test/3.jpg", "test/33_AB.jpg", "train/1.jpg", "train/2.jpg"]
    a, b = dataset[(0, 3)]
    assert a.shape == b.shape == (3, 256, 256) and a.dtype == torch.float32
    assert 0 <= a.min() and b.max() <= 1 and not torch.equal(a, b)


@pytest.mark.parametrize("layout", ["joined", "split"])
def test_a_and_b_get_the_same_crop_and_flip_in_both_layouts(twins, layout):
    dataset = PairedDataset(twins[layout], JITTER, seed=0)
    assert dataset.layout == (SIDE_BY_SIDE if layout == "joined" else FOLDERS) and len(dataset) == 3
    crops = []
    for epoch in range(6):
        for index in range(3):
            a, b = dataset[(epoch, index)]
            assert torch.equal(a, b), (epoch, index)  # A and B are one picture: any offset would show
            crops.append(a)
    assert len({c.sum().item() for c in crops[::3]}) > 1  # the crops do move from epoch to epoch


def test_samples_are_a_pure_function_of_seed_epoch_and_index(twins):
    one, again = PairedDataset(twins["joined"], JITTER, seed=4), PairedDataset(twins["joined"], JITTER, seed=4)
    other = PairedDataset(twins["joined"], JITTER, seed=5)
    assert all(torch.equal(one[(1, i)][0], again[(1, i)][0]) for i in range(3))
    assert any(not torch.equal(one[(1, i)][0], other[(1, i)][0]) for i in range(3))


def test_the_direction_says_which_half_is_the_input(tmp_path):
    side_by_side(Image.new("RGB", (8, 8), (255, 0, 0)), Image.new("RGB", (8, 8), (0, 0, 255))).save(tmp_path / "p.png")
    a_to_b = PairedDataset(tmp_path, ImageTransform(), direction="AtoB")[0]
    b_to_a = PairedDataset(tmp_path, ImageTransform(), direction="BtoA")[0]
    assert a_to_b[0][0].mean() == 1.0 and a_to_b[1][2].mean() == 1.0  # red A in, blue B out
    assert torch.equal(b_to_a[0], a_to_b[1]) and torch.equal(b_to_a[1], a_to_b[0])


def test_the_probe_batch_is_centre_cropped_and_unflipped(twins):
    inputs, targets = PairedDataset(twins["split"], JITTER).probe_batch(2)
    picture = torch.from_numpy(np.array(noise(48, 44, seed=0).resize((44, 40), Image.Resampling.BILINEAR)))
    centre = picture[4:36, 6:38].permute(2, 0, 1).float() / 255  # 44x40 -> the middle 32x32
    assert inputs.shape == targets.shape == (2, 3, 32, 32)
    assert torch.equal(inputs[0], centre)


# --- errors ----------------------------------------------------------------------------------


def test_an_odd_width_side_by_side_image_is_named(tmp_path):
    noise(33, 16, seed=0).save(tmp_path / "odd.png")
    dataset = PairedDataset(tmp_path, JITTER)
    with pytest.raises(DatasetError, match=r"odd.png: an A\|B image needs an even width .* 33x16"):
        dataset[0]


def test_a_and_b_images_of_different_sizes_are_named(twins):
    noise(40, 40, seed=9).save(twins["split"] / "B" / "1.png")
    dataset = PairedDataset(twins["split"], JITTER)
    with pytest.raises(DatasetError, match=r"A/1.png is 48x44 but its partner .*B/1.png is 40x40"):
        dataset[1]


def test_files_without_partners_are_named_on_either_side(twins):
    (twins["split"] / "B" / "0.png").unlink()
    with pytest.raises(DatasetError, match=r"A/0.png: no partner with the same name in .*/B"):
        PairedDataset(twins["split"], JITTER)
    shutil.copy(twins["split"] / "A" / "0.png", twins["split"] / "B" / "0.png")
    noise(48, 44, seed=7).save(twins["split"] / "B" / "extra.jpg")
    with pytest.raises(DatasetError, match=r"B/extra.jpg: no partner with the same name in .*/A"):
        PairedDataset(twins["split"], JITTER)


def test_two_files_of_one_name_on_one_side_are_named(twins):
    noise(48, 44, seed=5).save(twins["split"] / "A" / "1.jpg")  # next to A/1.png
    with pytest.raises(DatasetError, match=r"A/1.jpg and .*A/1.png: two A images named '1'"):
        PairedDataset(twins["split"], JITTER)


def test_empty_and_missing_folders_are_named(tmp_path):
    with pytest.raises(DatasetError, match="no images found"):
        PairedDataset(tmp_path, JITTER)
    (tmp_path / "A").mkdir()
    with pytest.raises(DatasetError, match="has an A/ folder but no B/ folder"):
        PairedDataset(tmp_path, JITTER)
    (tmp_path / "B").mkdir()
    with pytest.raises(DatasetError, match="A: no images found"):
        PairedDataset(tmp_path, JITTER)
    with pytest.raises(DatasetError, match="not a folder"):
        PairedDataset(tmp_path / "nowhere", JITTER)


def test_an_unreadable_image_is_named(twins):
    (twins["joined"] / "1.png").write_bytes(b"not a png")
    dataset = PairedDataset(twins["joined"], JITTER)
    with pytest.raises(DatasetError, match="1.png: cannot read image"):
        dataset[1]


# --- inspect_dataset -------------------------------------------------------------------------


def test_inspect_dataset_counts_the_published_fixtures_and_finds_nothing_wrong(pair_fixtures):
    report = inspect_dataset(pair_fixtures)
    assert report.ok and report.layout == SIDE_BY_SIDE and report.counts == {"pairs": 4}
    assert [p.name for p in report.samples] == ["3.jpg", "33_AB.jpg", "1.jpg", "2.jpg"]


def test_inspect_dataset_lists_every_problem_without_raising(twins):
    split = twins["split"]
    noise(40, 40, seed=9).save(split / "B" / "1.png")  # a different size
    (split / "A" / "sub" / "2.png").write_bytes(b"broken")  # unreadable
    noise(8, 8, seed=1).save(split / "A" / "lonely.png")  # no partner
    report = inspect_dataset(split)
    assert report.layout == FOLDERS and report.counts == {"pairs": 3} and not report.ok
    assert len(report.problems) == 3
    assert "lonely.png: no partner" in report.problems[0]
    assert "A/0.png" not in " ".join(report.problems)
    assert "but its partner" in report.problems[1] and "B/1.png is 40x40" in report.problems[1]
    assert "sub/2.png: cannot read image" in report.problems[2]
    assert [p.name for p in report.samples] == ["0.png", "0.png", "1.png", "1.png", "2.png", "2.png"]


def test_inspect_dataset_says_what_it_expected_in_an_empty_or_missing_folder(tmp_path):
    empty = inspect_dataset(tmp_path)
    assert empty.counts == {"pairs": 0} and "no images found" in empty.problems[0]
    assert DATASET_LAYOUT in empty.problems[0]
    assert inspect_dataset(tmp_path / "nowhere").problems == (f"{tmp_path / 'nowhere'}: not a folder",)


def test_the_family_offers_the_dataset_hooks(pair_fixtures):
    training = FAMILY.training
    assert training.inspect_dataset(pair_fixtures).counts == {"pairs": 4}
    assert training.dataset_inputs(pair_fixtures) == {"data": str(pair_fixtures)}
    assert training.dataset_layout == DATASET_LAYOUT


# --- make_pairs ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["edges2photo", "gray2color"])
def test_make_pairs_writes_a_side_by_side_set_that_trains(photos, tmp_path, kind):
    written = make_pairs(photos, tmp_path / "set", kind=kind, count=5, size=48, seed=3)
    assert [p.name for p in written] == [f"0000{i}.jpg" for i in range(5)]
    report = inspect_dataset(tmp_path / "set")
    assert report.ok and report.layout == SIDE_BY_SIDE and report.counts == {"pairs": 5}
    for path in written:
        with Image.open(path) as pair:
            assert pair.size == (96, 48)
            a = np.asarray(pair.crop((0, 0, 48, 48)).convert("RGB"), dtype=np.int16)
            b = np.asarray(pair.crop((48, 0, 96, 48)).convert("RGB"), dtype=np.int16)
        if kind == "gray2color":
            assert np.abs(a - a.mean(axis=2, keepdims=True)).max() <= 3  # grey (JPEG rounding aside)
            luma = b @ np.array([0.299, 0.587, 0.114])
            assert np.abs(a[..., 0] - luma).mean() < 4
        else:
            dark = (a.mean(axis=2) < 128).mean()
            assert 0.03 < dark < 0.25  # black lines on white


def test_make_pairs_is_deterministic_per_seed(photos, tmp_path):
    first = make_pairs(photos, tmp_path / "a", count=3, size=32, seed=1)
    again = make_pairs(photos, tmp_path / "b", count=3, size=32, seed=1)
    other = make_pairs(photos, tmp_path / "c", count=3, size=32, seed=2)
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in again]
    assert [p.read_bytes() for p in first] != [p.read_bytes() for p in other]


def test_make_pairs_refuses_a_folder_that_holds_images_and_unknown_kinds(photos, tmp_path):
    make_pairs(photos, tmp_path / "set", count=1, size=16)
    with pytest.raises(ValueError, match="already holds images"):
        make_pairs(photos, tmp_path / "set", count=1, size=16)
    with pytest.raises(ValueError, match="kind must be one of edges2photo, gray2color"):
        make_pairs(photos, tmp_path / "other", kind="sketch")
