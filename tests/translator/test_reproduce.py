"""Reproduce and "Try another style", through the services and the real task function: what a
conversion records, that "Run again" makes identical pixels on a CPU (a fast-style network, and
Gatys from a seeded noise start), and that it is refused in words when the version's file changed."""
import io

import numpy as np
import pytest
from PIL import Image

from translator import services
from translator.models import ArtModel, Conversion, Family, ModelVersion, Photo
from translator.tasks import run_conversion

pytestmark = pytest.mark.django_db


def result_pixels(conversion):
    conversion.refresh_from_db()
    assert conversion.status == Conversion.Status.SUCCEEDED, conversion.error
    with conversion.result.open("rb") as fh:
        return np.asarray(Image.open(io.BytesIO(fh.read())).convert("RGB"))


@pytest.fixture
def noisy_conversion(user, art_model, upload_file):
    """A fast-style job on a photo of noise, so that a changed weight or pixel would show."""
    return services.create_conversion(owner=user, upload=upload_file(size=(80, 60), noise=True), art_model=art_model)


@pytest.fixture
def second_model(db, tiny_checkpoint):
    model = ArtModel.objects.create(slug="tiny-two", name="Tiny Two", family=Family.FAST_STYLE)
    services.add_model_version(art_model=model, checkpoint_path=tiny_checkpoint, source="tests")
    model.refresh_from_db()
    return model


def test_a_finished_conversion_records_the_checkpoint_hash_and_what_it_ran_with(noisy_conversion, settings):
    run_conversion(str(noisy_conversion.id))
    noisy_conversion.refresh_from_db()
    version = noisy_conversion.model_version
    assert len(version.checkpoint_sha256) == 64
    assert noisy_conversion.checkpoint_sha256 == version.checkpoint_sha256
    assert noisy_conversion.seed is None  # a feed-forward network draws no random numbers
    assert noisy_conversion.run_settings == {
        "family": "fast_style", "output_long_side": 1024, "device": "cpu", "dtype": "fp32", "device_class": "cpu",
        # A picture this small runs on eager torch (mlcore.runtime.MIN_AUTO_PIXELS), and the
        # record says so: ONNX Runtime's pixels agree within 1/255, not bit for bit.
        "memory_mb": settings.RESTYLE_CONVERSION_MEMORY_MB, "family_settings": {"backend": "torch"},
    }


def test_run_again_converts_the_same_stored_photo_to_identical_pixels(noisy_conversion, list_stored_files):
    run_conversion(str(noisy_conversion.id))
    noisy_conversion.refresh_from_db()
    photos_before = list_stored_files("photos")

    again = services.run_again(owner=noisy_conversion.owner, conversion=noisy_conversion)
    assert again.photo_id == noisy_conversion.photo_id and again.reproduces == noisy_conversion
    assert again.model_version_id == noisy_conversion.model_version_id
    assert list_stored_files("photos") == photos_before  # nothing uploaded or copied
    run_conversion(str(again.id))

    first, second = result_pixels(noisy_conversion), result_pixels(again)
    assert first.shape == (60, 80, 3)
    assert np.array_equal(first, second)
    assert again.checkpoint_sha256 == noisy_conversion.checkpoint_sha256
    assert again.label == ""


def test_run_again_is_refused_by_the_worker_when_the_versions_file_changed_on_disk(noisy_conversion, list_stored_files):
    run_conversion(str(noisy_conversion.id))
    noisy_conversion.refresh_from_db()
    again = services.run_again(owner=noisy_conversion.owner, conversion=noisy_conversion)
    # The same name, other bytes: what an admin overwriting the file by hand would do.
    path = noisy_conversion.model_version.checkpoint.path
    with open(path, "ab") as fh:
        fh.write(b"\0")
    from translator.worker.loaded import forget_all

    forget_all()
    run_conversion(str(again.id))
    again.refresh_from_db()
    assert again.status == Conversion.Status.FAILED
    assert "has changed since the conversion you ran again" in again.error
    assert not again.result


