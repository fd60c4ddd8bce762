"""The output-size choice in the REST API: each choice accepted and said back, the upload page's
default when none is sent, a bad one refused with a 400 naming the choices and nothing stored."""
import pytest

from translator import output_sizes
from translator.models import Conversion, Photo

pytestmark = pytest.mark.django_db

API = "/api/v1/conversions/"
CHOICES = {"512": 512, "1024": 1024, "2048": 2048, "original": None}
# An empty value is no value in a form: the default, as on the upload page.
BAD = ["999", "0", "-1024", "huge", "1024px", "ORIGINAL", " 512"]


@pytest.mark.parametrize("value", list(CHOICES))
def test_the_api_accepts_each_size_and_says_it_back(alice_api, art_model, upload_file, value):
    response = alice_api.post(API, {"image": upload_file(), "model": art_model.pk, "output_size": value},
                              format="multipart")
    assert response.status_code == 202, response.content
    assert response.json()["output_size"] == value
    assert Conversion.objects.get().output_long_side == CHOICES[value]


def test_the_api_default_is_the_upload_pages(alice_api, art_model, upload_file):
    response = alice_api.post(API, {"image": upload_file(), "model": art_model.pk}, format="multipart")
    assert response.status_code == 202
    assert response.json()["output_size"] == "1024" == str(output_sizes.DEFAULT)
    assert Conversion.objects.get().output_long_side == 1024


@pytest.mark.parametrize("value", BAD)
def test_the_api_refuses_a_bad_size_with_a_400_naming_the_choices(
    alice_api, art_model, upload_file, assert_error, list_stored_files, value
):
    response = alice_api.post(API, {"image": upload_file(), "model": art_model.pk, "output_size": value},
                              format="multipart")
    body = assert_error(response, 400, field="output_size", words="Choose one of 512, 1024, 2048 or original")
    assert f"“{value}” is not an output size" in body["fields"]["output_size"][0]
    assert (Conversion.objects.count(), Photo.objects.count(), list_stored_files()) == (0, 0, [])
