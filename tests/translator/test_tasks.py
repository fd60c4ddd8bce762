"""The conversion task, run in this process on a real (tiny, random) network and real files."""
import io

import pytest
from PIL import Image

from translator import services
from translator.models import ArtModel, Conversion, Family
from translator.tasks import run_conversion

pytestmark = pytest.mark.django_db


def test_a_queued_conversion_is_converted_to_an_image_of_the_same_size(conversion):
    run_conversion(str(conversion.id))
    conversion.refresh_from_db()
    assert conversion.status == Conversion.Status.SUCCEEDED, conversion.error
    with conversion.result.open("rb") as fh:
        result = Image.open(io.BytesIO(fh.read()))
    assert result.format == "JPEG"
    assert result.size == (conversion.photo.width, conversion.photo.height)
    with conversion.thumbnail.open("rb") as fh:
        assert Image.open(fh).format == "JPEG"
    assert conversion.started_at <= conversion.finished_at
    assert conversion.run_seconds > 0 and conversion.load_seconds is not None


def test_running_the_task_twice_converts_once(conversion, list_stored_files):
    run_conversion(str(conversion.id))
    files = list_stored_files()
    finished_at = Conversion.objects.get(id=conversion.id).finished_at
    run_conversion(str(conversion.id))  # a redelivered message: the row is no longer queued
    assert list_stored_files() == files
    assert Conversion.objects.get(id=conversion.id).finished_at == finished_at


def test_a_job_deleted_before_it_ran_is_skipped(conversion):
    conversion_id = str(conversion.id)
    services.delete_conversion(conversion=conversion)
    run_conversion(conversion_id)
    assert not Conversion.objects.filter(id=conversion_id).exists()


def test_transparency_is_kept_in_a_png_result(user, art_model, upload_file):
    upload = upload_file("logo.png", "PNG", mode="RGBA", color=(10, 200, 30, 0), size=(40, 30))
    conversion = services.create_conversion(owner=user, upload=upload, art_model=art_model)
    run_conversion(str(conversion.id))
    conversion.refresh_from_db()
    with conversion.result.open("rb") as fh:
        result = Image.open(io.BytesIO(fh.read()))
    assert (result.format, result.mode, result.size) == ("PNG", "RGBA", (40, 30))
    assert result.getchannel("A").getextrema() == (0, 0)


def test_a_broken_model_file_fails_the_job_with_a_reason(conversion):
    path = conversion.model_version.checkpoint.path
    with open(path, "r+b") as fh:
        fh.truncate(100)
    run_conversion(str(conversion.id))
    conversion.refresh_from_db()
    assert conversion.status == Conversion.Status.FAILED
    assert "network file could not be loaded" in conversion.error
    assert path not in conversion.error  # server paths stay in the log


def test_a_gatys_job_paints_the_photo_reports_progress_and_says_its_loss_network_is_random(
    gatys_conversion, monkeypatch
):
    conversion = gatys_conversion
    reports = []
    real_record = services.record_progress
    monkeypatch.setattr(services, "record_progress", lambda **kw: (reports.append(kw), real_record(**kw)))
    run_conversion(str(conversion.id))
    conversion.refresh_from_db()
    assert conversion.status == Conversion.Status.SUCCEEDED, conversion.error
    assert "random VGG" in conversion.label
    with conversion.result.open("rb") as fh:
        assert Image.open(io.BytesIO(fh.read())).size == (60, 40)
    assert [r["detail"] for r in reports] == ["step 2 of 4", "step 4 of 4"]
    assert all(r["intermediate_jpeg"][:2] == b"\xff\xd8" for r in reports)
    assert conversion.intermediate


def test_a_gatys_job_without_vgg_weights_fails_with_a_reason(user, gatys_model, upload_file, settings, monkeypatch):
    settings.RESTYLE_LOSS_NETWORK = "imagenet"
    settings.RESTYLE_VGG19_WEIGHTS = None
    monkeypatch.setenv("RESTYLE_OFFLINE", "1")  # the machine has no internet either way
    monkeypatch.setenv("TORCH_HOME", "/nonexistent-torch-home")
    conversion = services.create_conversion(
        owner=user, upload=upload_file(), art_model=gatys_model, style_upload=upload_file("s.png", "PNG")
    )
    run_conversion(str(conversion.id))
    conversion.refresh_from_db()
    assert conversion.status == Conversion.Status.FAILED
    assert "RESTYLE_VGG19_WEIGHTS" in conversion.error


