"""Training data: deterministic per seed, resumable at any sample, the same with workers."""

from __future__ import annotations

import pytest
import torch
from PIL import Image

from mlcore.data import (
    DatasetError,
    ImageFolderDataset,
    ImageTransform,
    SampleStream,
    find_images,
    make_loader,
)

TRANSFORM = ImageTransform(resize=40, crop=32, random_crop=True, hflip=True)


def batches(loader, count):
    iterator = iter(loader)
    return [next(iterator) for _ in range(count)]


def test_finds_every_image_format_recursively_in_a_fixed_order(content_folder):
    files = find_images(content_folder)
    assert len(files) == 7
    assert {p.suffix for p in files} == {".jpg", ".png", ".webp"}
    assert any(p.parent.name == "more" for p in files)
    assert files == find_images(content_folder)


def test_samples_are_augmented_tensors_in_the_image_convention(content_folder):
    dataset = ImageFolderDataset(content_folder, TRANSFORM, seed=0)
    x = dataset[(0, 3)]
    assert x.shape == (3, 32, 32) and x.dtype == torch.float32
    assert 0 <= x.min() and x.max() <= 1
    assert torch.equal(x, dataset[(0, 3)])  # a pure function of (seed, epoch, index)


def test_augmentation_changes_with_the_seed_and_the_epoch(content_folder):
    a = ImageFolderDataset(content_folder, TRANSFORM, seed=0)
    b = ImageFolderDataset(content_folder, TRANSFORM, seed=1)
    differs_by_seed = [not torch.equal(a[(0, i)], b[(0, i)]) for i in range(len(a))]
    differs_by_epoch = [not torch.equal(a[(0, i)], a[(1, i)]) for i in range(len(a))]
    assert any(differs_by_seed) and any(differs_by_epoch)


def test_each_epoch_visits_every_image_once_in_an_order_set_by_the_seed():
    stream = SampleStream(10, 4, seed=0)
    first_three_epochs = stream.keys(0, 30)
    for epoch in range(3):
        keys = first_three_epochs[epoch * 10:(epoch + 1) * 10]
        assert {e for e, _ in keys} == {epoch}
        assert sorted(i for _, i in keys) == list(range(10))
    orders = [[i for _, i in first_three_epochs[e * 10:(e + 1) * 10]] for e in range(3)]
    assert orders[0] != orders[1]
    assert SampleStream(10, 4, seed=1).keys(0, 10) != stream.keys(0, 10)


def test_a_stream_started_at_sample_k_continues_where_another_left_off():
    whole = SampleStream(7, 3, seed=5)
    resumed = SampleStream(7, 3, seed=5, start=9)  # step 3 of batch size 3
    straight = iter(whole)
    for _ in range(3):
        next(straight)
    later = iter(resumed)
    assert [next(straight) for _ in range(5)] == [next(later) for _ in range(5)]


def test_loader_resumes_at_a_sample_position(content_folder):
    dataset = ImageFolderDataset(content_folder, TRANSFORM, seed=3)
    straight = batches(make_loader(dataset, batch_size=3, seed=3, num_workers=0), 5)
    resumed = batches(make_loader(dataset, batch_size=3, seed=3, start=2 * 3, num_workers=0), 3)
    assert all(torch.equal(x, y) for x, y in zip(straight[2:], resumed))


def test_two_worker_processes_give_the_same_batches_as_none(content_folder):
    dataset = ImageFolderDataset(content_folder, TRANSFORM, seed=7)
    in_process = batches(make_loader(dataset, batch_size=2, seed=7, num_workers=0), 6)
    with_workers = batches(make_loader(dataset, batch_size=2, seed=7, num_workers=2), 6)
    assert all(torch.equal(x, y) for x, y in zip(in_process, with_workers))


def test_making_a_loader_leaves_the_global_rng_alone(content_folder):
    dataset = ImageFolderDataset(content_folder, TRANSFORM, seed=0)
    before = torch.get_rng_state()
    batches(make_loader(dataset, batch_size=2, seed=0, num_workers=0), 1)
    assert torch.equal(torch.get_rng_state(), before)


def test_probe_batch_is_fixed_and_unaugmented(content_folder):
    dataset = ImageFolderDataset(content_folder, TRANSFORM, seed=0)
    probe = dataset.probe_batch(4)
    assert probe.shape == (4, 3, 32, 32)
    assert torch.equal(probe, ImageFolderDataset(content_folder, TRANSFORM, seed=9).probe_batch(4))


def test_small_images_are_enlarged_rather_than_cropped_past_their_edge(tmp_path):
    Image.new("RGB", (20, 10), (255, 0, 0)).save(tmp_path / "small.png")
    x = ImageFolderDataset(tmp_path, ImageTransform(crop=32), seed=0)[(0, 0)]
    assert x.shape == (3, 32, 32) and torch.allclose(x[0], torch.ones(32, 32))


def test_an_empty_folder_is_a_clear_error(tmp_path):
    (tmp_path / "notes.txt").write_text("not an image")
    with pytest.raises(DatasetError, match="no images found"):
        ImageFolderDataset(tmp_path, TRANSFORM)
    with pytest.raises(DatasetError, match="not a folder"):
        ImageFolderDataset(tmp_path / "missing", TRANSFORM)


def test_a_broken_image_is_named(tmp_path):
    Image.new("RGB", (40, 40)).save(tmp_path / "good.png")
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg")
    dataset = ImageFolderDataset(tmp_path, TRANSFORM)
    broken = [i for i, p in enumerate(dataset.files) if p.name == "broken.jpg"][0]
    with pytest.raises(DatasetError, match=r"broken\.jpg: cannot read image"):
        dataset[(0, broken)]
