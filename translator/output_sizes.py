"""The output-size choice of a conversion: the long side its result may have, or the photo's own size.

The upload form, the REST API and the service share these words and values, so both ways in
offer the same choices, default to the same one and refuse a bad one with the same message.
A choice is stored on the Conversion as `output_long_side`: a number of pixels, or None for
the photo's own size. The worker never makes a result larger than the photo.
"""
from django.core.exceptions import ValidationError

LONG_SIDES = (512, 1024, 2048)
# A 12 MP phone photo converted in full takes a CPU worker a minute or more; at a long side of
# 1024 it takes seconds and is still larger than a phone's screen.
DEFAULT = 1024
ORIGINAL = "original"
TOKENS = tuple(str(side) for side in LONG_SIDES) + (ORIGINAL,)

CHOICES = [
    ("512", "Small: long side 512 px"),
    ("1024", "Medium: long side 1024 px (recommended, fastest to wait for)"),
    ("2048", "Large: long side 2048 px"),
    (ORIGINAL, "Original size (slow for large photos)"),
]

ALLOWED_WORDS = "512, 1024, 2048 or original"


def refusal(value):
    """The message for a value that is not one of the choices."""
    return f"“{value}” is not an output size. Choose one of {ALLOWED_WORDS} (the long side in pixels, or the photo's own size)."


def parse(token):
    """A choice as the form and the API send it ("1024", 1024, "original") -> long side or None."""
    text = str(token)
    if text == ORIGINAL:
        return None
    if text in TOKENS:
        return int(text)
    raise _refused(token)


def check(long_side):
    """The service's own check of what it is given (a long side or None); returns it."""
    if long_side is None or (type(long_side) is int and long_side in LONG_SIDES):
        return long_side
    raise _refused(long_side)


def _refused(value):
    error = ValidationError(refusal(value), code="output_size")
    error.field = "output_size"  # the form's and the API's name for it
    return error


def token(long_side):
    """What the API says back: "1024", or "original" for None."""
    return ORIGINAL if long_side is None else str(long_side)


def describe(long_side):
    """In words, for the job's page."""
    return "original size" if long_side is None else f"long side {long_side} px"


def fitted(width, height, long_side):
    """(width, height) of a width x height image whose long side is at most `long_side` (None: as
    it is). Never larger than the image; the aspect ratio kept, each side at least 1 pixel."""
    longest = max(width, height)
    if long_side is None or longest <= long_side:
        return width, height
    scale = long_side / longest
    return max(1, round(width * scale)), max(1, round(height * scale))
