"""Conversions through the API: create, read, list with filters, delete, files; owner-scoped."""
import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from translator import services
from translator.models import Conversion, Photo
from translator.tasks import run_conversion

pytestmark = pytest.mark.django_db

URL = "/api/v1/conversions/"


def detail(conversion, suffix=""):
    return f"{URL}{conversion.id}/{suffix}"


def test_uploading_answers_202_with_the_jobs_url(alice_api, art_model, upload_file, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        response = alice_api.post(URL, {"image": upload_file("cat.jpg"), "model": art_model.pk}, format="multipart")
    assert response.status_code == 202
    body = response.json()
    conversion = Conversion.objects.get()
    assert body["id"] == str(conversion.id)
    assert body["url"] == f"http://testserver{detail(conversion)}"
    assert response["Location"] == body["url"]
    assert (body["status"], body["progress"], body["result_url"]) == ("queued", 0.0, None)
    assert body["model"] == {"id": art_model.pk, "slug": "tiny", "name": "Tiny"}
    assert body["photo"] == {"name": "cat.jpg", "format": "JPEG", "width": 64, "height": 48}
    assert len(callbacks) == 1


def test_the_owner_cannot_be_set_by_the_client(alice_api, user, other_user, art_model, upload_file):
    response = alice_api.post(
        URL, {"image": upload_file(), "model": art_model.pk, "owner": other_user.pk}, format="multipart"
    )
    assert response.status_code == 202
    assert Conversion.objects.get().owner == user


def test_a_job_reports_progress_then_the_result_and_thumbnail(alice_api, conversion):
    assert alice_api.get(detail(conversion)).json()["status"] == "queued"
    run_conversion(str(conversion.id))
    body = alice_api.get(detail(conversion)).json()
    assert (body["status"], body["progress"]) == ("succeeded", 1.0)
    assert body["run_seconds"] > 0 and body["finished_at"]
    result = alice_api.get(body["result_url"])
    assert result.status_code == 200 and result["Content-Type"] == "image/jpeg"
    assert b"".join(result.streaming_content)[:2] == b"\xff\xd8"
    assert alice_api.get(body["thumbnail_url"]).status_code == 200
    download = alice_api.get(body["result_url"] + "?download=true")
    assert download["Content-Disposition"].startswith("attachment;")


def test_files_can_be_asked_for_as_images(alice_api, conversion, assert_error):
    """A phone app sending `Accept: image/*` gets the file, and a JSON error when there is none."""
    response = alice_api.get(detail(conversion, "original/"), HTTP_ACCEPT="image/*")
    assert response.status_code == 200
    response = alice_api.get(detail(conversion, "result/"), HTTP_ACCEPT="image/jpeg")
    assert response.status_code == 404
    assert b"has no result file" in response.content


def test_a_result_before_it_exists_is_a_404_with_a_reason(alice_api, conversion, assert_error):
    assert_error(alice_api.get(detail(conversion, "result/")), 404, code="not_found", words="(it is queued)")


@pytest.mark.parametrize(
    "payload, field, words",
    [
        ({"model": "MODEL"}, "image", "Choose a photo to upload."),
        ({"image": "IMAGE"}, "model", "Choose a model."),
        ({"image": "IMAGE", "model": 999}, "model", "That model is not available."),
        ({"image": "IMAGE", "model": "wave"}, "model", "numeric id"),
        ({"image": "TEXT", "model": "MODEL"}, "image", "not an image we can read"),
        ({"image": "GIF", "model": "MODEL"}, "image", "GIF files are not accepted"),
        ({"image": "TINY", "model": "MODEL"}, "image", "at least 16 pixels"),
    ],
)
def test_bad_uploads_are_refused_field_by_field(
    alice_api, art_model, upload_file, payload, field, words, assert_error, list_stored_files
):
    values = {
        "MODEL": art_model.pk,
        "IMAGE": upload_file(),
        "TEXT": SimpleUploadedFile("a.jpg", b"hello"),
        "GIF": upload_file("a.gif", "GIF"),
        "TINY": upload_file("a.png", "PNG", size=(4, 4)),
    }
    data = {k: values.get(v, v) if isinstance(v, str) else v for k, v in payload.items()}
    response = alice_api.post(URL, data, format="multipart")
    assert_error(response, 400, field=field, words=words)
    assert not Conversion.objects.exists() and not Photo.objects.exists()
    assert list_stored_files() == []


def test_an_empty_file_is_refused(alice_api, art_model, assert_error):
    response = alice_api.post(URL, {"image": SimpleUploadedFile("a.jpg", b""), "model": art_model.pk}, format="multipart")
    assert_error(response, 400, field="image", words="empty")


def test_a_json_body_is_refused_with_a_message(alice_api, art_model, assert_error):
    response = alice_api.post(URL, {"model": art_model.pk}, format="json")
    assert_error(response, 400, field="image")


def test_uploads_are_throttled_per_user_with_retry_after(alice_api, bob_api, art_model, upload_file, settings, assert_error):
    settings.RESTYLE_UPLOAD_RATE = "2/minute"
    for _ in range(2):
        assert alice_api.post(URL, {"image": upload_file(), "model": art_model.pk}, format="multipart").status_code == 202
    response = alice_api.post(URL, {"image": upload_file(), "model": art_model.pk}, format="multipart")
    assert_error(response, 429, code="throttled", words="Request was throttled")
    assert 0 < int(response["Retry-After"]) <= 60
    assert Conversion.objects.count() == 2
    # Another user has a budget of their own, and reading is not limited.
    assert bob_api.post(URL, {"image": upload_file(), "model": art_model.pk}, format="multipart").status_code == 202
    assert alice_api.get(URL).status_code == 200


def test_the_list_is_mine_newest_first_and_paginated(alice_api, user, other_user, art_model, upload_file):
    mine = [services.create_conversion(owner=user, upload=upload_file(), art_model=art_model) for _ in range(3)]
    services.create_conversion(owner=other_user, upload=upload_file(), art_model=art_model)
    body = alice_api.get(URL, {"page_size": 2}).json()
    assert body["count"] == 3
    assert [c["id"] for c in body["results"]] == [str(mine[2].id), str(mine[1].id)]
    assert body["next"].endswith("page=2&page_size=2")
    second = alice_api.get(body["next"]).json()
    assert [c["id"] for c in second["results"]] == [str(mine[0].id)]


def test_the_list_filters_by_model_state_and_date(alice_api, user, art_model, conversion, upload_file):
    other = services.create_conversion(owner=user, upload=upload_file(), art_model=art_model)
    services.fail_conversion(claim=services.claim_conversion(conversion_id=other.id), reason="test")
    Conversion.objects.filter(id=conversion.id).update(created_at=timezone.now() - dt.timedelta(days=3))

    def ids(**params):
        return [c["id"] for c in alice_api.get(URL, params).json()["results"]]

    assert ids(status="failed") == [str(other.id)]
    assert ids(status="queued") == [str(conversion.id)]
    assert ids(model="tiny") == [str(other.id), str(conversion.id)]
    assert ids(model="wave") == []
    yesterday = (timezone.now() - dt.timedelta(days=1)).isoformat()
    assert ids(created_after=yesterday) == [str(other.id)]
    assert ids(created_before=yesterday) == [str(conversion.id)]


def test_bad_filters_are_a_400_not_an_empty_list(alice_api, conversion, assert_error):
    assert_error(alice_api.get(URL, {"status": "sleeping"}), 400, field="status")
    assert_error(alice_api.get(URL, {"created_after": "last tuesday"}), 400, field="created_after")
    assert_error(alice_api.get(URL, {"page": 99}), 404, words="Invalid page")


def test_deleting_removes_the_job_and_its_files(alice_api, conversion, list_stored_files, django_capture_on_commit_callbacks):
    run_conversion(str(conversion.id))
    assert len(list_stored_files()) == 3
    with django_capture_on_commit_callbacks(execute=True):
        assert alice_api.delete(detail(conversion)).status_code == 204
    assert not Conversion.objects.exists()
    assert list_stored_files() == []


def test_another_users_conversion_is_a_404_for_every_verb(bob_api, conversion, assert_error):
    run_conversion(str(conversion.id))
    for suffix in ("", "original/", "result/", "thumbnail/"):
        assert_error(bob_api.get(detail(conversion, suffix)), 404, code="not_found")
    assert_error(bob_api.delete(detail(conversion)), 404, code="not_found")
    assert bob_api.get(URL).json()["count"] == 0
    assert Conversion.objects.filter(id=conversion.id).exists()


def test_unauthenticated_requests_are_a_401_for_every_verb(api, conversion, assert_error):
    for response in (
        api.get(URL),
        api.post(URL, {}),
        api.get(detail(conversion)),
        api.get(detail(conversion, "result/")),
        api.delete(detail(conversion)),
    ):
        assert_error(response, 401, code="not_authenticated")


def test_the_browser_session_works_too(client, user, conversion):
    client.force_login(user)
    assert client.get(detail(conversion)).json()["status"] == "queued"


def test_unknown_api_addresses_answer_in_the_api_format(alice_api, assert_error):
    assert_error(alice_api.get(f"{URL}not-a-uuid/"), 404, code="not_found")
    assert_error(alice_api.get("/api/v1/nothing-here/"), 404, code="not_found")
    assert_error(alice_api.put(f"{URL}", {}), 405, code="method_not_allowed")


def test_cancelling_through_the_api(alice_api, bob_api, conversion, assert_error):
    assert_error(bob_api.post(detail(conversion, "cancel/")), 404, code="not_found")
    response = alice_api.post(detail(conversion, "cancel/"))
    assert response.status_code == 202 and response.json()["status"] == "cancelled"
    assert_error(alice_api.post(detail(conversion, "cancel/")), 409, code="conflict", words="already finished")


def test_a_gatys_job_takes_a_style_image(alice_api, gatys_model, upload_file, assert_error):
    response = alice_api.post(URL, {"image": upload_file(), "model": gatys_model.pk}, format="multipart")
    assert_error(response, 400, field="style_image", words="add one")
    response = alice_api.post(
        URL, {"image": upload_file(), "style_image": upload_file("s.png", "PNG"), "model": gatys_model.pk}, format="multipart"
    )
    assert response.status_code == 202
    body = response.json()
    assert body["style_image"]["name"] == "s.png"
    assert alice_api.get(body["style_image_url"]).status_code == 200
    assert body["intermediate_url"] is None
