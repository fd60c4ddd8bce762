"""The output-size choice: offered on the upload page and in the API with the same default, bad
values refused in words with nothing stored, and the worker's result the size that was asked
for, on a real 12 MP phone photo (EXIF orientation 6) through the task function and a real
(tiny, random) network."""
import io

import numpy as np
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image, ImageOps

from tests.e2e.phone_photo import phone_photo
from translator import output_sizes, services
from translator.models import Conversion, Photo
from translator.tasks import run_conversion

pytestmark = pytest.mark.django_db

CHOICES = {"512": 512, "1024": 1024, "2048": 2048, "original": None}
BAD = ["999", "0", "-1024", "huge", "1024px", ""]


@pytest.fixture(scope="module")
def phone_jpeg(data_dir):
    """A 4032x3024 JPEG with EXIF orientation 6, as a phone held upright takes it (3024x4032 upright)."""
    return phone_photo(data_dir / "images" / "content" / "chelsea.png")


def result_image(conversion):
    with conversion.result.open("rb") as fh:
        return Image.open(io.BytesIO(fh.read())).convert("RGB")


# --- the arithmetic ---------------------------------------------------------------------------


@pytest.mark.parametrize("long_side, expected", [
    (512, (512, 384)), (1024, (1024, 768)), (2048, (2048, 1536)), (None, (4032, 3024)),
])
def test_a_12_mp_photo_is_fitted_to_the_long_side_keeping_its_aspect(long_side, expected):
    assert output_sizes.fitted(4032, 3024, long_side) == expected
    assert output_sizes.fitted(3024, 4032, long_side) == expected[::-1]


def test_a_photo_smaller_than_the_choice_is_never_scaled_up():
    assert output_sizes.fitted(800, 600, 1024) == (800, 600)
    assert output_sizes.fitted(1024, 10, 1024) == (1024, 10)
    assert output_sizes.fitted(5000, 3, 512) == (512, 1)  # a side never rounds to nothing


# --- the upload page ------------------------------------------------------------------------


def test_the_upload_page_offers_every_size_with_1024_chosen(alice, art_model):
    page = alice.get(reverse("translator:upload")).content.decode()
    for value in CHOICES:
        assert f'<option value="{value}"' in page
    assert '<option value="1024" selected>' in page
    assert page.count(" selected>") == 1


@pytest.mark.parametrize("value", list(CHOICES))
def test_the_upload_form_accepts_each_size(alice, art_model, upload_file, value):
    response = alice.post(reverse("translator:upload"),
                          {"image": upload_file(), "art_model": art_model.pk, "output_size": value})
    conversion = Conversion.objects.get()
    assert response.status_code == 302 and response["Location"] == conversion.get_absolute_url()
    assert conversion.output_long_side == CHOICES[value]


def test_the_upload_form_without_a_size_gets_the_default(alice, art_model, upload_file):
    alice.post(reverse("translator:upload"), {"image": upload_file(), "art_model": art_model.pk})
    assert Conversion.objects.get().output_long_side == 1024


@pytest.mark.parametrize("value", [v for v in BAD if v])
def test_the_upload_form_refuses_a_bad_size_in_words_and_stores_nothing(
    alice, art_model, upload_file, list_stored_files, value
):
    response = alice.post(reverse("translator:upload"),
                          {"image": upload_file(), "art_model": art_model.pk, "output_size": value})
    assert response.status_code == 400
    page = response.content.decode()
    assert "is not an output size. Choose one of 512, 1024, 2048 or original" in page
    assert (Conversion.objects.count(), Photo.objects.count(), list_stored_files()) == (0, 0, [])


def test_the_service_refuses_a_size_that_is_not_a_choice(user, art_model, upload_file, list_stored_files):
    for bad in (999, 0, True, "1024", 1024.0):
        with pytest.raises(ValidationError) as refused:
            services.create_conversion(owner=user, upload=upload_file(), art_model=art_model, output_long_side=bad)
        assert refused.value.field == "output_size"
    assert (Conversion.objects.count(), list_stored_files()) == (0, [])


# --- what the worker makes ------------------------------------------------------------------


def test_a_12_mp_phone_photo_is_converted_at_a_long_side_of_1024_by_default(alice, art_model, phone_jpeg):
    response = alice.post(reverse("translator:upload"),
                          {"image": SimpleUploadedFile("IMG_0001.JPG", phone_jpeg), "art_model": art_model.pk})
    assert response.status_code == 302
    conversion = Conversion.objects.get()
    # Stored upright: orientation 6 turns the 4032x3024 frame into a 3024x4032 portrait.
    assert (conversion.photo.width, conversion.photo.height) == (3024, 4032)
    run_conversion(str(conversion.id))
    conversion.refresh_from_db()
    assert conversion.status == Conversion.Status.SUCCEEDED, conversion.error
    assert result_image(conversion).size == (768, 1024)
    body = alice.get(reverse("api:conversion-detail", args=[conversion.id])).json()
    assert (body["output_size"], body["result_width"], body["result_height"]) == ("1024", 768, 1024)
    assert conversion.label == ""  # no memory-budget shrinking at this size


