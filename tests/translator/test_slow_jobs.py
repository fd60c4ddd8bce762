"""Jobs with a style image of the user's, progress with an image so far, and cancelling."""
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from translator import services
from translator.models import Conversion, Photo

pytestmark = pytest.mark.django_db


def test_a_gatys_model_needs_a_style_image(alice, gatys_model, upload_file, list_stored_files):
    response = alice.post(reverse("translator:upload"), {"image": upload_file(), "art_model": gatys_model.pk})
    assert response.status_code == 400
    assert "paints with a style image of yours: add one." in response.content.decode()
    assert not Photo.objects.exists() and list_stored_files() == []


def test_a_bad_style_image_is_refused_on_its_own_field(alice, gatys_model, upload_file, list_stored_files):
    response = alice.post(
        reverse("translator:upload"),
        {"image": upload_file(), "style_image": SimpleUploadedFile("s.png", b"nope"), "art_model": gatys_model.pk},
    )
    assert response.status_code == 400
    assert "not an image we can read" in " ".join(response.context["form"].errors["style_image"])
    assert not Photo.objects.exists() and list_stored_files() == []


def test_photo_and_style_image_are_stored_and_the_job_queued(user, gatys_model, upload_file):
    conversion = services.create_conversion(
        owner=user, upload=upload_file("me.jpg"), art_model=gatys_model, style_upload=upload_file("starry.png", "PNG")
    )
    assert conversion.style_image.original_name == "starry.png"
    assert conversion.style_image.owner == user
    assert conversion.art_model.expects.startswith("Any photo, plus a style image")


def test_style_models_ignore_a_style_image(user, art_model, upload_file):
    conversion = services.create_conversion(
        owner=user, upload=upload_file(), art_model=art_model, style_upload=upload_file("s.png", "PNG")
    )
    assert conversion.style_image is None and Photo.objects.count() == 1


def test_a_queued_job_is_cancelled_at_once(conversion):
    services.cancel_conversion(conversion=conversion)
    conversion.refresh_from_db()
    assert conversion.status == Conversion.Status.CANCELLED and conversion.finished_at
    assert not services.claim_conversion(conversion_id=conversion.id)  # the worker will skip it


def test_a_running_job_is_asked_to_stop_and_the_worker_cancels_it(conversion):
    claim = services.claim_conversion(conversion_id=conversion.id)
    assert not services.cancel_requested(claim=claim)
    services.cancel_conversion(conversion=conversion)
    assert Conversion.objects.get(id=conversion.id).status == Conversion.Status.CANCELLING
    assert services.cancel_requested(claim=claim)
    services.mark_cancelled(claim=claim)
    assert Conversion.objects.get(id=conversion.id).status == Conversion.Status.CANCELLED


def test_a_result_arriving_after_a_cancel_is_dropped(conversion, list_stored_files):
    claim = services.claim_conversion(conversion_id=conversion.id)
    services.cancel_conversion(conversion=conversion)
    outcome = services.finish_conversion(
        claim=claim, result_bytes=b"r", result_ext="jpg", thumbnail_bytes=b"t",
        load_seconds=0, run_seconds=1,
    )
    conversion.refresh_from_db()
    assert outcome is None and conversion.status == Conversion.Status.CANCELLED and not conversion.result
    assert [f for f in list_stored_files() if "/results/" in f or f.startswith("results/")] == []


def test_a_finished_job_cannot_be_cancelled(conversion):
    services.fail_conversion(claim=services.claim_conversion(conversion_id=conversion.id), reason="broken")
    with pytest.raises(services.ServiceError, match="already finished"):
        services.cancel_conversion(conversion=conversion)


def test_progress_keeps_only_the_latest_intermediate_image(conversion, list_stored_files):
    claim = services.claim_conversion(conversion_id=conversion.id)
    services.record_progress(claim=claim, progress=0.25, detail="step 1 of 4", intermediate_jpeg=b"one")
    services.record_progress(claim=claim, progress=0.5, detail="step 2 of 4", intermediate_jpeg=b"two")
    conversion.refresh_from_db()
    assert (conversion.progress, conversion.progress_detail) == (0.5, "step 2 of 4")
    with conversion.intermediate.open("rb") as fh:
        assert fh.read() == b"two"
    assert len([f for f in list_stored_files() if f.startswith("results/")]) == 1


def test_progress_of_a_finished_job_is_ignored_and_leaves_no_file(conversion, list_stored_files):
    claim = services.claim_conversion(conversion_id=conversion.id)
    services.fail_conversion(claim=claim, reason="x")
    services.record_progress(claim=claim, progress=0.5, intermediate_jpeg=b"late")
    assert not Conversion.objects.get(id=conversion.id).intermediate
    assert [f for f in list_stored_files() if f.startswith("results/")] == []


def test_the_cancel_button_cancels_and_another_user_cannot(alice, other_user, conversion):
    from django.test import Client

    url = reverse("translator:cancel", args=[conversion.id])
    bob = Client()
    bob.force_login(other_user)
    assert bob.post(url).status_code == 404
    assert alice.post(url).status_code == 302
    assert Conversion.objects.get(id=conversion.id).status == Conversion.Status.CANCELLED


def test_deleting_removes_the_style_image_and_the_image_so_far(
    user, gatys_model, upload_file, list_stored_files, django_capture_on_commit_callbacks
):
    conversion = services.create_conversion(
        owner=user, upload=upload_file(), art_model=gatys_model, style_upload=upload_file("s.png", "PNG")
    )
    claim = services.claim_conversion(conversion_id=conversion.id)
    services.record_progress(claim=claim, progress=0.5, intermediate_jpeg=b"so far")
    assert len(list_stored_files()) == 3
    with django_capture_on_commit_callbacks(execute=True):
        services.delete_conversion(conversion=Conversion.objects.get(id=conversion.id))
    assert list_stored_files() == [] and not Photo.objects.exists()
