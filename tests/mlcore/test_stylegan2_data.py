"""The StyleGAN2 image folder: what inspect_dataset tells a person about a folder, and the
dataset's tensors (range, size, crop policy, flips, determinism per key)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from mlcore.data import DatasetError, DatasetReport, make_loader
from mlcore.stylegan2.data import (
    ADA_BELOW,
    MIN_IMAGES,
    ImageFolderDataset,
    dataset_inputs,
    inspect_dataset,
    make_square,
)


def picture(width: int, height: int, seed: int) -> Image.Image:
    """A distinct picture: a colour gradient with a bright block in its top-left quarter."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:height, 0:width]
    base = rng.integers(0, 256, 3)
    array = np.stack([(base[c] + xs * (c + 1) + ys * (3 - c)) % 256 for c in range(3)], axis=-1)
    array[: max(1, height // 4), : max(1, width // 4)] = 255
    return Image.fromarray(array.astype(np.uint8))


def folder_of(tmp_path: Path, count: int, size: tuple[int, int] = (40, 40)) -> Path:
    root = tmp_path / "art"
    (root / "sub").mkdir(parents=True)
    for i in range(count):
        where = root / "sub" if i % 3 == 0 else root
        picture(*size, seed=i).save(where / f"img{i:03d}.{('png', 'jpg', 'webp')[i % 3]}")
    return root


# -- inspect_dataset -------------------------------------------------------------------------


def test_a_good_folder_is_counted_with_subfolders_and_has_no_problem(tmp_path):
    root = folder_of(tmp_path, 12)
    report = inspect_dataset(root)
    assert isinstance(report, DatasetReport) and report.ok
    assert report.counts == {"images": 12, "unreadable": 0, "non_square": 0, "duplicates": 0}
    assert len(report.samples) == 4 and all(Path(p).is_file() for p in report.samples)
    assert any("sizes from 40 to 40 px" in note for note in report.notes)


def test_a_small_folder_is_told_that_ada_will_be_on(tmp_path):
    report = inspect_dataset(folder_of(tmp_path, 12))
    assert ADA_BELOW > 12
    assert any("adaptive discriminator augmentation will be on" in note for note in report.notes)


def test_too_few_images_is_a_problem_saying_how_many_are_needed(tmp_path):
    report = inspect_dataset(folder_of(tmp_path, MIN_IMAGES - 1))
    assert not report.ok
    assert report.problems == ((f"only {MIN_IMAGES - 1} readable image(s); StyleGAN2 needs at least {MIN_IMAGES} "
                                "to train at all, and a few thousand to train well"),)


def test_unreadable_files_are_named_with_the_reason(tmp_path):
    root = folder_of(tmp_path, 10)
    (root / "broken.png").write_bytes(b"not a png at all")
    good = (root / "img001.jpg").read_bytes()
    (root / "sub" / "cut.jpg").write_bytes(good[: len(good) // 2])  # a truncated download
    report = inspect_dataset(root)
    assert not report.ok
    assert report.counts["images"] == 10 and report.counts["unreadable"] == 2
    (problem,) = report.problems
    assert problem.startswith("2 file(s) cannot be read as images: broken.png (")
    assert "sub/cut.jpg (" in problem and problem.endswith("Remove or re-save them.")


def test_duplicates_are_found_by_content_whatever_their_names(tmp_path):
    root = folder_of(tmp_path, 10)
    (root / "sub" / "copy_of_2.jpg").write_bytes((root / "img002.webp").read_bytes())
    (root / "again.jpg").write_bytes((root / "img002.webp").read_bytes())
    picture(40, 40, seed=4).save(root / "same_pixels_other_file.png", compress_level=1)  # not the same bytes
    report = inspect_dataset(root)
    assert report.ok and report.counts["duplicates"] == 2
    (note,) = [n for n in report.notes if "copies" in n]
    assert note == ("2 file(s) are byte-for-byte copies of others, so those images count double in training: "
                    "again.jpg = img002.webp = sub/copy_of_2.jpg")


def test_non_square_images_are_counted_and_the_crop_policy_is_explained(tmp_path):
    root = folder_of(tmp_path, 9)
    picture(80, 40, seed=100).save(root / "wide.png")
    picture(30, 60, seed=101).save(root / "tall.png")
    report = inspect_dataset(root, resolution=64)
    assert report.ok and report.counts["non_square"] == 2
    (oblong,) = [n for n in report.notes if "not square" in n]
    assert oblong.startswith("2 of 11 images are not square (width/height 0.50 to 2.00, e.g. tall.png at 30x60)")
    assert "centre-cropped to a square" in oblong and "crop 'pad'" in oblong
    (small,) = [n for n in report.notes if "upscaled" in n]
    assert small.startswith("11 image(s) are smaller than 64 px once square")

    padded = inspect_dataset(root, resolution=64, crop="pad")
    assert any("padded with black to a square" in n for n in padded.notes)
    (small,) = [n for n in padded.notes if "upscaled" in n]
    assert small.startswith("10 image(s)")  # the wide one is 80 px once padded


def test_a_missing_or_empty_folder_is_a_problem_not_an_exception(tmp_path):
    missing = inspect_dataset(tmp_path / "nowhere")
    assert not missing.ok and "not a folder" in missing.problems[0]
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("no pictures here")
    empty = inspect_dataset(tmp_path / "empty")
    assert not empty.ok and "no images found" in empty.problems[0]
    assert empty.counts["images"] == 0


def test_dataset_inputs_name_the_folder(tmp_path):
    assert dataset_inputs(tmp_path) == {"data": str(tmp_path)}


# -- the dataset -------------------------------------------------------------------------------


def test_samples_are_square_rgb_tensors_in_minus_one_to_one(tmp_path):
    root = folder_of(tmp_path, 8, size=(48, 36))
    dataset = ImageFolderDataset(root, resolution=32)
    assert len(dataset) == 8
    sample = dataset[(0, 3)]
    assert sample.shape == (3, 32, 32) and sample.dtype == torch.float32
    assert sample.min() >= -1 and sample.max() <= 1
    assert sample.max() == 1.0  # the white block survives resizing: the range is used to its ends
    assert dataset[3].shape == (3, 32, 32)  # a bare index is epoch 0


def test_centre_crop_keeps_the_middle_and_pad_keeps_everything_on_black(tmp_path):
    wide = picture(60, 20, seed=1)
    assert np.array_equal(np.array(make_square(wide, "center")), np.array(wide)[:, 20:40])
    padded = np.array(make_square(wide, "pad"))
    assert padded.shape == (60, 60, 3)
    assert np.array_equal(padded[20:40], np.array(wide)) and padded[:20].max() == 0 and padded[40:].max() == 0
    with pytest.raises(ValueError, match="crop must be one of center, pad"):
        make_square(wide, "stretch")


def test_at_its_own_size_a_square_image_comes_back_exactly(tmp_path):
    root = folder_of(tmp_path, 8, size=(32, 32))
    dataset = ImageFolderDataset(root, resolution=32)
    expected = np.array(Image.open(dataset.files[0]).convert("RGB"), dtype=np.float32) / 127.5 - 1
    assert torch.equal(dataset[(0, 0)], torch.from_numpy(expected).permute(2, 0, 1))


def test_xflip_is_a_deterministic_coin_per_key(tmp_path):
    root = folder_of(tmp_path, 8)
    dataset = ImageFolderDataset(root, resolution=32, xflip=True, seed=3)
    plain = ImageFolderDataset(root, resolution=32)
    flips = []
    for epoch in range(6):
        sample = dataset[(epoch, 2)]
        assert torch.equal(sample, dataset[(epoch, 2)])  # the same key, the same tensor
        if torch.equal(sample, plain[(epoch, 2)].flip(2)):
            flips.append(True)
        else:
            assert torch.equal(sample, plain[(epoch, 2)])
            flips.append(False)
    assert 0 < sum(flips) < 6
    again = ImageFolderDataset(root, resolution=32, xflip=True, seed=3, cache=False)
    assert all(torch.equal(again[(e, 2)], dataset[(e, 2)]) for e in range(6))  # cached or not


def test_small_datasets_are_cached_decoded_and_large_ones_not(tmp_path):
    root = folder_of(tmp_path, 8)
    cached = ImageFolderDataset(root, resolution=32)
    cached[(0, 1)]
    (root / "img001.jpg").unlink()  # a cached image no longer needs its file
    assert cached[(5, 1)].shape == (3, 32, 32)
    uncached = ImageFolderDataset(root, resolution=32, cache=False)
    index = next(i for i, path in enumerate(uncached.files) if path.name == "img002.webp")
    uncached[(0, index)]
    (root / "img002.webp").unlink()
    with pytest.raises(DatasetError, match="img002.webp: cannot read image"):
        uncached[(0, index)]


def test_the_mlcore_loader_gives_the_same_batches_with_or_without_workers(tmp_path):
    dataset = ImageFolderDataset(folder_of(tmp_path, 9), resolution=16, xflip=True, seed=1)
    batches = {}
    for workers in (0, 2):
        loader = iter(make_loader(dataset, batch_size=4, seed=1, start=5, num_workers=workers))
        batches[workers] = [next(loader) for _ in range(3)]
    assert all(torch.equal(a, b) for a, b in zip(batches[0], batches[2]))
    assert batches[0][0].shape == (4, 3, 16, 16)


def test_probe_batch_is_the_first_images_unflipped(tmp_path):
    dataset = ImageFolderDataset(folder_of(tmp_path, 8), resolution=16, xflip=True)
    probe = dataset.probe_batch(3)
    assert probe.shape == (3, 3, 16, 16)
    assert torch.equal(probe[1], ImageFolderDataset(dataset.root, resolution=16)[(0, 1)])


def test_bad_settings_are_refused(tmp_path):
    root = folder_of(tmp_path, 8)
    with pytest.raises(ValueError, match="crop must be one of"):
        ImageFolderDataset(root, resolution=32, crop="stretch")
    with pytest.raises(ValueError, match="resolution must be positive"):
        ImageFolderDataset(root, resolution=0)
    with pytest.raises(DatasetError, match="not a folder"):
        ImageFolderDataset(tmp_path / "nowhere", resolution=32)
