"""The conversion task, run in this process on a real (tiny, random) network and real files."""
import io

import pytest
from PIL import Image

from translator import services
from translator.models import Conversion
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
