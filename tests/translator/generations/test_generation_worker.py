"""The generation task on a real (tiny32, random weights) StyleGAN2 checkpoint installed as a
model version: real PNG, thumbnail and latent files; the same seed gives the same pixels; a mix
is mlcore's mix of the same ws."""
import io

import numpy as np
import pytest
import torch
from PIL import Image

from mlcore.stylegan2 import generate as sg
from translator import services
from translator.models import Generation
from translator.tasks import run_generation
from translator.worker.loaded import forget_all

pytestmark = pytest.mark.django_db


def pixels(field):
    with field.open("rb") as fh:
        image = Image.open(io.BytesIO(fh.read()))
        assert image.format == "PNG"
        return np.asarray(image.convert("RGB"))


def test_a_seed_becomes_a_png_a_thumbnail_and_a_latent(user, stylegan2_model, run_all):
    [row] = services.create_grid(owner=user, art_model=stylegan2_model, seeds="7", truncation=0.5)
    assert row.queue == "conversions.cpu"  # one pass of the network: not the slow queue of projections
    run_all()
    row.refresh_from_db()
    assert row.status == Generation.Status.SUCCEEDED, row.error
    assert pixels(row.image).shape == (32, 32, 3) and row.side == 32
    with row.thumbnail.open("rb") as fh:
        assert Image.open(fh).format == "JPEG"
    with row.latent.open("rb") as fh, np.load(io.BytesIO(fh.read())) as data:
        assert data["w"].shape == (1, 8, 64)  # tiny32: num_ws 8, w_dim 64
        assert '"seed": 7' in str(data["meta"]) and '"truncation": 0.5' in str(data["meta"])
    assert row.started_at <= row.finished_at and row.run_seconds > 0


def test_the_same_seed_truncation_and_noise_mode_give_identical_pixels(user, stylegan2_model, run_all):
    first = services.create_grid(owner=user, art_model=stylegan2_model, seeds="3,4", truncation=0.7, noise_mode="const")
    again = services.create_grid(owner=user, art_model=stylegan2_model, seeds="3", truncation=0.7, noise_mode="const")
    other_psi = services.create_grid(owner=user, art_model=stylegan2_model, seeds="3", truncation=0.2, noise_mode="const")
    run_all()
    a, b, again, other_psi = (Generation.objects.get(pk=r.pk) for r in [*first, *again, *other_psi])
    assert np.array_equal(pixels(a.image), pixels(again.image))
    assert not np.array_equal(pixels(a.image), pixels(b.image))  # another seed, another image
    assert not np.array_equal(pixels(a.image), pixels(other_psi.image))  # truncation is applied


def test_a_stored_image_matches_mlcore_generate_from_the_same_checkpoint(user, stylegan2_model, stylegan2_checkpoint, run_all):
    [row] = services.create_grid(owner=user, art_model=stylegan2_model, seeds=[11], truncation=0.7, noise_mode="none")
    run_all()
    row.refresh_from_db()
    G = sg.load_generator(stylegan2_checkpoint)
    expected = np.asarray(sg.generate(G, [11], truncation_psi=0.7, noise_mode="none")[0])
    assert np.array_equal(pixels(row.image), expected)


def test_a_coarse_mix_of_two_seeds_equals_mlcores_mix_of_their_ws(user, stylegan2_model, stylegan2_checkpoint, run_all):
    a, b = services.create_grid(owner=user, art_model=stylegan2_model, seeds="1,2", truncation=0.6)
    run_all()
    a.refresh_from_db()
    b.refresh_from_db()
    mixed = services.create_mix(owner=user, art_model=stylegan2_model, source_a=a, source_b=b, layers="coarse")
    from_seeds = services.create_mix(owner=user, art_model=stylegan2_model, source_a=1, source_b=2, layers="coarse",
                                     truncation=0.6)
    run_all()
    mixed.refresh_from_db()
    from_seeds.refresh_from_db()
    assert mixed.status == Generation.Status.SUCCEEDED, mixed.error

    G = sg.load_generator(stylegan2_checkpoint)
    ws = sg.ws_from_seeds(G, [1, 2], truncation_psi=0.6)
    expected_ws = sg.mix(ws[:1], ws[1:], "coarse")
    expected = np.asarray(sg.to_pil(sg.synthesize(G, expected_ws, noise_mode="const"))[0])
    assert np.array_equal(pixels(mixed.image), expected)
    assert np.array_equal(pixels(from_seeds.image), expected)  # the same mix, from seeds directly
    stored_ws, _ = sg.load_latent(mixed.latent.path)
    assert torch.equal(stored_ws, expected_ws)
    start, stop = sg.layer_ranges(G)["coarse"]
    assert torch.equal(stored_ws[:, start:stop], ws[1:, start:stop]) and torch.equal(stored_ws[:, stop:], ws[:1, stop:])
    assert "coarse styles of" in mixed.mix_description


def test_a_mix_whose_source_was_deleted_before_it_ran_fails_in_words(user, stylegan2_model, run_all):
    [a] = services.create_grid(owner=user, art_model=stylegan2_model, seeds="1")
    run_all()
    a.refresh_from_db()
    mixed = services.create_mix(owner=user, art_model=stylegan2_model, source_a=a, source_b=5, layers="middle")
    services.delete_generation(generation=a)
    run_generation(str(mixed.pk))
    mixed.refresh_from_db()
    assert mixed.status == Generation.Status.FAILED
    assert "deleted before it ran" in mixed.error


def test_the_generator_is_loaded_once_per_process(user, stylegan2_model, run_all):
    forget_all()
    services.create_grid(owner=user, art_model=stylegan2_model, seeds="0-2")
    run_all()
    load_times = list(Generation.objects.order_by("created_at").values_list("load_seconds", flat=True))
    assert load_times[0] > 0 and load_times[1:] == [0.0, 0.0]


def test_running_the_task_twice_makes_one_image(user, stylegan2_model, list_stored_files, run_all):
    [row] = services.create_grid(owner=user, art_model=stylegan2_model, seeds="9")
    run_all()
    files = list_stored_files("generations")
    run_generation(str(row.pk))  # a redelivered message: the row is no longer queued
    assert list_stored_files("generations") == files and len(files) == 3
