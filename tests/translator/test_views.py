"""Pages and files: who may see what, and what each page does."""
import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from translator import services
from translator.models import Conversion, Photo

pytestmark = pytest.mark.django_db


def finish(conversion, result=b"result-bytes", ext="jpg"):
    """What a worker does: claim the job, then store its result."""
    claim = services.claim_conversion(conversion_id=conversion.id, worker="test")
    assert claim
    return services.finish_conversion(
        claim=claim,
        result_bytes=result,
        result_ext=ext,
        thumbnail_bytes=b"thumb-bytes",
        load_seconds=0.1,
        run_seconds=0.2,
    )


def owner_urls(conversion):
    return [
        reverse("translator:detail", args=[conversion.id]),
        reverse("translator:file", args=[conversion.id, "original"]),
        reverse("translator:file", args=[conversion.id, "result"]),
        reverse("translator:file", args=[conversion.id, "thumbnail"]),
        reverse("translator:delete", args=[conversion.id]),
    ]


# --- who sees what -------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_the_login_page(client, conversion):
    for url in [reverse("translator:upload"), reverse("translator:gallery"), *owner_urls(conversion)]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url.startswith(reverse("login")), url


def test_the_owner_sees_every_page_and_file(alice, conversion):
    finish(conversion)
    for url in owner_urls(conversion):
        assert alice.get(url).status_code == 200, url


def test_another_users_conversion_does_not_exist_for_them(client, other_user, conversion):
    finish(conversion)
    client.force_login(other_user)
    for url in owner_urls(conversion):
        assert client.get(url).status_code == 404, url
    assert client.post(reverse("translator:delete", args=[conversion.id])).status_code == 404
    assert Conversion.objects.filter(id=conversion.id).exists()


def test_an_unknown_file_kind_or_id_is_a_404(alice, conversion):
    assert alice.get(f"/gallery/{conversion.id}/secrets").status_code == 404
    assert alice.get("/gallery/00000000-0000-0000-0000-000000000000/").status_code == 404
    assert alice.get("/gallery/not-a-uuid/").status_code == 404


def test_a_result_is_not_served_before_it_exists(alice, conversion):
    assert alice.get(reverse("translator:file", args=[conversion.id, "result"])).status_code == 404


# --- pages -------------------------------------------------------------------------------------


def test_the_upload_page_shows_each_model_with_description_and_preview(alice, art_model):
    services.set_model_preview(art_model=art_model, jpeg_bytes=b"\xff\xd8preview")
    page = alice.get(reverse("translator:upload")).content.decode()
    assert art_model.name in page
    assert art_model.description in page
    preview_url = reverse("translator:model_preview", args=[art_model.slug])
    assert preview_url in page
    assert alice.get(preview_url).getvalue() == b"\xff\xd8preview"


def test_uploading_redirects_to_the_job_and_queues_it_on_commit(
    alice, art_model, upload_file, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = alice.post(
            reverse("translator:upload"), {"image": upload_file("cat.jpg"), "art_model": art_model.pk}
        )
    conversion = Conversion.objects.get()
    assert response.status_code == 302
    assert response.url == conversion.get_absolute_url()
    assert conversion.status == Conversion.Status.QUEUED
    assert conversion.model_version == art_model.current_version
    assert len(callbacks) == 1  # the task is sent only once the rows are committed


def test_the_gallery_lists_only_my_conversions_newest_first(alice, user, other_user, art_model, upload_file):
    mine = [
        services.create_conversion(owner=user, upload=upload_file(f"{n}.jpg"), art_model=art_model)
        for n in ("first", "second")
    ]
    services.create_conversion(owner=other_user, upload=upload_file("theirs.jpg"), art_model=art_model)
    page = alice.get(reverse("translator:gallery"))
    listed = list(page.context["page"].object_list)
    assert listed == [mine[1], mine[0]]


def test_the_gallery_is_paginated(alice, user, art_model, upload_file, settings):
    for n in range(26):
        services.create_conversion(owner=user, upload=upload_file(f"{n}.jpg"), art_model=art_model)
    first = alice.get(reverse("translator:gallery"))
    second = alice.get(reverse("translator:gallery") + "?page=2")
    assert len(first.context["page"].object_list) == 24
    assert len(second.context["page"].object_list) == 2
    assert "Page 1 of 2" in first.content.decode()


def test_a_failed_job_shows_its_reason(alice, conversion):
    claim = services.claim_conversion(conversion_id=conversion.id)
    services.fail_conversion(claim=claim, reason="The model file is damaged.")
    page = alice.get(conversion.get_absolute_url()).content.decode()
    assert "Failed" in page and "The model file is damaged." in page


def test_download_names_the_file_after_the_photo_and_model(alice, conversion):
    finish(conversion)
    response = alice.get(reverse("translator:file", args=[conversion.id, "result"]) + "?download=1")
    assert response["Content-Disposition"] == 'attachment; filename="photo - Tiny.jpg"; filename*=UTF-8\'\'photo%20-%20Tiny.jpg'


def test_delete_removes_the_rows_and_every_file(alice, conversion, list_stored_files, django_capture_on_commit_callbacks):
    finish(conversion)
    assert len(list_stored_files()) == 3  # original, result, thumbnail
    with django_capture_on_commit_callbacks(execute=True):
        response = alice.post(reverse("translator:delete", args=[conversion.id]))
    assert response.status_code == 302
    assert not Conversion.objects.exists() and not Photo.objects.exists()
    assert list_stored_files() == []


def test_delete_asks_first_on_get(alice, conversion):
    response = alice.get(reverse("translator:delete", args=[conversion.id]))
    assert b"Delete this conversion?" in response.content
    assert Conversion.objects.filter(id=conversion.id).exists()


# --- accounts ------------------------------------------------------------------------------


def test_sign_up_creates_an_account_and_logs_in(client):
    response = client.post(
        reverse("signup"),
        {"username": "carol", "email": "carol@example.com", "password1": "a-long-pass-phrase", "password2": "a-long-pass-phrase"},
    )
    assert response.status_code == 302
    assert get_user_model().objects.filter(username="carol").exists()
    assert client.get(reverse("translator:gallery")).status_code == 200


def test_sign_up_errors_are_shown_on_the_form(client, user):
    response = client.post(
        reverse("signup"), {"username": "alice", "password1": "x", "password2": "y"}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "A user with that username already exists." in page
    assert "The two password fields didn’t match." in page


def test_log_in_and_log_out(client, user):
    page = client.get(reverse("login")).content.decode()
    assert "Log in" in page and "Restyle" in page
    response = client.post(reverse("login"), {"username": "alice", "password": "alice-password-1"})
    assert response.status_code == 302
    assert client.get(reverse("translator:gallery")).status_code == 200
    client.post(reverse("logout"))
    assert client.get(reverse("translator:gallery")).status_code == 302


def test_a_wrong_password_is_refused_with_a_message(client, user):
    response = client.post(reverse("login"), {"username": "alice", "password": "wrong"})
    assert response.status_code == 400
    assert "Please enter a correct username and password" in response.content.decode()
