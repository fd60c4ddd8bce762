"""The bad-input corpus, sent through the upload page and the API alike.

Whatever arrives, the answer is never a 5xx. A refusal is a 4xx with words and stores nothing
(no Photo, no Conversion, no file under the media root). An acceptance stores one photo,
re-encoded: nothing after the image's end, no metadata, its row true to the stored file.
The last test mutates real files at random (hypothesis, derandomized: the same examples on
every run) to find what the hand-written corpus did not think of.
"""
import io
import struct
import zipfile
import zlib
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, event, given, settings as hypothesis_settings, strategies as st
from PIL import Image

from translator.models import Conversion, Photo

pytestmark = pytest.mark.django_db


def encode(image, fmt, **options):
    buf = io.BytesIO()
    image.save(buf, fmt, **options)
    return buf.getvalue()


def photo(fmt="JPEG", size=(64, 48), **options):
    image = Image.effect_mandelbrot(size, (-2, -1.5, 1, 1.5), 64).convert("RGB")
    return encode(image, fmt, **options)


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_claiming(width, height):
    """A PNG header that claims width x height pixels over almost no data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(b"\0" * 64)) + png_chunk(b"IEND", b"")


def jpeg_claiming(width, height):
    """A real JPEG whose frame header (SOF0) is rewritten to claim width x height."""
    data = bytearray(photo())
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def png_with_text_bomb():
    """32x32 pixels and a 100 KB zTXt chunk that inflates to 100 MB."""
    png = encode(Image.new("RGB", (32, 32)), "PNG")
    return png[:33] + png_chunk(b"zTXt", b"Comment\0\0" + zlib.compress(b"A" * (100 << 20), 9)) + png[33:]


def exif_gps_jpeg():
    exif = Image.Exif()
    exif[0x0112] = 6
    exif.get_ifd(0x8825).update({1: "N", 2: (52.0, 22.0, 31.5)})
    return photo(size=(40, 60), exif=exif, comment=b"at home")


def with_zip(data):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("evil.sh", "rm -rf /")
    return data + buf.getvalue()


@dataclass
class Case:
    id: str
    files: list  # (field, file name, content)
    accepted: bool
    words: tuple = ()  # one of them is in the refusal
    fields: list = field(default_factory=list)
    size: tuple | None = None  # the stored (upright) size of an accepted photo


def upload(id, content, accepted, words=(), name="photo.jpg", size=None):
    return Case(id, [("image", name, content)], accepted, words, size=size)


CORPUS = [
    # Decompression bombs: refused from the header, before a pixel is decoded.
    upload("png-claiming-24-megapixels", png_claiming(6000, 4000), False, ("24.0 megapixels",)),
    upload("png-claiming-3600-megapixels", png_claiming(60000, 60000), False, ("pixels", "too large")),
    upload("jpeg-claiming-65000x65000", jpeg_claiming(65000, 65000), False, ("pixels", "too large")),
    upload("png-25-megapixels-in-80-kb", encode(Image.new("L", (5000, 5000)), "PNG"), False, ("25.0 megapixels",)),
    upload("png-text-chunk-inflating-to-100-mb", png_with_text_bomb(), False, ("damaged",)),
    # Within the limit, a tiny file may still be a big image: taken, as the real image it is.
    upload("png-16-megapixels-in-60-kb", encode(Image.new("RGB", (4000, 4000), (9, 9, 9)), "PNG"), True, size=(4000, 4000)),
    # Other formats, whatever the name says.
    upload("gif-named-jpg", encode(Image.new("P", (32, 32)), "GIF"), False, ("GIF files are not accepted",)),
    upload("bmp-named-jpg", encode(Image.new("RGB", (32, 32)), "BMP"), False, ("BMP files are not accepted",)),
    upload("tiff-named-jpg", encode(Image.new("RGB", (32, 32)), "TIFF"), False, ("TIFF files are not accepted",)),
    upload("svg-named-jpg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="64" height="64"/></svg>', False, ("not an image we can read",)),
    upload("html-named-jpg", b"<!doctype html><script>alert(document.cookie)</script>", False, ("not an image we can read",)),
    upload("html-then-png", b"<script>alert(1)</script>" + photo("PNG"), False, ("not an image we can read",)),
    # Polyglots: the image is taken, what rides after it is not.
    upload("png-plus-html", photo("PNG") + b"<html><script>alert(1)</script></html>", True, size=(64, 48)),
    upload("jpeg-plus-zip", with_zip(photo("JPEG")), True, size=(64, 48)),
    upload("webp-plus-script", photo("WEBP") + b"<script>alert(1)</script>", True, size=(64, 48)),
    # Metadata: GPS and comments gone, the orientation applied.
    upload("jpeg-with-gps-and-orientation-6", exif_gps_jpeg(), True, size=(60, 40)),
    # Hostile names: only a label.
    upload("name-with-path-and-nul", photo(), True, name=b"../../x\x00.jpg"),
    upload("name-of-300-chars", photo(), True, name=b"a" * 300 + b"." + b"b" * 300),
    upload("name-rtl-override", photo(), True, name="x\u202egpj.exe".encode()),
    # Damaged files.
    upload("jpeg-cut-in-half", photo(size=(256, 256))[:3000], False, ("damaged or incomplete",)),
    upload("png-cut-in-half", (lambda p: p[: len(p) // 2])(photo("PNG", size=(128, 128))), False, ("damaged or incomplete",)),
    upload("webp-cut-in-half", (lambda p: p[: len(p) // 2])(photo("WEBP", size=(128, 128))), False, ("damaged", "not an image")),
    upload("png-signature-only", b"\x89PNG\r\n\x1a\n", False, ("damaged", "not an image")),
    # Sizes and counts.
    upload("empty-file", b"", False, ("empty",)),
    upload("over-20-mb", photo("PNG") + b"\0" * (20 * 1024 * 1024), False, ("the limit is 20.0 MB",)),
    upload("8x8-pixels", encode(Image.new("RGB", (8, 8)), "PNG"), False, ("at least 16 pixels",)),
    Case("no-file-at-all", [], False, ("Choose a photo to upload.",)),
    Case("101-files", [("image", f"{i}.jpg", photo()) for i in range(101)], False, ("too many files",)),
    Case("1001-fields", [("image", "p.jpg", photo())], False, ("too many form fields",), fields=[(f"f{i}", "1") for i in range(1001)]),
    Case("22-mb-text-field", [("image", "p.jpg", photo())], False, ("too large",), fields=[("note", b"n" * (22 << 20))]),
]


def check_answer(door, response, assert_nothing_stored, assert_stored_clean):
    """The invariants, for any input: returns True when the upload was taken."""
    assert response.status_code < 500, response.content[:500]
    if door.accepted(response):
        stored = assert_stored_clean(Photo.objects.get())
        assert Conversion.objects.count() == 1
        return stored
    door.refusal(response)  # a 4xx with words
    assert_nothing_stored()
    return None


@pytest.mark.parametrize("case", CORPUS, ids=[c.id for c in CORPUS])
def test_the_corpus(door, case, assert_nothing_stored, assert_stored_clean):
    response = door.post(case.files, case.fields)
    stored = check_answer(door, response, assert_nothing_stored, assert_stored_clean)
    assert (stored is not None) == case.accepted, (response.status_code, response.content[:300])
    if case.accepted:
        data, image = stored
        for secret in (b"<script", b"<html", b"PK\x03\x04", b"GPS", b"at home"):
            assert secret not in data, secret
        if case.size:
            assert image.size == case.size
    else:
        message = door.refusal(response)
        assert any(w in message for w in case.words), message


SEEDS = {
    "jpeg": photo("JPEG", quality=90),
    "jpeg-exif": exif_gps_jpeg(),
    "png": photo("PNG"),
    "png-palette": encode(Image.new("P", (40, 30), 3), "PNG", transparency=3),
    "webp-lossy": photo("WEBP", quality=80),
    "webp-lossless": photo("WEBP", lossless=True),
}


@st.composite
def mutated_files(draw):
    data = bytearray(SEEDS[draw(st.sampled_from(sorted(SEEDS)))])
    for _ in range(draw(st.integers(0, 6))):
        # Half the damage goes to the first 300 bytes, where headers and EXIF live.
        at = draw(st.integers(0, min(len(data), 300 if draw(st.booleans()) else len(data)) - 1))
        how = draw(st.sampled_from(["flip", "insert", "delete", "zero"]))
        if how == "flip":
            data[at] = draw(st.integers(0, 255))
        elif how == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=32))
        elif how == "delete":
            del data[at : at + draw(st.integers(1, 64))]
        else:  # a run of zeros, as in a length field gone wrong
            data[at : at + 4] = b"\0\0\0\0"
        if not data:
            data = bytearray(b"\0")
    if draw(st.integers(0, 3)) == 0:
        data = data[: draw(st.integers(1, len(data)))]
    return bytes(data)


@hypothesis_settings(
    max_examples=150,  # about 2 s a door on a laptop core
    derandomize=True,  # the same examples every run: CI stays repeatable
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(content=mutated_files())
def test_mutated_files_never_give_a_server_error(door, content, assert_nothing_stored, assert_stored_clean):
    response = door.upload(content, "mutant.jpg")
    event(f"answered {response.status_code}")  # --hypothesis-show-statistics: how many got through
    if check_answer(door, response, assert_nothing_stored, assert_stored_clean):
        # One example's upload must not count against the next: start from nothing again.
        for photo_row in Photo.objects.all():
            photo_row.image.delete(save=False)
        Conversion.objects.all().delete()
        Photo.objects.all().delete()
