"""The two doors into one upload, the web form and the REST API: tests here go through both.

Bodies are built by hand (`multipart`), so a file name reaches the server exactly as a hostile
client would send it; the test clients' own encoders would tidy it on the way.
"""
import html
import io
import re

import pytest
from PIL import Image
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from translator.models import Conversion, Photo

BOUNDARY = "restyle-bad-input-7f3a9c"
CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}"


def _bytes(value):
    return value if isinstance(value, bytes) else str(value).encode()


def multipart(fields=(), files=()):
    """A multipart/form-data body: `fields` are (name, value) pairs, `files` are
    (field, file name, content[, content type]); names and values may be str or raw bytes."""
    out = io.BytesIO()
    for name, value in fields:
        out.write(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode())
        out.write(_bytes(value) + b"\r\n")
    for field, filename, content, *content_type in files:
        out.write(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{field}"; filename="'.encode())
        out.write(_bytes(filename) + b'"\r\nContent-Type: ' + _bytes((content_type or ["image/jpeg"])[0]) + b"\r\n\r\n")
        out.write(content + b"\r\n")
    out.write(f"--{BOUNDARY}--\r\n".encode())
    return out.getvalue()


class Door:
    """One way in: `post` a multipart body, then read the answer as accepted or refused."""

    def __init__(self, name, client, url, model_field, accepted_status, art_model):
        self.name, self.client, self.url = name, client, url
        self.model_field, self.accepted_status, self.art_model = model_field, accepted_status, art_model

    def __repr__(self):
        return f"<{self.name} door>"

    def post(self, files=(), fields=(), *, with_model=True):
        fields = list(fields) + ([(self.model_field, self.art_model.pk)] if with_model else [])
        return self.client.post(self.url, data=multipart(fields, files), content_type=CONTENT_TYPE)

    def upload(self, content, name="photo.jpg", field="image"):
        return self.post([(field, name, content)])

    def accepted(self, response):
        return response.status_code == self.accepted_status

    def refusal(self, response):
        """The message of a refusal; fails unless the answer is a 4xx that says something."""
        assert 400 <= response.status_code < 500, (response.status_code, response.content[:500])
        if self.name == "api":
            body = response.json()
            assert body.get("code") and body.get("message"), body
            words = [body["message"], *(m for ms in body.get("fields", {}).values() for m in ms)]
        else:
            assert response["Content-Type"].startswith("text/html"), response["Content-Type"]
            page = response.content.decode()
            assert 'class="topbar"' in page, "the refusal is not a page of the site"
            words = [html.unescape(re.sub(r"<[^>]+>", "", m)).strip() for m in re.findall(r'role="alert">(.*?)</', page, re.S)]
        message = " ".join(w for w in words if w)
        assert message, f"a refusal without words: {response.content[:500]!r}"
        return message

    def original_url(self, conversion):
        if self.name == "api":
            return f"/api/v1/conversions/{conversion.id}/original/"
        return f"/gallery/{conversion.id}/original"


@pytest.fixture
def web_door(client, user, art_model):
    client.force_login(user)
    return Door("web", client, "/", "art_model", 302, art_model)


@pytest.fixture
def browser_door(user, art_model):
    """The upload page with CSRF checks on, as a browser meets it (the test client skips them)."""
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    assert browser.get("/").status_code == 200  # sets the CSRF cookie, as showing the form does
    door = Door("web", browser, "/", "art_model", 302, art_model)
    post = door.post
    door.post = lambda files=(), fields=(), **kw: post(
        files, [("csrfmiddlewaretoken", browser.cookies["csrftoken"].value), *fields], **kw
    )
    return door


@pytest.fixture
def api_door(user, art_model, settings):
    settings.RESTYLE_UPLOAD_RATE = "100000/hour"  # the API's throttle is tested elsewhere
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return Door("api", api, "/api/v1/conversions/", "model", 202, art_model)


@pytest.fixture(params=["web", "api"])
def door(request):
    """Each test that takes `door` runs twice: through the upload page and through the API."""
    return request.getfixturevalue(f"{request.param}_door")


@pytest.fixture
def assert_nothing_stored(list_stored_files):
    def check():
        assert not Photo.objects.exists(), list(Photo.objects.values("original_name", "image"))
        assert not Conversion.objects.exists()
        assert list_stored_files() == []

    return check


def stored_image(photo):
    """The stored file's bytes and the image they decode to (fully loaded)."""
    with photo.image.open("rb") as fh:
        data = fh.read()
    image = Image.open(io.BytesIO(data))
    image.load()
    return data, image


@pytest.fixture
def read_stored():
    return stored_image


def ends_where_the_image_ends(data, fmt):
    """Nothing rides after the image: the file stops at PNG's IEND, JPEG's EOI, WebP's RIFF size."""
    if fmt == "PNG":
        return data.endswith(b"IEND\xaeB`\x82")
    if fmt == "JPEG":
        return data.endswith(b"\xff\xd9")
    return data[:4] == b"RIFF" and int.from_bytes(data[4:8], "little") + 8 == len(data)


@pytest.fixture
def assert_stored_clean():
    """An accepted upload stored re-encoded: nothing appended, no metadata, the row true to it.
    (Not "different from the upload": an upload Pillow made with our settings comes out the same.)"""

    def check(photo):
        data, image = stored_image(photo)
        assert ends_where_the_image_ends(data, photo.format), data[-32:]
        assert image.format == photo.format
        assert (image.width, image.height) == (photo.width, photo.height)
        assert photo.size_bytes == len(data) == photo.image.size
        assert not image.getexif(), dict(image.getexif())
        for key in ("exif", "xmp", "XML:com.adobe.xmp", "comment", "Comment", "Raw profile type exif"):
            assert key not in image.info, (key, image.info.get(key))
        assert re.fullmatch(rf"photos/{photo.owner_id}/[0-9a-f]{{32}}\.{photo.format.lower()}", photo.image.name)
        return data, image

    return check


@pytest.fixture
def finished_conversion(user, art_model, make_image_bytes):
    """A conversion with every file a job leaves: original, progress image, result, thumbnail."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from translator import services

    jpeg = make_image_bytes("JPEG", size=(32, 32))
    conversion = services.create_conversion(
        owner=user, upload=SimpleUploadedFile("cat.png", make_image_bytes("PNG")), art_model=art_model
    )
    claim = services.claim_conversion(conversion_id=conversion.id, worker="test")
    assert claim
    services.record_progress(claim=claim, progress=0.5, intermediate_jpeg=jpeg)
    return services.finish_conversion(
        claim=claim, result_bytes=jpeg, result_ext="jpg", thumbnail_bytes=jpeg,
        load_seconds=0.1, run_seconds=0.2,
    )


def file_url(door, conversion, kind):
    if door.name == "api":
        return f"/api/v1/conversions/{conversion.id}/{kind}/"
    return f"/gallery/{conversion.id}/{kind}"


@pytest.fixture
def url_of():
    return file_url
