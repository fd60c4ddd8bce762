"""POST /api/v1/conversions/batch/: the page's batch through the API, with the same checks, caps
and budget; the conversion read says where a queued job waits (`queue_position`)."""
import pytest
from rest_framework.test import APIClient

from translator.models import Conversion, Photo

pytestmark = pytest.mark.django_db

BATCH = "/api/v1/conversions/batch/"


def send(api, files, models, **extra):
    return api.post(BATCH, {"images": files, "art_models": [m.pk for m in models], **extra}, format="multipart")


def test_three_photos_with_two_models_answer_201_with_six_conversions(
    alice_api, user, art_model, second_model, photos, list_stored_files
):
    response = send(alice_api, photos(), [art_model, second_model])
    assert response.status_code == 201, response.content
    made = response.json()["conversions"]
    assert [(c["photo"]["name"], c["model"]["slug"]) for c in made] == [
        ("one.jpg", "tiny"), ("one.jpg", "tiny-two"), ("two.png", "tiny"), ("two.png", "tiny-two"),
        ("three.webp", "tiny"), ("three.webp", "tiny-two")]
    assert [c["queue_position"] for c in made] == [1, 2, 3, 4, 5, 6]
    assert all(c["status"] == "queued" for c in made)
    assert Conversion.objects.filter(owner=user).count() == 6 and len(list_stored_files("photos")) == 3
    # The read of one conversion says the same, and null once it is not queued.
    last = made[-1]
    assert alice_api.get(last["url"]).json()["queue_position"] == 6
    Conversion.objects.filter(pk=made[0]["id"]).update(status="running")
    assert alice_api.get(last["url"]).json()["queue_position"] == 5
    assert alice_api.get(made[0]["url"]).json()["queue_position"] is None
    # The list says the same of each (counted in its one query: selectors.with_queue_places).
    listed = {c["id"]: c["queue_position"] for c in alice_api.get("/api/v1/conversions/").json()["results"]}
    assert listed == {c["id"]: (None if i == 0 else i) for i, c in enumerate(made)}


def test_images_with_brackets_are_understood_too(alice_api, art_model, photos):
    response = alice_api.post(BATCH, {"images[]": photos()[:2], "art_models[]": [art_model.pk]}, format="multipart")
    assert response.status_code == 201, response.content
    assert len(response.json()["conversions"]) == 2


def test_one_bad_file_among_three_is_a_400_naming_it_with_nothing_stored(
    alice_api, art_model, photos, broken_file, assert_error, list_stored_files
):
    good = photos()
    body = assert_error(send(alice_api, [good[0], good[1], broken_file("scan.jpg")], [art_model]), 400, field="images")
    assert body["fields"]["images"][0].startswith("1 of the 3 photos cannot be used, so none was stored")
    assert any(m.startswith("“scan.jpg”: This file is not an image") for m in body["fields"]["images"])
    assert Conversion.objects.count() == 0 and Photo.objects.count() == 0 and list_stored_files() == []


def test_caps_and_missing_parts_are_refused_in_words(alice_api, art_model, second_model, photos, settings, assert_error):
    settings.RESTYLE_BATCH_MAX_JOBS = 4
    assert_error(send(alice_api, photos(), [art_model, second_model]), 400, field="art_models",
                 words="3 photos with 2 models make 6 conversions; one batch may make at most 4")
    settings.RESTYLE_BATCH_MAX_PHOTOS = 2
    assert_error(send(alice_api, photos(), [art_model]), 400, field="images",
                 words="That is 3 photos; one batch may hold at most 2")
    assert_error(alice_api.post(BATCH, {"art_models": [art_model.pk]}, format="multipart"), 400, field="images",
                 words="Choose at least one photo")
    assert_error(alice_api.post(BATCH, {"images": photos()[:1]}, format="multipart"), 400, field="art_models",
                 words="Choose at least one model")
    assert_error(send(alice_api, photos()[:1], [art_model], output_size="9999"), 400, field="output_size")
    assert Conversion.objects.count() == 0


def test_an_unknown_model_and_a_gatys_model_without_style_are_refused(
    alice_api, art_model, gatys_model, photos, assert_error
):
    response = alice_api.post(BATCH, {"images": photos()[:1], "art_models": [art_model.pk, 99999]}, format="multipart")
    assert_error(response, 400, field="art_models")
    assert "not available" in str(response.json()["fields"]["art_models"])
    assert_error(send(alice_api, photos()[:2], [art_model, gatys_model]), 400, field="style_image",
                 words="paints with a style image of yours")
    assert Conversion.objects.count() == 0
    made = send(alice_api, photos()[:2], [art_model, gatys_model], style_image=photos()[2])
    assert made.status_code == 201 and len(made.json()["conversions"]) == 4


def test_the_budget_counts_conversions_shared_with_single_uploads(
    alice_api, art_model, second_model, photos, upload_file, settings, assert_error
):
    settings.RESTYLE_UPLOAD_RATE = "5/minute"
    assert alice_api.post("/api/v1/conversions/", {"image": upload_file(), "model": art_model.pk},
                          format="multipart").status_code == 202
    assert send(alice_api, photos()[:2], [art_model, second_model]).status_code == 201  # 1 + 4 = 5
    assert_error(send(alice_api, photos()[:1], [art_model]), 429, code="throttled")
    assert Conversion.objects.count() == 5


def test_anonymous_is_401_and_another_user_sees_none_of_the_batch(alice_api, bob_api, art_model, photos, assert_error):
    assert_error(APIClient().post(BATCH, {"images": photos()[:1], "art_models": [art_model.pk]},
                                  format="multipart"), 401)
    made = send(alice_api, photos()[:1], [art_model]).json()["conversions"]
    assert_error(bob_api.get(made[0]["url"]), 404)
    assert_error(bob_api.post(made[0]["url"] + "cancel/"), 404)
    assert bob_api.get("/api/v1/conversions/").json()["results"] == []
