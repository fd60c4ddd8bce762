"""The upload page takes several photos and several models: a job per pair, then the gallery.
Refusals are 400 pages in words with nothing stored; the throttle counts conversions; the gallery
shows queue places and a Cancel button (owner only)."""
import re

import pytest
from django.test import Client
from django.urls import reverse

from translator import services
from translator.models import Conversion, Photo

pytestmark = pytest.mark.django_db

UPLOAD, GALLERY = "/", "/gallery/"


def post(client, files, models, **extra):
    return client.post(UPLOAD, {"image": files, "art_model": [m.pk for m in models], **extra})


def test_the_page_offers_several_photos_and_several_models(alice, art_model, second_model):
    page = alice.get(UPLOAD).content.decode()
    assert 'name="image"' in page and " multiple " in page and "data-drop-zone" in page
    assert page.count('type="checkbox" name="art_model"') == 2
    assert "js/batch.js" in page


def test_two_photos_and_two_models_make_four_jobs_and_go_to_the_gallery(alice, user, art_model, second_model, photos):
    response = post(alice, photos()[:2], [art_model, second_model])
    assert response.status_code == 302 and response["Location"] == "/gallery/"
    assert Conversion.objects.filter(owner=user).count() == 4 and Photo.objects.count() == 2
    gallery = alice.get(GALLERY).content.decode()
    assert "4 conversions queued: 2 photos × 2 models." in gallery
    # Each tile shows its place in the queue and a Cancel button.
    for place in ("Next in the queue, waiting for a worker", "2nd in the queue", "3rd in the queue", "4th in the queue"):
        assert place in gallery
    assert gallery.count("data-cancel-api=") == 4


def test_one_photo_and_one_model_still_opens_its_page(alice, art_model, upload_file):
    response = post(alice, [upload_file()], [art_model])
    assert response.status_code == 302 and response["Location"] == Conversion.objects.get().get_absolute_url()


def test_one_bad_file_among_three_is_a_400_naming_it_with_nothing_stored(
    alice, art_model, photos, broken_file, list_stored_files
):
    good = photos()
    response = post(alice, [good[0], broken_file("scan.jpg"), good[1]], [art_model])
    assert response.status_code == 400
    page = response.content.decode()
    assert "1 of the 3 photos cannot be used, so none was stored" in page
    assert "“scan.jpg”: This file is not an image we can read" in page
    assert Conversion.objects.count() == 0 and Photo.objects.count() == 0 and list_stored_files() == []


def test_caps_are_refused_in_words(alice, art_model, second_model, photos, settings):
    settings.RESTYLE_BATCH_MAX_JOBS = 5
    response = post(alice, photos(), [art_model, second_model])
    assert response.status_code == 400
    assert "3 photos with 2 models make 6 conversions; one batch may make at most 5" in response.content.decode()
    settings.RESTYLE_BATCH_MAX_PHOTOS = 2
    response = post(alice, photos(), [art_model])
    assert response.status_code == 400 and "one batch may hold at most 2" in response.content.decode()
    assert Conversion.objects.count() == 0


def test_the_ticked_models_stay_ticked_after_a_refusal(alice, art_model, second_model, broken_file):
    page = post(alice, [broken_file()], [second_model]).content.decode()
    boxes = {int(m.group(1)): "checked" in m.group(0)
             for m in re.finditer(r'<input type="checkbox" name="art_model" value="(\d+)"[^>]*>', page)}
    assert boxes == {art_model.pk: False, second_model.pk: True}


def test_no_model_ticked_is_refused(alice, art_model, upload_file):
    response = alice.post(UPLOAD, {"image": [upload_file()]})
    assert response.status_code == 400 and "Choose a model." in response.content.decode()


def test_the_throttle_counts_conversions_not_requests(alice, art_model, second_model, photos, settings):
    settings.RESTYLE_UPLOAD_RATE = "5/minute"
    assert post(alice, photos()[:2], [art_model, second_model]).status_code == 302  # 4 spent
    refused = post(alice, photos()[:2], [art_model])  # 2 more would make 6
    assert refused.status_code == 429 and "The limit is 5 conversions per minute." in refused.content.decode()
    assert Conversion.objects.count() == 4
    assert post(alice, photos()[:1], [art_model]).status_code == 302  # the fifth fits
    assert Conversion.objects.count() == 5


def test_cancel_from_the_gallery_comes_back_to_the_gallery(alice, user, art_model, photos):
    services.create_batch(owner=user, uploads=photos()[:2], art_models=[art_model])
    job = Conversion.objects.order_by("queued_at").last()
    response = alice.post(reverse("translator:cancel", args=[job.id]), {"next": "/gallery/?sort=oldest"})
    assert response.status_code == 302 and response["Location"] == "/gallery/?sort=oldest"
    job.refresh_from_db()
    assert job.status == "cancelled"
    # A `next` that leaves the site is not followed.
    other = Conversion.objects.exclude(pk=job.pk).get()
    response = alice.post(reverse("translator:cancel", args=[other.id]), {"next": "https://evil.example/"})
    assert response["Location"] == other.get_absolute_url()


def test_another_users_job_cannot_be_cancelled_and_anonymous_is_sent_to_log_in(
    user, other_user, art_model, photos
):
    [job] = services.create_batch(owner=user, uploads=photos()[:1], art_models=[art_model])
    bob = Client()
    bob.force_login(other_user)
    assert bob.post(reverse("translator:cancel", args=[job.id]), {"next": "/gallery/"}).status_code == 404
    assert "Next in the queue" not in bob.get(GALLERY).content.decode()
    anonymous = Client().post(reverse("translator:cancel", args=[job.id]))
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert Client().get(UPLOAD).status_code == 302
    job.refresh_from_db()
    assert job.status == "queued"
