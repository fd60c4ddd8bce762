"""Generated images in the Django admin: listed with their settings and filterable, read-only,
never added there; deleting one there removes its files too."""
import pytest
from django.urls import reverse

from translator import services
from translator.models import Generation

pytestmark = pytest.mark.django_db


def test_the_list_shows_owner_version_kind_seed_truncation_status_and_saved(admin_client, user, stylegan2_model, run_all):
    services.create_grid(owner=user, art_model=stylegan2_model, seeds="12345", truncation=0.35)
    run_all()
    services.save_generation(generation=Generation.objects.get())
    page = admin_client.get(reverse("admin:translator_generation_changelist"))
    html = page.content.decode()
    assert page.status_code == 200
    for column in ("Owner", "Model version", "Kind", "Seed", "Truncation", "Status", "Saved", "Created at"):
        assert column in html, column
    assert "alice" in html and "Tiny GAN v1" in html and "12345" in html and "0.35" in html
    assert "From a seed" in html and "Done" in html


def test_the_filters_narrow_the_list(admin_client, user, stylegan2_model, run_all):
    services.create_grid(owner=user, art_model=stylegan2_model, seeds="777001")
    run_all()
    services.create_grid(owner=user, art_model=stylegan2_model, seeds="777002")  # still queued
    url = reverse("admin:translator_generation_changelist")
    done = admin_client.get(url, {"status__exact": "succeeded"}).content.decode()
    assert "777001" in done and "777002" not in done
    queued = admin_client.get(url, {"status__exact": "queued", "saved__exact": "0", "kind__exact": "seed"}).content.decode()
    assert "777002" in queued and "777001" not in queued


def test_there_is_no_add_and_an_image_is_read_only(admin_client, user, stylegan2_model, run_all):
    [row] = services.create_grid(owner=user, art_model=stylegan2_model, seeds="5")
    assert admin_client.get(reverse("admin:translator_generation_add")).status_code == 403
    change = reverse("admin:translator_generation_change", args=[row.pk])
    assert admin_client.get(change).status_code == 200
    admin_client.post(change, {"seed": "6", "status": "succeeded", "saved": "on"})
    row.refresh_from_db()
    assert (row.seed, row.status, row.saved) == (5, Generation.Status.QUEUED, False)


def test_deleting_in_the_admin_removes_the_files(admin_client, user, stylegan2_model, run_all, list_stored_files,
                                                 django_capture_on_commit_callbacks):
    [row] = services.create_grid(owner=user, art_model=stylegan2_model, seeds="8")
    run_all()
    row.refresh_from_db()
    assert len(list_stored_files("generations")) == 3  # image, thumbnail, latent
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse("admin:translator_generation_delete", args=[row.pk]), {"post": "yes"})
    assert not Generation.objects.exists()
    assert list_stored_files("generations") == []