def test_a_photo_too_large_to_convert_whole_is_converted_in_tiles_at_its_own_size(
    user, art_model, upload_file, settings
):
    from mlcore.inference import Inferer

    inferer = Inferer.load(art_model.current_version.checkpoint.path)
    # Large enough that the tiles' own working set is the smaller part.
    budget = inferer.tiled_memory().bytes_for(2000, 1500) + 2**20
    assert inferer.memory.bytes_for(2000, 1500) > budget  # whole, it would not fit
    settings.RESTYLE_CONVERSION_MEMORY_MB = budget / 2**20
    # The photo's own size asked for: the memory budget alone decides how it is converted.
    conversion = services.create_conversion(owner=user, upload=upload_file(size=(2000, 1500)), art_model=art_model,
                                            output_long_side=None)
    run_conversion(str(conversion.id))
    conversion.refresh_from_db()
    assert conversion.status == Conversion.Status.SUCCEEDED, conversion.error
    with conversion.result.open("rb") as fh:
        assert Image.open(io.BytesIO(fh.read())).size == (2000, 1500)
    assert conversion.label == ""


def test_a_photo_too_large_for_a_model_that_cannot_tile_is_converted_smaller_and_says_why(
    user, upload_file, settings, tmp_path
):
    import torch

    from mlcore.checkpoint import save_model
    from mlcore.inference import Inferer
    from mlcore.ugatit import UGATITConfig
    from mlcore.ugatit.networks import build as build_ugatit

    torch.manual_seed(0)  # random weights: the size and the words are what is tested
    config = UGATITConfig(light=True, ngf=4, n_res=1, img_size=64)
    path = save_model(tmp_path / "light.safetensors", family="ugatit", config=config,
                      state_dict=build_ugatit(config).state_dict(), meta={"name": "light (tests only)"})
    model = ArtModel.objects.create(slug="light", name="Light", family=Family.UGATIT, description="test")
    services.add_model_version(art_model=model, checkpoint_path=path, source="tests")
    model.refresh_from_db()
    inferer = Inferer.load(path)
    assert not inferer.can_tile  # its AdaLIN reads features pooled over the whole picture
    settings.RESTYLE_CONVERSION_MEMORY_MB = inferer.memory.bytes_for(320, 240) / 2**20
    conversion = services.create_conversion(owner=user, upload=upload_file(size=(1280, 960)), art_model=model,
                                            output_long_side=None)
    run_conversion(str(conversion.id))
    conversion.refresh_from_db()
    assert conversion.status == Conversion.Status.SUCCEEDED, conversion.error
    with conversion.result.open("rb") as fh:
        width, height = Image.open(io.BytesIO(fh.read())).size
    assert 310 <= width <= 320 and abs(width / height - 4 / 3) < 0.01
    assert f"Converted at {width}×{height}" in conversion.label and "the photo is 1280×960" in conversion.label
    assert "cannot convert it in parts" in conversion.label


def test_a_model_that_cannot_fit_the_memory_budget_fails_in_words_and_the_worker_goes_on(
    user, art_model, upload_file, settings
):
    settings.RESTYLE_CONVERSION_MEMORY_MB = 0.01
    doomed = services.create_conversion(owner=user, upload=upload_file(), art_model=art_model)
    run_conversion(str(doomed.id))
    doomed.refresh_from_db()
    assert doomed.status == Conversion.Status.FAILED
    assert "RESTYLE_CONVERSION_MEMORY_MB" in doomed.error

    settings.RESTYLE_CONVERSION_MEMORY_MB = 2048
    fine = services.create_conversion(owner=user, upload=upload_file(), art_model=art_model)
    run_conversion(str(fine.id))
    assert Conversion.objects.get(id=fine.id).status == Conversion.Status.SUCCEEDED


def test_a_detailed_result_that_outgrows_pillows_optimised_jpeg_buffer_is_still_saved():
    import random

    from translator.worker.inference import encode_result

    # Noise at quality 92 with full-resolution colour takes more than a byte per pixel, the
    # buffer Pillow gives an optimised JPEG ("Suspension not allowed here").
    noise = Image.frombytes("RGB", (320, 240), random.Random(1).randbytes(320 * 240 * 3))
    data, ext = encode_result(noise)
    assert ext == "jpg" and len(data) > 320 * 240
    assert Image.open(io.BytesIO(data)).size == (320, 240)
