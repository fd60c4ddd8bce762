"""What is stored, and served back, is never the uploaded bytes: every accepted photo (and
Gatys style image) is decoded, turned upright and encoded again in its own format, keeping
only its colour profile. Appended scripts and archives, EXIF with GPS, XMP and comments go."""
import io
import zipfile

import pytest
from PIL import Image, ImageChops, ImageCms, JpegImagePlugin

from translator.models import Conversion, Photo

pytestmark = pytest.mark.django_db

ORIENTATION, MAKE, GPS_IFD = 0x0112, 0x010F, 0x8825
XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description>secret place</rdf:Description></rdf:RDF></x:xmpmeta>'
SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def exif_with_gps(orientation=1):
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[MAKE] = "Secret Camera Co"
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (52.0, 22.0, 31.5), 3: "E", 4: (4.0, 53.0, 12.0)})
    return exif


def marked_photo(size=(400, 600)):
    """Grey, with a red block at the stored top-left corner: where it lands shows the rotation."""
    image = Image.new("RGB", size, (128, 128, 128))
    image.paste((255, 0, 0), (0, 0, 40, 40))
    return image


def encode(image, fmt, **options):
    buf = io.BytesIO()
    image.save(buf, fmt, **options)
    return buf.getvalue()


def served(door, conversion):
    response = door.client.get(door.original_url(conversion))
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def the_upload(door, response):
    assert door.accepted(response), response.content[:500]
    return Conversion.objects.get()


def test_a_png_with_a_script_appended_is_stored_and_served_without_it(door, make_image_bytes, assert_stored_clean):
    png = make_image_bytes("PNG", size=(64, 48), noise=True)
    upload = png + b"<html><script>alert(document.cookie)</script></html>"
    conversion = the_upload(door, door.upload(upload, "cat.png"))
    data, image = assert_stored_clean(conversion.photo)
    assert b"<script" not in data and b"<script" not in served(door, conversion)
    # PNG is re-encoded lossless: the very same pixels.
    assert not ImageChops.difference(image.convert("RGB"), Image.open(io.BytesIO(png)).convert("RGB")).getbbox()


def test_a_jpeg_with_a_zip_appended_is_stored_without_it(door, make_image_bytes, assert_stored_clean):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("payload.txt", "hidden")
    upload = make_image_bytes("JPEG", size=(64, 48), noise=True) + archive.getvalue()
    conversion = the_upload(door, door.upload(upload, "cat.jpg"))
    data, _ = assert_stored_clean(conversion.photo)
    assert b"PK\x03\x04" not in data and b"payload.txt" not in served(door, conversion)


def test_gps_exif_xmp_and_comments_are_gone_and_the_orientation_is_applied(door, assert_stored_clean):
    # 400x600 as stored, EXIF orientation 6: shown (and now stored) as 600x400, turned clockwise.
    upload = encode(
        marked_photo((400, 600)), "JPEG", quality=95, exif=exif_with_gps(orientation=6),
        xmp=XMP, comment=b"taken at home", icc_profile=SRGB,
    )
    response = door.upload(upload, "home.jpg")
    conversion = the_upload(door, response)
    photo = conversion.photo
    assert (photo.width, photo.height) == (600, 400)
    if door.name == "api":
        assert response.json()["photo"] | {"name": "home.jpg"} == {"name": "home.jpg", "format": "JPEG", "width": 600, "height": 400}
    data, image = assert_stored_clean(photo)
    for secret in (b"Secret Camera", b"secret place", b"taken at home", b"GPS"):
        assert secret not in data
    assert served(door, conversion) == data
    # The red block, at the stored top-left before, is at the top-right once turned clockwise.
    red = image.convert("RGB")
    assert red.getpixel((580, 20))[0] > 200 and red.getpixel((20, 20))[0] < 160
    assert image.info["icc_profile"] == SRGB  # colour, not privacy: kept


@pytest.mark.parametrize("orientation, size", [(1, (400, 600)), (3, (400, 600)), (6, (600, 400)), (8, (600, 400))])
def test_every_orientation_is_stored_upright_with_its_true_size(door, orientation, size, read_stored):
    upload = encode(marked_photo((400, 600)), "JPEG", quality=95, exif=exif_with_gps(orientation))
    photo = the_upload(door, door.upload(upload)).photo
    _, image = read_stored(photo)
    assert (photo.width, photo.height) == image.size == size
    assert not image.getexif()


@pytest.mark.parametrize("subsampling, expected", [("4:4:4", 0), ("4:2:2", 0), ("4:2:0", 2)])
def test_jpeg_is_quality_95_and_keeps_its_colour_resolution(door, subsampling, expected, read_stored):
    upload = encode(marked_photo((64, 48)), "JPEG", quality=80, subsampling=subsampling)
    photo = the_upload(door, door.upload(upload)).photo
    _, image = read_stored(photo)
    assert JpegImagePlugin.get_sampling(image) == expected
    quality_95 = Image.open(io.BytesIO(encode(Image.new("RGB", (8, 8)), "JPEG", quality=95))).quantization
    assert image.quantization == quality_95 != Image.open(io.BytesIO(upload)).quantization


def test_a_lossless_webp_stays_lossless_and_a_lossy_one_is_quality_95(door, make_image_bytes, read_stored):
    lossless = make_image_bytes("WEBP", size=(64, 48), noise=True, lossless=True)
    photo = the_upload(door, door.upload(lossless, "shot.webp")).photo
    data, image = read_stored(photo)
    assert b"VP8L" in data[:64]
    assert not ImageChops.difference(image.convert("RGB"), Image.open(io.BytesIO(lossless)).convert("RGB")).getbbox()
    Conversion.objects.all().delete()

    lossy = make_image_bytes("WEBP", size=(64, 48), noise=True, quality=70)
    photo = the_upload(door, door.upload(lossy, "photo.webp")).photo
    data, _ = read_stored(photo)
    assert b"VP8 " in data[:64] and b"VP8L" not in data[:64]


def test_png_transparency_and_modes_survive_re_encoding(door, read_stored):
    palette = Image.new("P", (32, 32), 1)
    palette.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    for source in (palette, Image.new("RGBA", (32, 32), (1, 2, 3, 100)), Image.new("LA", (32, 32), (9, 50)), Image.new("I;16", (32, 32), 40000)):
        options = {"transparency": 0} if source.mode == "P" else {}
        upload = encode(source, "PNG", **options)
        photo = the_upload(door, door.upload(upload, "art.png")).photo
        _, image = read_stored(photo)
        assert image.mode == source.mode
        assert image.info.get("transparency") == options.get("transparency")
        assert image.tobytes() == source.tobytes()
        Conversion.objects.all().delete()
        Photo.objects.all().delete()


def test_the_gatys_style_image_is_re_encoded_the_same_way(door, gatys_model, make_image_bytes, assert_stored_clean):
    door.art_model = gatys_model
    photo = make_image_bytes("JPEG", size=(64, 48))
    style = encode(marked_photo((48, 64)), "JPEG", exif=exif_with_gps(6)) + b"<script>x</script>"
    response = door.post([("image", "p.jpg", photo), ("style_image", "starry.jpg", style)])
    conversion = the_upload(door, response)
    data, _ = assert_stored_clean(conversion.style_image)
    assert (conversion.style_image.width, conversion.style_image.height) == (64, 48)
    assert b"<script" not in data and b"Secret Camera" not in data
