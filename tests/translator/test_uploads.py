"""Bad uploads get a clear message on the form, and nothing is stored or queued."""
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from translator.models import Conversion, Photo

pytestmark = pytest.mark.django_db


def png_header_only(width, height):
    """A PNG whose header claims `width` x `height` pixels but carries almost no data."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def post(client, art_model, upload):
    return client.post(reverse("translator:upload"), {"image": upload, "art_model": art_model.pk})


def assert_refused(response, message, list_stored_files):
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert message in " ".join(errors.get("image", [])), errors
    assert message in response.content.decode()
    assert Photo.objects.count() == 0
    assert Conversion.objects.count() == 0
    assert list_stored_files() == []


def test_a_jpeg_png_or_webp_is_accepted_and_queued(alice, art_model, upload_file, list_stored_files):
    for fmt, name in (("JPEG", "a.jpg"), ("PNG", "b.png"), ("WEBP", "c.webp")):
        response = post(alice, art_model, upload_file(name, fmt))
        assert response.status_code == 302
    assert sorted(Photo.objects.values_list("format", flat=True)) == ["JPEG", "PNG", "WEBP"]
    assert set(Conversion.objects.values_list("status", flat=True)) == {"queued"}
    assert len(list_stored_files("photos")) == 3


def test_the_format_comes_from_the_bytes_not_the_name(alice, art_model, upload_file):
    response = post(alice, art_model, upload_file("holiday.jpg", "PNG"))
    assert response.status_code == 302
    photo = Photo.objects.get()
    assert photo.format == "PNG"
    assert photo.image.name.endswith(".png")
    assert photo.original_name == "holiday.jpg"


def test_an_empty_file_is_refused(alice, art_model, list_stored_files):
    response = post(alice, art_model, SimpleUploadedFile("empty.jpg", b""))
    # Django's own FileField refuses empty files before our check; the words must still be clear.
    assert response.status_code == 400
    assert "empty" in response.content.decode()
    assert Photo.objects.count() == 0 and Conversion.objects.count() == 0
    assert list_stored_files() == []


def test_a_file_over_the_size_limit_is_refused(alice, art_model, upload_file, settings, list_stored_files):
    settings.RESTYLE_MAX_UPLOAD_BYTES = 50 * 1024
    upload = upload_file("big.png", "PNG", size=(200, 200), noise=True)
    response = post(alice, art_model, upload)
    assert_refused(response, "The file is 118 KB; the limit is 50 KB.", list_stored_files)


def test_a_text_file_named_like_a_photo_is_refused(alice, art_model, list_stored_files):
    upload = SimpleUploadedFile("photo.jpg", b"this is not an image at all\n" * 10)
    assert_refused(post(alice, art_model, upload), "not an image we can read", list_stored_files)


def test_another_image_format_is_refused_by_name(alice, art_model, upload_file, list_stored_files):
    response = post(alice, art_model, upload_file("anim.gif", "GIF"))
    assert_refused(response, "GIF files are not accepted", list_stored_files)


def test_a_truncated_jpeg_is_refused(alice, art_model, make_image_bytes, list_stored_files):
    whole = make_image_bytes("JPEG", size=(256, 256), noise=True, quality=95)
    upload = SimpleUploadedFile("cut.jpg", whole[: len(whole) // 2])
    assert_refused(post(alice, art_model, upload), "damaged or incomplete", list_stored_files)


def test_an_image_over_the_pixel_limit_is_refused_before_decoding(alice, art_model, list_stored_files):
    upload = SimpleUploadedFile("huge.png", png_header_only(6000, 4000))
    assert_refused(post(alice, art_model, upload), "6000×4000 pixels (24.0 megapixels)", list_stored_files)


def test_a_decompression_bomb_is_refused(alice, art_model, settings, list_stored_files):
    # With our own limit lifted, Pillow's bomb guard is what stops it.
    settings.RESTYLE_MAX_PIXELS = 10**12
    upload = SimpleUploadedFile("bomb.png", png_header_only(60_000, 60_000))
    assert_refused(post(alice, art_model, upload), "too large to process", list_stored_files)


def test_a_tiny_image_is_refused(alice, art_model, upload_file, list_stored_files):
    response = post(alice, art_model, upload_file("dot.png", "PNG", size=(8, 8)))
    assert_refused(response, "at least 16 pixels", list_stored_files)


def test_a_missing_file_or_model_is_a_form_error(alice, art_model, upload_file):
    response = alice.post(reverse("translator:upload"), {"art_model": art_model.pk})
    assert response.status_code == 400
    assert "Choose a photo to upload." in response.content.decode()
    response = alice.post(reverse("translator:upload"), {"image": upload_file()})
    assert response.status_code == 400
    assert "Choose a model." in response.content.decode()
    assert Conversion.objects.count() == 0


def test_an_inactive_or_unknown_model_cannot_be_chosen(alice, art_model, upload_file, list_stored_files):
    art_model.is_active = False
    art_model.save()
    response = post(alice, art_model, upload_file())
    assert response.status_code == 400
    assert "That model is not available" in response.content.decode()
    response = alice.post(reverse("translator:upload"), {"image": upload_file(), "art_model": 9999})
    assert response.status_code == 400
    assert Photo.objects.count() == 0 and list_stored_files() == []