def test_the_orientation_6_photo_reaches_the_network_upright(user, art_model, phone_jpeg):
    """The network's output on the upright photo scaled as asked is what the worker stored; on the
    photo as the sensor stored it (on its side), or upside down, it is something else."""
    from mlcore.inference import Inferer

    conversion = services.create_conversion(
        owner=user, upload=SimpleUploadedFile("IMG_0002.JPG", phone_jpeg), art_model=art_model, output_long_side=512
    )
    run_conversion(str(conversion.id))
    conversion.refresh_from_db()
    stored = np.asarray(result_image(conversion), dtype=np.float32)
    assert stored.shape == (512, 384, 3)

    inferer = Inferer.load(art_model.current_version.checkpoint.path)
    upright = ImageOps.exif_transpose(Image.open(io.BytesIO(phone_jpeg))).convert("RGB")
    expected = np.asarray(inferer.translate(upright.resize((384, 512), Image.Resampling.LANCZOS)), dtype=np.float32)
    upside_down = np.asarray(inferer.translate(
        upright.rotate(180).resize((384, 512), Image.Resampling.LANCZOS)), dtype=np.float32)
    # The upload was re-encoded (JPEG 95) and so was the result (92), and a random network
    # magnifies such differences: about 6 levels apart here, against about 80 upside down (turned
    # the wrong way by 90 degrees, the photo would have been 512 wide).
    near, far = np.abs(stored - expected).mean(), np.abs(stored - upside_down).mean()
    assert near < 12 and far > 5 * near, (near, far)


def test_a_12_mp_phone_photo_asked_for_at_its_original_size_keeps_every_pixel(user, art_model, phone_jpeg):
    conversion = services.create_conversion(
        owner=user, upload=SimpleUploadedFile("IMG_0003.JPG", phone_jpeg), art_model=art_model, output_long_side=None
    )
    run_conversion(str(conversion.id))
    conversion.refresh_from_db()
    assert conversion.status == Conversion.Status.SUCCEEDED, conversion.error
    assert result_image(conversion).size == (3024, 4032)
    assert (conversion.result_width, conversion.result_height) == (3024, 4032)


def test_a_choice_larger_than_the_photo_keeps_the_photos_size(user, art_model, upload_file):
    conversion = services.create_conversion(owner=user, upload=upload_file(size=(640, 480)), art_model=art_model,
                                            output_long_side=2048)
    run_conversion(str(conversion.id))
    conversion.refresh_from_db()
    assert result_image(conversion).size == (640, 480)


def test_a_transparent_photo_keeps_its_transparency_when_scaled(user, art_model, upload_file):
    upload = upload_file("logo.png", "PNG", mode="RGBA", color=(10, 200, 30, 0), size=(1200, 600))
    conversion = services.create_conversion(owner=user, upload=upload, art_model=art_model, output_long_side=512)
    run_conversion(str(conversion.id))
    conversion.refresh_from_db()
    with conversion.result.open("rb") as fh:
        result = Image.open(io.BytesIO(fh.read()))
    assert (result.format, result.mode, result.size) == ("PNG", "RGBA", (512, 256))
    assert result.getchannel("A").getextrema() == (0, 0)


def test_a_gatys_result_follows_the_choice_not_the_photos_full_size(settings, user, gatys_model, upload_file):
    settings.RESTYLE_LOSS_NETWORK = "random"
    conversion = services.create_conversion(
        owner=user, upload=upload_file(size=(1200, 800)), art_model=gatys_model,
        style_upload=upload_file("style.png", "PNG", noise=True, size=(50, 50)), output_long_side=512,
    )
    run_conversion(str(conversion.id))
    conversion.refresh_from_db()
    assert conversion.status == Conversion.Status.SUCCEEDED, conversion.error
    assert result_image(conversion).size == (512, 341)


def test_the_jobs_page_shows_the_result_size_and_the_choice(alice, user, art_model, upload_file):
    conversion = services.create_conversion(owner=user, upload=upload_file(size=(2000, 1000)), art_model=art_model,
                                            output_long_side=512)
    page = alice.get(conversion.get_absolute_url()).content.decode()
    assert "asked: long side 512 px" in page and "512×256" not in page
    run_conversion(str(conversion.id))
    page = alice.get(conversion.get_absolute_url()).content.decode()
    assert "512×256" in page
