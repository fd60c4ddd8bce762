"""Share links: make one for a finished result or an album, revoke it, count its page's views.

What a link shows, and to whom, is read by translator.selectors (`live_share_link` and the
`shared_*` functions): a revoked or expired link opens nothing, exactly like a token that
never existed.
"""
import secrets
from datetime import datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db.models import F
from django.utils import timezone

from ..models import Conversion, ShareLink

# The expiry a person picks: a number of days from now, never, or the end of a date they name.
EXPIRY_CHOICES = [
    ("never", "Never"),
    ("1", "In 1 day"),
    ("7", "In 7 days"),
    ("30", "In 30 days"),
    ("date", "At the end of a date"),
]
EXPIRY_VALUES = [value for value, _ in EXPIRY_CHOICES]
# A named date further ahead than this is refused: "Never" says it better, and a date near the
# calendar's end would overflow when its end of day is worked out.
MAX_DAYS_AHEAD = 3650
# 24 random bytes: a 32-character URL-safe token, 192 bits that no one can guess or enumerate.
TOKEN_BYTES = 24


def _field_error(field, message, code):
    error = ValidationError(message, code=code)
    error.field = field
    return error


def expiry_time(*, expiry, expires_on=None, now=None):
    """When a link made now with this choice stops opening (None: never).

    `expiry` is one of EXPIRY_VALUES; "date" needs `expires_on` (a date), and the link then
    works to the end of that day in the site's time zone (settings.TIME_ZONE). Raises
    ValidationError (with `field`) for anything else.
    """
    now = now or timezone.now()
    if expiry not in EXPIRY_VALUES:
        raise _field_error("expiry", f"Choose when the link expires: one of {', '.join(EXPIRY_VALUES)}.", "bad_expiry")
    if expiry == "never":
        return None
    if expiry != "date":
        return now + timedelta(days=int(expiry))
    if expires_on is None:
        raise _field_error("expires_on", "Choose the date the link expires on.", "date_missing")
    today = timezone.localdate(now)
    if expires_on < today:
        raise _field_error("expires_on", f"The date has passed: choose {today.isoformat()} or later.", "date_passed")
    if expires_on > today + timedelta(days=MAX_DAYS_AHEAD):
        raise _field_error(
            "expires_on", f"Choose a date within {MAX_DAYS_AHEAD} days, or “Never”.", "date_too_far"
        )
    next_midnight = datetime.combine(expires_on + timedelta(days=1), time.min)
    return timezone.make_aware(next_midnight, timezone.get_current_timezone())


def create_share_link(
    *, owner, conversion=None, album=None, expiry="never", expires_on=None, include_original=False, show_owner=False
):
    """A new link to `conversion` (a finished result) or to `album`, owned by `owner`.

    Raises ValidationError (with `field`) when the target is not the owner's, not finished, or
    when the choices do not fit it (an album link shows results only); nothing is stored then.
    """
    if (conversion is None) == (album is None):
        raise _field_error("conversion", "Share either one result or one album.", "one_target")
    target = conversion or album
    if target.owner_id != owner.pk:
        # Callers look targets up through the owner's selectors; this is the last line, not the first.
        raise _field_error("album" if album else "conversion", "There is no such item of yours.", "not_found")
    if conversion is not None and (conversion.status != Conversion.Status.SUCCEEDED or not conversion.result):
        raise _field_error(
            "conversion",
            f"Only a finished result can be shared: this one is {conversion.get_status_display().lower()}.",
            "not_finished",
        )
    if album is not None and include_original:
        raise _field_error(
            "include_original", "An album's link shows its results only; share an item to include its photo.",
            "album_original",
        )
    return ShareLink.objects.create(
        token=secrets.token_urlsafe(TOKEN_BYTES),
        owner=owner,
        conversion=conversion,
        album=album,
        expires_at=expiry_time(expiry=expiry, expires_on=expires_on),
        include_original=bool(include_original),
        show_owner=bool(show_owner),
    )


def revoke_share_link(*, link):
    """Stop the link from opening, at once and for good. Revoking it again changes nothing."""
    if link.revoked_at is None:
        link.revoked_at = timezone.now()
        link.save(update_fields=["revoked_at"])
    return link


def record_share_view(*, link):
    """One more opening of the shared page (counted in the database, so concurrent views add up)."""
    ShareLink.objects.filter(pk=link.pk).update(views=F("views") + 1)
