"""What a share link serves carries nothing of the photo's metadata: a phone photo's camera,
GPS position, time taken, XMP and comment are in none of the shared bytes, read with Pillow."""
import io

from django.test import Client
from PIL import Image

from .conftest import CAMERA, assert_no_metadata, photo_with_metadata


def test_the_photo_uploaded_did_carry_the_metadata():
    # The check below means something only if the upload had it.
    image = Image.open(io.BytesIO(photo_with_metadata()))
    assert image.getexif()[271] == CAMERA and image.getexif().get_ifd(0x8825)
    assert "xmp" in image.info and image.info["comment"] == b"taken at home"


def test_the_shared_result_and_thumbnail_carry_no_metadata_of_the_photo(finished, link_to):
    link = link_to(finished())
    for kind in ("result", "thumbnail"):
        answer = Client().get(f"/s/{link.token}/{kind}")
        assert answer.status_code == 200
        assert_no_metadata(b"".join(answer.streaming_content))


def test_the_shared_original_carries_no_metadata_and_is_upright(finished, link_to):
    conversion = finished()
    link = link_to(conversion, include_original=True)
    answer = Client().get(f"/s/{link.token}/original")
    assert answer.status_code == 200
    image = assert_no_metadata(answer.content)
    # The photo was 64x48 stored on its side (orientation 6): shown upright it is 48x64, with the
    # red half (the photo's left) at the top.
    assert image.size == (48, 64)
    top, bottom = image.convert("RGB").getpixel((24, 5)), image.convert("RGB").getpixel((24, 58))
    assert top[0] > 150 > bottom[0]


def test_an_album_items_files_carry_no_metadata(finished, album_of, link_to):
    conversion = finished()
    link = link_to(album_of("Walk", conversion))
    for kind in ("result", "thumbnail"):
        answer = Client().get(f"/s/{link.token}/{conversion.id}/{kind}")
        assert_no_metadata(b"".join(answer.streaming_content))


def test_a_stored_photo_that_kept_its_exif_is_still_served_without_it(finished, link_to):
    """Photos stored before uploads were re-encoded kept the camera's bytes: the shared original
    is made from the pixels, so even those go out clean."""
    conversion = finished()
    with conversion.photo.image.open("wb") as handle:  # as an old row's file would be
        handle.write(photo_with_metadata(orientation=1))
    link = link_to(conversion, include_original=True)
    answer = Client().get(f"/s/{link.token}/original")
    assert_no_metadata(answer.content)
