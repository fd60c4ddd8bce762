"""What the pages say is true: a photo's upright size, dates without a double full stop, sizes
in units that fit them, a checkpoint link that downloads (staff only), and a favicon."""
import io
from datetime import datetime, timezone

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory
from django.urls import reverse
from PIL import Image

from config import error_pages
from translator.models import Conversion, Dataset, TrainingRun

pytestmark = pytest.mark.django_db

ORIENTATION = 0x0112


def sideways_jpeg():
    """Stored 400 wide and 600 high, with EXIF orientation 6: a camera held on its side."""
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    buffer = io.BytesIO()
    Image.new("RGB", (400, 600), (90, 120, 150)).save(buffer, "JPEG", quality=90, exif=exif)
    return SimpleUploadedFile("sideways.jpg", buffer.getvalue(), content_type="image/jpeg")


def test_a_sideways_photo_is_labelled_with_the_size_it_is_shown_at(alice, art_model):
    response = alice.post(reverse("translator:upload"), {"image": sideways_jpeg(), "art_model": art_model.pk})
    assert response.status_code == 302
    conversion = Conversion.objects.get()
    assert (conversion.photo.width, conversion.photo.height) == (600, 400)
    page = alice.get(reverse("translator:detail", args=[conversion.id])).content.decode()
    assert "Original · 600×400" in page and "400×600" not in page


def test_the_run_page_says_when_it_finished_with_one_full_stop(admin_client, tmp_path, settings):
    settings.RESTYLE_RUNS_ROOT = tmp_path
    dataset = Dataset.objects.create(name="tiny", family="fast_style", status=Dataset.Status.READY)
    run = TrainingRun.objects.create(
        name="watched", family="fast_style", dataset=dataset, config={}, status=TrainingRun.Status.SUCCEEDED,
        total_steps=10, step=10, started_at=datetime(2026, 12, 1, 8, 2, tzinfo=timezone.utc),
        finished_at=datetime(2026, 12, 1, 8, 18, tzinfo=timezone.utc))
    live = admin_client.get(reverse("admin:translator_trainingrun_live", args=[run.pk])).content.decode()
    assert "Finished <time datetime=\"2026-12-01T08:18:00+00:00\">1 Dec 2026, 08:18</time>." in live
    assert "Started <time" in live and "1 Dec 2026, 08:02</time>." in live
    assert ".." not in live.replace("...", "")  # "a.m.." was the bug


def test_a_small_dataset_shows_its_size_in_kilobytes(admin_client):
    dataset = Dataset.objects.create(name="small", family="fast_style", status=Dataset.Status.READY,
                                     size_bytes=48 * 1024, file_count=3)
    page = admin_client.get(reverse("admin:translator_dataset_change", args=[dataset.pk])).content.decode()
    assert "48.0\xa0KB" in page and "0.0 MB" not in page


def test_the_version_page_links_its_checkpoint_to_a_download_that_works(admin_client, art_model, media_root):
    version = art_model.current_version
    page = admin_client.get(reverse("admin:translator_modelversion_change", args=[version.pk])).content.decode()
    url = reverse("admin:translator_modelversion_checkpoint", args=[version.pk])
    assert f'href="{url}"' in page and "Download tiny-v1.safetensors" in page
    assert f'href="/media/{version.checkpoint.name}"' not in page  # the dead MEDIA_URL link
    download = admin_client.get(url)
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == (media_root / version.checkpoint.name).read_bytes()
    assert download["Content-Disposition"].startswith('attachment; filename="tiny-v1.safetensors"')


def test_only_staff_allowed_to_see_versions_download_a_checkpoint(client, user, art_model):
    url = reverse("admin:translator_modelversion_checkpoint", args=[art_model.current_version.pk])
    assert "/admin/login/" in client.get(url)["Location"]  # nobody
    client.force_login(user)
    assert "/admin/login/" in client.get(url)["Location"]  # a user who is not staff
    clerk = get_user_model().objects.create_user("clerk", password="clerk-password-1", is_staff=True)
    client.force_login(clerk)
    assert client.get(url).status_code == 403  # staff without the permission


def test_favicon_ico_answers_with_the_sites_icon_which_every_page_links(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"] == "/static/favicon.svg"
    page = client.get(reverse("login")).content.decode()
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page


def test_every_page_starts_with_a_skip_link_to_the_content(alice):
    page = alice.get(reverse("translator:upload")).content.decode()
    body = page.split("<body>", 1)[1]
    assert body.lstrip().startswith('<a class="skip-link" href="#main">Skip to the content</a>')
    assert '<main id="main" tabindex="-1">' in page
    assert 'role="group" aria-labelledby="models-heading"' in page  # checkboxes: one or more models


def test_the_500_page_needs_neither_the_database_nor_a_request_context(django_assert_num_queries):
    with django_assert_num_queries(0):
        response = error_pages.server_error(RequestFactory().get("/somewhere/"))
    page = response.content.decode()
    assert response.status_code == 500 and "Something went wrong on our side" in page
    assert 'class="topbar"' in page and "css/site.css" in page and 'href="/"' in page


def test_the_model_page_links_its_card_picture_to_a_view_that_serves_it(admin_client, art_model):
    from translator import services

    services.set_model_preview(art_model=art_model, jpeg_bytes=b"\xff\xd8card")
    art_model.refresh_from_db()
    page = admin_client.get(reverse("admin:translator_artmodel_change", args=[art_model.pk])).content.decode()
    url = reverse("admin:translator_artmodel_card", args=[art_model.pk])
    assert f'href="{url}"' in page and f'src="{url}"' in page
    assert f'href="/media/{art_model.preview.name}"' not in page
    card = admin_client.get(url)
    assert card.status_code == 200 and b"".join(card.streaming_content) == b"\xff\xd8card"
