"""Unpaired datasets: the trainA/trainB layout, independent deterministic streams per side,
probes, and what inspect_dataset says about a folder."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PIL import Image

from mlcore.data import DatasetError
from mlcore.registry import get_family
from mlcore.ugatit.data import dataset_inputs, inspect_dataset
from mlcore.ugatit.data import UnpairedDataset


def make_unpaired(root: Path, *, a: int, b: int, test: bool = False, size=(48, 40)) -> Path:
    """Folders of small pictures, each a different flat colour so they can be told apart."""
    counts = {"trainA": a, "trainB": b}
    if test:
        counts.update(testA=1, testB=2)
    for folder, count in counts.items():
        (root / folder).mkdir(parents=True)
        for i in range(count):
            colour = (10 * i + (0 if folder.endswith("A") else 128), 40, 200)
            Image.new("RGB", size, colour).save(root / folder / f"{i:02d}.png")
    return root


def test_samples_are_an_a_and_a_b_crop_of_the_training_size(horse2zebra):
    dataset = UnpairedDataset(horse2zebra, img_size=32, jitter=8, seed=0)
    assert len(dataset) == 2
    a, b = dataset[(0, 1)]
    assert a.shape == b.shape == (3, 32, 32) and a.dtype == torch.float32
    assert 0 <= a.min() and a.max() <= 1


def test_the_same_key_gives_the_same_pictures_and_another_seed_another_order(tmp_path):
    root = make_unpaired(tmp_path, a=6, b=6)
    first, again = UnpairedDataset(root, img_size=32, seed=3), UnpairedDataset(root, img_size=32, seed=3)
    for key in [(0, 0), (0, 5), (4, 2)]:
        assert all(torch.equal(x, y) for x, y in zip(first[key], again[key]))
    other = UnpairedDataset(root, img_size=32, seed=4)
    order = lambda ds: [ds.side_key("A", 0, i)[1] for i in range(6)]
    assert order(first) == order(again) != order(other)


def test_a_and_b_are_shuffled_independently_so_pairs_change_from_epoch_to_epoch(tmp_path):
    dataset = UnpairedDataset(make_unpaired(tmp_path, a=8, b=8), img_size=32, seed=0)

    def pairs(epoch):
        return [(dataset.side_key("A", epoch, i)[1], dataset.side_key("B", epoch, i)[1]) for i in range(8)]

    a_order = [a for a, _ in pairs(0)]
    b_order = [b for _, b in pairs(0)]
    assert sorted(a_order) == sorted(b_order) == list(range(8))  # each side: every image once
    assert a_order != b_order
    assert set(pairs(0)) != set(pairs(1))  # not a fixed pairing


def test_each_side_sees_every_picture_once_per_epoch_of_its_own(tmp_path):
    dataset = UnpairedDataset(make_unpaired(tmp_path, a=3, b=7), img_size=32, seed=1)
    assert len(dataset) == 7
    keys = [dataset.side_key("A", epoch, i) for epoch in range(3) for i in range(7)]  # 21 = 7 epochs of A
    for side_epoch in range(7):
        assert sorted(index for e, index in keys if e == side_epoch) == [0, 1, 2]


def test_augmentation_crops_and_flips_per_sample(tmp_path):
    root = tmp_path / "data"
    make_unpaired(root, a=1, b=1)
    gradient = Image.linear_gradient("L").resize((64, 64)).convert("RGB")
    gradient.save(root / "trainA" / "00.png")
    dataset = UnpairedDataset(root, img_size=32, jitter=16, seed=0)
    crops = {tuple(dataset[(epoch, 0)][0][0, :, 0].tolist()) for epoch in range(8)}
    assert len(crops) > 1  # different crops (and flips) in different epochs


def test_probes_come_from_test_folders_when_there_are_some(tmp_path):
    with_test = UnpairedDataset(make_unpaired(tmp_path / "t", a=3, b=3, test=True), img_size=32)
    files = with_test.probe_files(4)
    assert [p.parent.name for p in files["A"] + files["B"]] == ["testA", "testB"]  # as many A as B
    a, b = with_test.probe_batch(4)
    assert a.shape == b.shape == (1, 3, 32, 32)

    without = UnpairedDataset(make_unpaired(tmp_path / "n", a=3, b=5), img_size=32)
    files = without.probe_files(4)
    assert [p.name for p in files["A"]] == ["00.png", "01.png", "02.png"]
    assert [p.parent.name for p in files["B"]] == ["trainB"] * 3


def test_layout_errors_name_the_problem(tmp_path):
    with pytest.raises(DatasetError, match="no trainA/ folder"):
        UnpairedDataset(tmp_path, img_size=32)
    (tmp_path / "trainA").mkdir()
    Image.new("RGB", (8, 8)).save(tmp_path / "trainA" / "a.png")
    with pytest.raises(DatasetError, match="no trainB/ folder"):
        UnpairedDataset(tmp_path, img_size=32)
    (tmp_path / "trainB").mkdir()
    (tmp_path / "trainB" / "notes.txt").write_text("no pictures here")
    with pytest.raises(DatasetError, match="trainB: no images of domain B"):
        UnpairedDataset(tmp_path, img_size=32)
    (tmp_path / "trainB" / "broken.jpg").write_bytes(b"not a jpeg")
    dataset = UnpairedDataset(tmp_path, img_size=32)
    with pytest.raises(DatasetError, match=r"broken\.jpg: cannot read image"):
        dataset[(0, 0)]
    with pytest.raises(DatasetError, match="not a folder"):
        UnpairedDataset(tmp_path / "missing", img_size=32)


def test_inspect_dataset_reports_counts_and_samples_of_a_good_dataset(horse2zebra):
    report = inspect_dataset(horse2zebra)
    assert report.ok, report.problems
    assert report.counts == {"trainA": 2, "trainB": 2, "testA": 1, "testB": 1}
    assert [p.parent.name for p in report.samples] == ["trainA", "trainA", "trainB", "trainB"]
    assert "trainA/ and trainB/" in report.layout


def test_inspect_dataset_lists_every_problem_without_raising(tmp_path):
    (tmp_path / "trainB").mkdir()
    (tmp_path / "testA").mkdir()
    (tmp_path / "testA" / "broken.png").write_bytes(b"\x89PNG but not really")
    report = inspect_dataset(tmp_path)
    assert not report.ok
    assert report.counts == {"trainA": 0, "trainB": 0, "testA": 1, "testB": 0}
    assert report.problems[0] == "there is no trainA/ folder (the images of domain A)"
    assert report.problems[1].startswith("trainB/ holds no images")
    assert report.problems[2].startswith("1 file(s) cannot be read as images: testA/broken.png (")
    assert inspect_dataset(tmp_path / "nothing").problems == (f"{tmp_path / 'nothing'} is not a folder",)


def test_the_family_offers_the_dataset_hooks(tmp_path):
    training = get_family("ugatit").training
    assert training.dataset_inputs(tmp_path) == dataset_inputs(tmp_path) == {"data": str(tmp_path)}
    assert training.inspect_dataset(tmp_path / "nothing") == inspect_dataset(tmp_path / "nothing")
    assert [(i.name, i.kind, i.required) for i in training.inputs] == [("data", "folder", True)]
    assert "trainA/" in training.dataset_layout


def test_the_selfie2anime_sample_loads(data_dir):
    root = data_dir / "unpaired" / "ugatit-selfie2anime"
    if not root.is_dir():
        pytest.skip(f"shared data not found: {root}")
    assert inspect_dataset(root).counts == {"trainA": 1, "trainB": 1, "testA": 1, "testB": 1}
    a, b = UnpairedDataset(root, img_size=64).probe_batch(2)
    assert a.shape == b.shape == (1, 3, 64, 64)
