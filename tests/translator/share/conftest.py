import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ExifTags, Image

from translator import services
from translator.models import Album, AlbumItem
from translator.tasks import run_conversion

# What a phone writes into a photo and a shared page must not give away.
CAMERA = "SnoopCam"
XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description>HomeAddress</rdf:Description></rdf:RDF></x:xmpmeta>'


def photo_with_metadata(size=(64, 48), orientation=6):
    """A JPEG as a phone writes it: camera make and model, GPS position, time taken, XMP, a
    comment, and an orientation of 6 (stored on its side)."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = CAMERA
    exif[ExifTags.Base.Model] = "Model 9"
    exif[ExifTags.Base.DateTimeOriginal] = "2026:07:01 12:00:00"
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (51.0, 30.0, 12.5),
        ExifTags.GPS.GPSLongitudeRef: "W", ExifTags.GPS.GPSLongitude: (0.0, 7.0, 40.0),
    }
    image = Image.new("RGB", size, (30, 140, 200))
    for x in range(size[0] // 2):  # a left half of another colour, to see which way is up
        for y in range(size[1]):
            image.putpixel((x, y), (220, 60, 40))
    buf = io.BytesIO()
    image.save(buf, "JPEG", exif=exif, xmp=XMP, comment=b"taken at home")
    return buf.getvalue()


def assert_no_metadata(body):
    """Pillow finds no EXIF, XMP or comment in `body`, and none of their words are in its bytes."""
    image = Image.open(io.BytesIO(body))
    assert dict(image.getexif()) == {}
    assert not {"exif", "xmp", "XML:com.adobe.xmp", "comment"} & set(image.info)
    for word in (CAMERA.encode(), b"HomeAddress", b"taken at home", b"Exif\x00\x00"):
        assert word not in body
    return image


@pytest.fixture
def finished(user, art_model):
    """A conversion of alice's, run through the real task (the tiny network), of a photo that
    came with a phone's metadata."""

    def make(owner=None, name="IMG_0042.jpg"):
        conversion = services.create_conversion(
            owner=owner or user, upload=SimpleUploadedFile(name, photo_with_metadata()), art_model=art_model
        )
        run_conversion(str(conversion.id))
        conversion.refresh_from_db()
        assert conversion.status == "succeeded" and conversion.result
        return conversion

    return make


@pytest.fixture
def album_of(user):
    def make(name, *conversions, owner=None):
        album = Album.objects.create(owner=owner or user, name=name)
        for conversion in conversions:
            AlbumItem.objects.create(album=album, conversion=conversion)
        return album

    return make


@pytest.fixture
def link_to(user):
    def make(target, **choices):
        kind = "album" if isinstance(target, Album) else "conversion"
        return services.create_share_link(owner=target.owner, **{kind: target}, **choices)

    return make
