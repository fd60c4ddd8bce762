"""A file the database names but storage has lost is a 404 that says so, never a 500."""
import os

import pytest

from translator import services

pytestmark = pytest.mark.django_db

KINDS = ["original", "intermediate", "result", "thumbnail"]


@pytest.mark.parametrize("kind", KINDS)
def test_a_file_missing_from_storage_is_a_404_with_a_message(door, finished_conversion, kind, url_of):
    url = url_of(door, finished_conversion, kind)
    assert door.client.get(url).status_code == 200
    field = finished_conversion.photo.image if kind == "original" else getattr(finished_conversion, kind)
    os.remove(field.path)
    response = door.client.get(url)
    assert response.status_code == 404
    if door.name == "api":
        assert response.json() == {"code": "not_found", "message": f"The {kind} file is missing: it is no longer in storage."}
    # The other files are still served.
    other = next(k for k in KINDS if k != kind)
    assert door.client.get(url_of(door, finished_conversion, other)).status_code == 200


def test_a_missing_style_image_is_a_404(door, user, gatys_model, make_image_bytes, url_of):
    from django.core.files.uploadedfile import SimpleUploadedFile

    conversion = services.create_conversion(
        owner=user, art_model=gatys_model,
        upload=SimpleUploadedFile("p.jpg", make_image_bytes()), style_upload=SimpleUploadedFile("s.jpg", make_image_bytes()),
    )
    url = url_of(door, conversion, "style")
    assert door.client.get(url).status_code == 200
    os.remove(conversion.style_image.image.path)
    response = door.client.get(url)
    assert response.status_code == 404
    if door.name == "api":
        assert "missing" in response.json()["message"]


def test_a_missing_model_preview_is_a_404(client, art_model, make_image_bytes):
    services.set_model_preview(art_model=art_model, jpeg_bytes=make_image_bytes("JPEG"))
    url = f"/models/{art_model.slug}/preview"
    assert client.get(url).status_code == 200
    os.remove(art_model.preview.path)
    assert client.get(url).status_code == 404
