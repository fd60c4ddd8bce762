"""A hostile file name never reaches the filesystem and never breaks an upload.

Uploads past FILE_UPLOAD_MAX_MEMORY_SIZE (5 MB) are written to a temporary file while the
request is read; Django's own handler named it after the client's extension, so a long one
was an ENAMETOOLONG server error. The name is kept only as a cleaned label (Photo.original_name).
"""
import re

import pytest

from translator.models import Photo

pytestmark = pytest.mark.django_db

FIVE_MB = 5 * 1024 * 1024


@pytest.fixture
def big_photo(make_image_bytes):
    """A real JPEG over 5 MB (6 MB of padding after its end), so it goes to a temporary file."""
    return make_image_bytes("JPEG") + b"\0" * (6 * 1024 * 1024)


@pytest.mark.parametrize(
    "name",
    [b"x" * 300 + b".jpg", b"photo." + b"j" * 300, "ф" * 300 + ".jpg"],
    ids=["300-char-name", "300-char-extension", "300-cyrillic-chars"],
)
def test_an_upload_over_5_mb_with_a_300_character_name_is_accepted(door, big_photo, name, settings):
    assert settings.FILE_UPLOAD_MAX_MEMORY_SIZE == FIVE_MB and len(big_photo) > FIVE_MB
    response = door.upload(big_photo, name)
    assert door.accepted(response), response.content[:500]
    photo = Photo.objects.get()
    assert 0 < len(photo.original_name) <= 255
    assert re.fullmatch(rf"photos/{photo.owner_id}/[0-9a-f]{{32}}\.jpeg", photo.image.name)


# What the client sends in the Content-Disposition header -> the label kept, "" when the name
# is left with nothing to show (it is only a label).
HOSTILE_NAMES = [
    (b"../../../etc/passwd.jpg", "passwd.jpg"),
    (b"..\\..\\windows\\win.ini.jpg", "win.ini.jpg"),
    (b"photo\x00.php.jpg", "photo.php.jpg"),
    (b"bell\x07\x1b[31mred\x7f.jpg", "bell[31mred.jpg"),
    ("holiday\u202egpj.exe".encode(), "holidaygpj.exe"),  # would display as "holidayexe.jpg"
    ("zero\u200bwidth\ufeff.jpg".encode(), "zerowidth.jpg"),
    (b"<img src=x onerror=alert(1)>.jpg", "<img src=x onerror=alert(1)>.jpg"),
    (b"   .hidden.jpg.  ", "hidden.jpg"),
    (b"photo." + b"x" * 300, None),
]


@pytest.mark.parametrize("name, label", HOSTILE_NAMES, ids=[repr(n[:24]) for n, _ in HOSTILE_NAMES])
@pytest.mark.parametrize("size", ["in-memory", "temporary-file"])
def test_a_hostile_name_is_cleaned_to_a_label(door, make_image_bytes, settings, name, label, size):
    if size == "temporary-file":
        # The same handler that takes every upload past 5 MB, without sending 5 MB each time.
        settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024
    response = door.upload(make_image_bytes("JPEG", size=(64, 48), noise=True), name)
    assert door.accepted(response), response.content[:500]
    photo = Photo.objects.get()
    if label is not None:
        assert photo.original_name == label
    assert len(photo.original_name) <= 255
    assert not re.search(r"[/\\\x00-\x1f\x7f\u200b\u202e\ufeff]", photo.original_name)
    assert re.fullmatch(rf"photos/{photo.owner_id}/[0-9a-f]{{32}}\.jpeg", photo.image.name)
    if door.name == "web" and "<img" in photo.original_name:
        # The label is shown to its owner escaped, as text.
        page = door.client.get(f"/gallery/{photo.conversions.get().id}/").content.decode()
        assert "&lt;img src=x onerror=alert(1)&gt;.jpg" in page and "<img src=x" not in page


@pytest.mark.parametrize("name", [b"", b"/", b"\x00\x01", b"\xe2\x80\xae"], ids=["empty", "slash", "controls", "rtl-only"])
def test_a_name_with_nothing_left_to_show_is_a_missing_photo_in_words(door, make_image_bytes, name, assert_nothing_stored):
    # Django reads a file part whose name is empty once cleaned (what browsers send for an
    # empty file input) as no file, or (an empty name, in DRF) as a text field: a 400 either way.
    message = door.refusal(door.upload(make_image_bytes("JPEG"), name))
    assert "Choose a photo to upload." in message or "Send the photo as a file" in message, message
    assert_nothing_stored()
