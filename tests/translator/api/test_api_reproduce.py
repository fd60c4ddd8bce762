"""POST /api/v1/conversions/<id>/restyle/ and /again/, and the recorded fields in the read:
as the owner, another user (404) and anonymous (401); bad input is a 4xx with nothing stored."""
import pytest
from rest_framework.test import APIClient

from translator import services
from translator.models import ArtModel, Conversion, Family
from translator.tasks import run_conversion

pytestmark = pytest.mark.django_db

URL = "/api/v1/conversions/"


@pytest.fixture
def second_model(db, tiny_checkpoint):
    model = ArtModel.objects.create(slug="tiny-two", name="Tiny Two", family=Family.FAST_STYLE)
    services.add_model_version(art_model=model, checkpoint_path=tiny_checkpoint, source="tests")
    model.refresh_from_db()
    return model


@pytest.fixture
def done(conversion):
    run_conversion(str(conversion.id))
    conversion.refresh_from_db()
    return conversion


def test_the_read_has_what_it_ran_with(alice_api, done):
    body = alice_api.get(f"{URL}{done.id}/").json()
    assert body["checkpoint_sha256"] == done.model_version.checkpoint_sha256 and len(body["checkpoint_sha256"]) == 64
    assert body["model_version"] == 1 and body["seed"] is None and body["reproduces"] is None
    assert body["run_settings"]["device"] == "cpu" and body["run_settings"]["dtype"] == "fp32"


def test_restyle_answers_202_with_a_new_job_of_the_same_photo(alice_api, done, second_model):
    response = alice_api.post(f"{URL}{done.id}/restyle/", {"art_model": second_model.pk, "output_size": "512"}, format="json")
    assert response.status_code == 202
    new = Conversion.objects.get(pk=response.json()["id"])
    assert response["Location"] == f"http://testserver{URL}{new.id}/"
    assert (new.photo_id, new.art_model, new.output_long_side) == (done.photo_id, second_model, 512)
    assert response.json()["model"]["slug"] == "tiny-two"


@pytest.mark.parametrize("payload, field, words", [
    ({}, "art_model", "Choose a model."),
    ({"art_model": 99999}, "art_model", "That model is not available."),
    ({"art_model": "wave"}, "art_model", "The model is given by its numeric id."),
    ({"output_size": "huge"}, "output_size", "is not an output size"),
])
def test_restyle_with_bad_input_is_a_400_in_words_and_stores_nothing(alice_api, done, second_model, payload, field, words):
    payload = {"art_model": second_model.pk, **payload} if field == "output_size" else payload
    response = alice_api.post(f"{URL}{done.id}/restyle/", payload, format="json")
    assert response.status_code == 400
    assert words in response.json()["fields"][field][0]
    assert Conversion.objects.count() == 1


def test_restyle_with_a_style_image_model_for_a_photo_without_one_is_a_400(alice_api, done, gatys_model):
    response = alice_api.post(f"{URL}{done.id}/restyle/", {"art_model": gatys_model.pk}, format="json")
    assert response.status_code == 400
    assert "paints with a style image of yours" in response.json()["message"]
    assert Conversion.objects.count() == 1


def test_again_answers_202_and_the_run_comes_out_the_same(alice_api, done):
    response = alice_api.post(f"{URL}{done.id}/again/")
    assert response.status_code == 202
    body = response.json()
    assert body["reproduces"] == f"http://testserver{URL}{done.id}/"
    assert body["checkpoint_sha256"] == done.checkpoint_sha256
    new = Conversion.objects.get(pk=body["id"])
    run_conversion(str(new.id))
    new.refresh_from_db()
    with done.result.open("rb") as a, new.result.open("rb") as b:
        assert a.read() == b.read()  # the same pixels, encoded the same way


def test_again_of_a_queued_job_is_a_409_in_words(alice_api, conversion):
    response = alice_api.post(f"{URL}{conversion.id}/again/")
    assert response.status_code == 409
    assert response.json()["message"] == "Only a finished conversion can be run again; this one is queued."
    assert Conversion.objects.count() == 1


@pytest.mark.parametrize("action", ["restyle", "again"])
def test_another_users_conversion_is_a_404(bob_api, done, second_model, action):
    response = bob_api.post(f"{URL}{done.id}/{action}/", {"art_model": second_model.pk}, format="json")
    assert response.status_code == 404
    assert Conversion.objects.count() == 1


@pytest.mark.parametrize("action", ["restyle", "again"])
def test_anonymous_is_a_401(done, second_model, action):
    response = APIClient().post(f"{URL}{done.id}/{action}/", {"art_model": second_model.pk}, format="json")
    assert response.status_code == 401
    assert Conversion.objects.count() == 1
