"""The version's page in the admin offers the export: the form posts to the admin's export URL,
the page's table shows each export's state, parity and file size (read on each load), and the
download link serves the stored bytes, to staff only."""
import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import reverse

from translator.models import ModelExport
from translator.tasks import export_model_version

pytestmark = pytest.mark.django_db

Status = ModelExport.Status


@pytest.fixture
def version(art_model):
    return art_model.current_version


def change_page(client, version):
    page = client.get(reverse("admin:translator_modelversion_change", args=[version.pk]))
    assert page.status_code == 200
    return page.content.decode()


def export_table(html):
    match = re.search(r'<table id="export-table">(.*?)</table>', html, re.DOTALL)
    return match.group(1) if match else ""


def post_export(client, version, **data):
    return client.post(reverse("admin:translator_modelversion_export", args=[version.pk]),
                       {"format": "onnx", "width": "48", "height": "32", **data}, follow=True)


def test_the_form_posts_the_table_shows_the_row_and_the_download_serves_the_file(admin_client, version, media_root):
    html = change_page(admin_client, version)
    assert 'id="export-form"' in html and "The file takes the width and height given here only" in html
    assert export_table(html) == ""

    page = post_export(admin_client, version, format="torchscript")
    assert page.redirect_chain[-1][0].endswith(f"/{version.pk}/change/#exports")
    assert "The TorchScript export at 48x32 is queued" in page.content.decode()
    queued = export_table(page.content.decode())
    assert "TorchScript" in queued and "48×32" in queued and "Queued" in queued and "Download" not in queued

    export = ModelExport.objects.get()
    assert (export.format, export.width, export.height, export.requested_by.username) == ("torchscript", 48, 32, "admin")
    export_model_version(export.pk)  # the worker's turn
    export.refresh_from_db()
    done = export_table(change_page(admin_client, version))  # a reload shows the new state
    assert "Done" in done and "/255, max " in done and "KB" in done
    link = reverse("admin:translator_modelversion_export_download", args=[version.pk, export.pk])
    assert f'href="{link}"' in done and "tiny-v1-48x32.pt" in done

    download = admin_client.get(link)
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == (media_root / export.file.name).read_bytes()
    assert download["Content-Disposition"] == 'attachment; filename="tiny-v1-48x32.pt"; filename*=UTF-8\'\'tiny-v1-48x32.pt'
    assert download["Content-Type"] == "application/octet-stream"


def test_a_refused_request_shows_its_reason_and_queues_nothing(admin_client, version):
    post_export(admin_client, version)
    page = post_export(admin_client, version).content.decode()  # the same again, still queued
    assert "is already queued or running" in page
    page = post_export(admin_client, version, width="4096").content.decode()
    assert "Width:" in page and "less than or equal to 2048" in page
    assert ModelExport.objects.count() == 1


def test_a_failed_export_shows_its_error_in_the_table(admin_client, version, monkeypatch):
    from mlcore.runtime import graph

    honest = graph.TranslatePath.forward
    monkeypatch.setattr(graph.TranslatePath, "forward", lambda self, x: honest(self, x) + 0.1)
    post_export(admin_client, version, format="torchscript")
    export_model_version(ModelExport.objects.get().pk)
    table = export_table(change_page(admin_client, version))
    assert "Failed" in table and "Parity check failed, nothing was kept" in table and "Download" not in table


def test_a_gatys_version_page_says_why_it_has_no_export(admin_client, gatys_model):
    html = change_page(admin_client, gatys_model.current_version)
    assert "cannot be exported: it has no network" in html and 'id="export-form"' not in html


def test_the_download_of_an_unfinished_export_is_a_404(admin_client, version):
    post_export(admin_client, version)
    export = ModelExport.objects.get()
    assert admin_client.get(reverse("admin:translator_modelversion_export_download",
                                    args=[version.pk, export.pk])).status_code == 404


def test_only_staff_reach_the_export_urls(client, user, version, admin_user):
    export = ModelExport.objects.create(version=version, format="onnx", height=32, width=32, status=Status.SUCCEEDED,
                                        file="versions/x/exports/secret.onnx")
    export_url = reverse("admin:translator_modelversion_export", args=[version.pk])
    download_url = reverse("admin:translator_modelversion_export_download", args=[version.pk, export.pk])
    for who in (None, user):  # nobody, then a signed-in user who is not staff
        if who:
            client.force_login(who)
        for url in (export_url, download_url):
            response = client.post(url, {"format": "onnx", "width": "32", "height": "32"}) if url == export_url \
                else client.get(url)
            assert response.status_code == 302 and "/admin/login/" in response["Location"], (who, url)
    # Staff without the permissions for model versions: refused.
    clerk = get_user_model().objects.create_user("clerk", password="clerk-password-1", is_staff=True)
    client.force_login(clerk)
    assert client.post(export_url, {"format": "onnx", "width": "64", "height": "64"}).status_code == 403
    assert client.get(download_url).status_code == 403
    # Allowed to look but not to change: may download, may not export.
    clerk.user_permissions.add(Permission.objects.get(codename="view_modelversion"))
    client.force_login(get_user_model().objects.get(pk=clerk.pk))
    assert client.post(export_url, {"format": "onnx", "width": "64", "height": "64"}).status_code == 403
    assert client.get(download_url).status_code == 404  # past the permission check: the file is not there
    assert ModelExport.objects.count() == 1


def test_the_exports_list_in_the_admin_is_read_only(admin_client, version):
    post_export(admin_client, version)
    export = ModelExport.objects.get()
    listing = admin_client.get(reverse("admin:translator_modelexport_changelist")).content.decode()
    assert "Tiny v1" in listing and "48×32" in listing and "Queued" in listing
    assert admin_client.get(reverse("admin:translator_modelexport_add")).status_code == 403
    change = reverse("admin:translator_modelexport_change", args=[export.pk])
    assert admin_client.get(change).status_code == 200
    admin_client.post(change, {"width": "64", "status": "succeeded"})
    export.refresh_from_db()
    assert (export.width, export.status) == (48, Status.QUEUED)