def test_run_again_is_refused_in_words_when_the_recorded_hash_is_not_the_versions(noisy_conversion):
    run_conversion(str(noisy_conversion.id))
    noisy_conversion.refresh_from_db()
    ModelVersion.objects.filter(pk=noisy_conversion.model_version_id).update(checkpoint_sha256="0" * 64)
    noisy_conversion.refresh_from_db()
    noisy_conversion.model_version.refresh_from_db()
    with pytest.raises(services.ServiceError, match="has changed since this conversion ran"):
        services.run_again(owner=noisy_conversion.owner, conversion=noisy_conversion)
    assert Conversion.objects.count() == 1


def test_run_again_is_refused_when_the_versions_file_is_gone(noisy_conversion):
    run_conversion(str(noisy_conversion.id))
    noisy_conversion.refresh_from_db()
    version = noisy_conversion.model_version
    version.checkpoint.storage.delete(version.checkpoint.name)
    with pytest.raises(services.ServiceError, match="is gone"):
        services.run_again(owner=noisy_conversion.owner, conversion=noisy_conversion)
    assert Conversion.objects.count() == 1


def test_only_a_finished_recorded_conversion_can_be_run_again(noisy_conversion):
    with pytest.raises(services.ServiceError, match="Only a finished conversion can be run again; this one is queued"):
        services.run_again(owner=noisy_conversion.owner, conversion=noisy_conversion)
    Conversion.objects.filter(pk=noisy_conversion.pk).update(status=Conversion.Status.SUCCEEDED)  # as stored before
    noisy_conversion.refresh_from_db()
    with pytest.raises(services.ServiceError, match="before Restyle recorded"):
        services.run_again(owner=noisy_conversion.owner, conversion=noisy_conversion)
    assert Conversion.objects.count() == 1


def test_another_users_conversion_cannot_be_reused(noisy_conversion, other_user, second_model):
    with pytest.raises(services.ServiceError):
        services.restyle_conversion(owner=other_user, conversion=noisy_conversion, art_model=second_model)
    assert Conversion.objects.count() == 1


@pytest.fixture
def noise_gatys_model(db):
    """Gatys starting from white noise: the one place its seed matters."""
    model = ArtModel.objects.create(slug="own-noise", name="Your own style (noise)", family=Family.GATYS)
    model.current_version = ModelVersion.objects.create(
        art_model=model, number=1, config={"steps": 3, "size": 32, "optimizer": "adam", "init": "noise", "lr": 0.05}
    )
    model.save()
    return model


def test_a_gatys_run_again_from_its_seeded_noise_gives_identical_pixels(settings, user, noise_gatys_model, upload_file):
    settings.RESTYLE_LOSS_NETWORK = "random"
    first = services.create_conversion(
        owner=user, upload=upload_file(size=(40, 30), noise=True), art_model=noise_gatys_model,
        style_upload=upload_file("style.png", "PNG", noise=True, size=(32, 32)),
    )
    assert first.seed is not None
    run_conversion(str(first.id))
    first.refresh_from_db()
    assert first.run_settings["family_settings"]["seed"] == first.seed
    assert first.run_settings["family_settings"]["init"] == "noise"
    assert first.run_settings["style_image"]["id"] == first.style_image_id

    again = services.run_again(owner=user, conversion=first)
    assert (again.seed, again.style_image_id) == (first.seed, first.style_image_id)
    # Another seed is another noise start: the seed is what makes the pixels the same.
    other = Conversion.objects.create(
        owner=user, photo=first.photo, style_image=first.style_image, art_model=first.art_model,
        model_version=first.model_version, output_long_side=first.output_long_side, seed=first.seed + 1,
        queue=first.queue,
    )
    run_conversion(str(again.id))
    run_conversion(str(other.id))
    assert np.array_equal(result_pixels(first), result_pixels(again))
    assert not np.array_equal(result_pixels(first), result_pixels(other))


