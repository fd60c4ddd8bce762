"""Every image we serve says what it is (from the stored format, never the client's word, never
sniffed) and carries a Content-Security-Policy of its own that allows nothing but the image."""
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from translator import services

pytestmark = pytest.mark.django_db

MEDIA_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
KINDS = {"original": "image/png", "intermediate": "image/jpeg", "result": "image/jpeg", "thumbnail": "image/jpeg"}


def assert_media_headers(response, content_type):
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == MEDIA_CSP


@pytest.mark.parametrize("kind", KINDS)
def test_conversion_files_carry_their_type_nosniff_and_their_own_csp(door, finished_conversion, kind, url_of):
    assert_media_headers(door.client.get(url_of(door, finished_conversion, kind)), KINDS[kind])
    assert_media_headers(door.client.get(url_of(door, finished_conversion, kind) + "?download=1"), KINDS[kind])


def test_the_type_comes_from_the_stored_format_not_the_name_or_the_clients_type(door, make_image_bytes, url_of):
    from translator.models import Conversion

    body = door.post([("image", "page.html", make_image_bytes("WEBP"), "text/html")])
    assert door.accepted(body), body.content[:300]
    assert_media_headers(door.client.get(url_of(door, Conversion.objects.get(), "original")), "image/webp")


def test_the_style_image_and_the_model_preview_too(door, user, gatys_model, art_model, make_image_bytes, url_of):
    conversion = services.create_conversion(
        owner=user, art_model=gatys_model, upload=SimpleUploadedFile("p.jpg", make_image_bytes()),
        style_upload=SimpleUploadedFile("s.html", make_image_bytes("PNG")),
    )
    assert_media_headers(door.client.get(url_of(door, conversion, "style")), "image/png")
    services.set_model_preview(art_model=art_model, jpeg_bytes=make_image_bytes("JPEG"))
    assert_media_headers(door.client.get(f"/models/{art_model.slug}/preview"), "image/jpeg")


def test_a_page_level_csp_middleware_leaves_the_files_policy_alone(alice, finished_conversion, settings):
    """django-csp (the pages' policy) sets its header only where none is set yet."""
    pytest.importorskip("csp", reason="django-csp is not installed")
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "csp.middleware.CSPMiddleware"]
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'self'"], "script-src": ["'self'"]}}
    page = alice.get(f"/gallery/{finished_conversion.id}/")
    assert "default-src 'self'" in page["Content-Security-Policy"]
    image = alice.get(f"/gallery/{finished_conversion.id}/original")
    assert image["Content-Security-Policy"] == MEDIA_CSP
