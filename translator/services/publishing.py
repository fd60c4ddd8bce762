"""Publishing a model version: what its catalogue entry must tell users before they see it.

A version trained here arrives with only a name taken from its run; the Convert page would show
it with no picture, no description and no hint of what input it wants. So publishing asks for
them: a name, a description, an input hint and a card picture, either the one the entry already
has or one made from this version's outputs on the probe images. Publishing an older version of
an entry that already has all four is how an admin rolls back.
"""
import io
import logging

from django.db import transaction
from PIL import Image, ImageOps, UnidentifiedImageError

from ..models import ArtModel
from .catalogue import set_model_preview
from .errors import ServiceError

log = logging.getLogger(__name__)

# Where the card picture comes from.
CARD_KEEP = "keep"  # the entry's own card picture, as it is
CARD_PROBES = "probes"  # this version's outputs on the probe images (its sample grid)

# The Convert page's cards are 4:3 (static/css/site.css, .model-card img).
CARD_SIZE = (640, 480)
CARD_BACKGROUND = (250, 249, 246)  # the site's paper colour, so a wide grid sits on the page's own ground

_LIMITS = {"name": ArtModel._meta.get_field("name").max_length,
           "input_hint": ArtModel._meta.get_field("input_hint").max_length}


class PublishRefused(ServiceError):
    """Publishing refused; `problems` maps a field ("name", "description", "input_hint", "card")
    to what is wrong with it, in words, for the publish page to show beside the field."""

    def __init__(self, message, problems):
        super().__init__(message)
        self.problems = problems


def card_from_probe_outputs(*, version):
    """JPEG bytes of a card picture made from `version`'s sample grid: the whole grid, fitted
    (never cropped: every probe output stays in view) into the card's 4:3 shape."""
    try:
        with version.preview.open("rb") as fh, Image.open(fh) as grid:
            grid = ImageOps.exif_transpose(grid).convert("RGB")
            grid = ImageOps.contain(grid, CARD_SIZE, Image.Resampling.LANCZOS)  # up or down, whole
            card = Image.new("RGB", CARD_SIZE, CARD_BACKGROUND)
            card.paste(grid, ((CARD_SIZE[0] - grid.width) // 2, (CARD_SIZE[1] - grid.height) // 2))
    except (OSError, UnidentifiedImageError) as exc:
        log.warning("could not read the probe outputs of %s", version, exc_info=True)
        raise ServiceError(f"The outputs on the probe images of {version} cannot be read ({exc}).") from exc
    buffer = io.BytesIO()
    card.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def card_choices(*, version):
    """The card pictures `version` may be published with: CARD_KEEP when its entry has one,
    CARD_PROBES when the version has outputs on the probe images."""
    choices = []
    if version.art_model.preview:
        choices.append(CARD_KEEP)
    if version.preview:
        choices.append(CARD_PROBES)
    return choices


def _problems(*, version, name, description, input_hint, card):
    problems = {}
    if not version.checkpoint and version.art_model.family != "gatys":
        problems["version"] = f"{version} has no checkpoint to publish."
    if not name:
        problems["name"] = "Give the model a name: it is the title of its card on the Convert page."
    if not description:
        problems["description"] = "Give the model a description: users read it on the Convert page."
    if not input_hint:
        problems["input_hint"] = "Say what input works best (e.g. “a portrait, face centred”): it is shown on the card."
    for field, limit in _LIMITS.items():
        value = {"name": name, "input_hint": input_hint}[field]
        if len(value) > limit:
            problems[field] = f"At most {limit} characters (this is {len(value)})."
    available = card_choices(version=version)
    if card is None:
        card = CARD_KEEP if CARD_KEEP in available else None
    if card not in (CARD_KEEP, CARD_PROBES):
        problems["card"] = ("Choose the card picture users see on the Convert page."
                            if available else
                            f"{version} has no outputs on the probe images and the model has no card picture: "
                            "there is nothing to show on its card.")
    elif card not in available:
        problems["card"] = ("The model has no card picture of its own yet: use this version's outputs."
                            if card == CARD_KEEP else f"{version} has no outputs on the probe images.")
    return problems, card


def publish_version(*, version, name=None, description=None, input_hint=None, card=None):
    """Make `version` the one users get, and show its model on the Convert page.

    name, description, input_hint: the catalogue entry's, as the admin gave them (None keeps
    the entry's own). card: CARD_KEEP or CARD_PROBES (None: keep the entry's picture if it has
    one). Refused with PublishRefused, storing nothing, while any of the four is missing."""
    art_model = version.art_model
    name = (art_model.name if name is None else name).strip()
    description = (art_model.description if description is None else description).strip()
    input_hint = (art_model.input_hint if input_hint is None else input_hint).strip()
    problems, card = _problems(version=version, name=name, description=description, input_hint=input_hint, card=card)
    if problems:
        raise PublishRefused(f"{version} cannot be published yet. " + " ".join(problems.values()), problems)
    card_bytes = card_from_probe_outputs(version=version) if card == CARD_PROBES else None
    with transaction.atomic():
        ArtModel.objects.filter(pk=art_model.pk).update(
            name=name, description=description, input_hint=input_hint, current_version=version, is_active=True,
        )
        if card_bytes is not None:
            art_model.refresh_from_db()  # set_model_preview saves the whole row: read what was just written
            set_model_preview(art_model=art_model, jpeg_bytes=card_bytes)
    art_model.refresh_from_db()
    log.info("published %s (card: %s)", version, card)
    return version