def test_a_gatys_run_again_is_refused_when_the_server_paints_with_another_loss_network(
    settings, user, noise_gatys_model, upload_file
):
    settings.RESTYLE_LOSS_NETWORK = "random"
    first = services.create_conversion(
        owner=user, upload=upload_file(size=(40, 30)), art_model=noise_gatys_model,
        style_upload=upload_file("style.png", "PNG", size=(32, 32)),
    )
    run_conversion(str(first.id))
    first.refresh_from_db()
    again = services.run_again(owner=user, conversion=first)
    settings.RESTYLE_LOSS_NETWORK = "imagenet"
    run_conversion(str(again.id))
    again.refresh_from_db()
    assert again.status == Conversion.Status.FAILED
    assert "painted with the random loss network" in again.error


def test_try_another_style_converts_the_stored_photo_with_the_other_model(noisy_conversion, second_model, list_stored_files):
    photos_before = list_stored_files("photos")
    other = services.restyle_conversion(owner=noisy_conversion.owner, conversion=noisy_conversion, art_model=second_model)
    assert other.photo_id == noisy_conversion.photo_id
    assert (other.art_model, other.model_version) == (second_model, second_model.current_version)
    assert other.output_long_side == noisy_conversion.output_long_side and other.reproduces is None
    assert Photo.objects.count() == 1 and list_stored_files("photos") == photos_before
    run_conversion(str(other.id))
    assert result_pixels(other).shape == (60, 80, 3)


def test_deleting_one_of_two_conversions_of_a_photo_keeps_the_photo_for_the_other(
    noisy_conversion, second_model, list_stored_files, django_capture_on_commit_callbacks
):
    other = services.restyle_conversion(owner=noisy_conversion.owner, conversion=noisy_conversion, art_model=second_model)
    photo_file = noisy_conversion.photo.image.name
    with django_capture_on_commit_callbacks(execute=True):
        services.delete_conversion(conversion=noisy_conversion)
    assert Photo.objects.filter(pk=other.photo_id).exists()
    assert f"{photo_file}" in list_stored_files("photos")
    run_conversion(str(other.id))  # its original is still there to convert
    assert result_pixels(other).shape == (60, 80, 3)
    with django_capture_on_commit_callbacks(execute=True):
        services.delete_conversion(conversion=Conversion.objects.get(pk=other.pk))
    assert not Photo.objects.exists() and list_stored_files("photos") == []


def test_a_model_that_paints_with_a_style_image_is_refused_for_a_photo_without_one(
    noisy_conversion, gatys_model
):
    with pytest.raises(services.ServiceError, match="paints with a style image of yours"):
        services.restyle_conversion(owner=noisy_conversion.owner, conversion=noisy_conversion, art_model=gatys_model)
    assert Conversion.objects.count() == 1


def test_a_withdrawn_model_is_refused(noisy_conversion, second_model):
    second_model.is_active = False
    second_model.save()
    with pytest.raises(services.ServiceError, match="is not available"):
        services.restyle_conversion(owner=noisy_conversion.owner, conversion=noisy_conversion, art_model=second_model)
    assert Conversion.objects.count() == 1


def test_a_stylegan2_projection_run_again_uses_its_seed_and_gives_identical_pixels(
    user, stylegan2_model, projection_settings, upload_file
):
    first = services.create_conversion(owner=user, upload=upload_file(size=(48, 40), noise=True), art_model=stylegan2_model)
    assert first.seed is not None
    run_conversion(str(first.id))
    first.refresh_from_db()
    assert first.run_settings["family_settings"]["steps"] == 6
    assert first.checkpoint_sha256 == stylegan2_model.current_version.checkpoint_sha256
    # A changed server setting does not change a run again: it projects with what was recorded.
    projection_settings.RESTYLE_PROJECTION_STEPS = 2
    again = services.run_again(owner=user, conversion=first)
    run_conversion(str(again.id))
    assert np.array_equal(result_pixels(first), result_pixels(again))
    assert again.run_settings["family_settings"]["steps"] == 6
    projection_settings.RESTYLE_PROJECTION_STEPS = 6
    other = Conversion.objects.create(
        owner=user, photo=first.photo, art_model=first.art_model, model_version=first.model_version,
        seed=first.seed + 1, queue=first.queue,
    )
    run_conversion(str(other.id))
    assert not np.array_equal(result_pixels(first), result_pixels(other))  # the seed is what makes them the same
