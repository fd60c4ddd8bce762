"""Organising a gallery: albums, favourites, and changes to many conversions at once.

Every function is handed objects its caller already read through the owner-scoped selectors;
the ones that take ids (bulk actions) read them here, through the same selectors, so another
user's id is simply not found.
"""
from django.db import IntegrityError, transaction

from ..models import Album, AlbumItem, Conversion
from .conversions import delete_conversion
from .errors import ServiceError

NAME_MAX = Album._meta.get_field("name").max_length


def _clean_name(name):
    name = " ".join(str(name or "").split())
    if not name:
        raise ServiceError("Give the album a name.")
    if len(name) > NAME_MAX:
        raise ServiceError(f"An album's name has at most {NAME_MAX} characters.")
    return name


def _taken(owner, name, *, other_than=None):
    # Names are compared without case, so "Holidays" and "holidays" cannot both exist: they would
    # look the same in every list.
    albums = Album.objects.filter(owner=owner, name__iexact=name)
    if other_than is not None:
        albums = albums.exclude(pk=other_than.pk)
    return albums.exists()


def create_album(*, owner, name):
    name = _clean_name(name)
    if _taken(owner, name):
        raise ServiceError(f"You already have an album called “{name}”.")
    try:
        with transaction.atomic():
            return Album.objects.create(owner=owner, name=name)
    except IntegrityError:  # a concurrent request made it first
        raise ServiceError(f"You already have an album called “{name}”.")


def rename_album(*, album, name):
    name = _clean_name(name)
    if _taken(album.owner, name, other_than=album):
        raise ServiceError(f"You already have an album called “{name}”.")
    album.name = name
    try:
        with transaction.atomic():
            album.save(update_fields=["name", "updated_at"])
    except IntegrityError:
        raise ServiceError(f"You already have an album called “{name}”.")
    return album


def delete_album(*, album):
    """The album goes; its photos and results stay in the gallery."""
    album.delete()


def add_to_album(*, album, conversions):
    """Adds those not in it yet; returns how many were added."""
    conversions = [c for c in conversions if c.owner_id == album.owner_id]
    present = set(album.album_items.filter(conversion__in=conversions).values_list("conversion_id", flat=True))
    new = [AlbumItem(album=album, conversion=c) for c in conversions if c.pk not in present]
    with transaction.atomic():
        AlbumItem.objects.bulk_create(new, ignore_conflicts=True)
        Album.objects.filter(pk=album.pk).update(updated_at=_now())
    return len(new)


def remove_from_album(*, album, conversions):
    """Takes them out of the album (they stay in the gallery); returns how many were in it."""
    with transaction.atomic():
        removed, _ = album.album_items.filter(conversion__in=list(conversions)).delete()
        if removed:
            Album.objects.filter(pk=album.pk).update(updated_at=_now())
    return removed


def set_favourite(*, conversion, favourite):
    Conversion.objects.filter(pk=conversion.pk).update(favourite=bool(favourite))
    conversion.favourite = bool(favourite)
    return conversion


def delete_conversions(*, conversions):
    """Each through delete_conversion, so its files (and photos no other job uses) go too."""
    count = 0
    # One transaction: all go or none; the files go once it has committed (delete_conversion).
    with transaction.atomic():
        for conversion in conversions:
            delete_conversion(conversion=conversion)
            count += 1
    return count


def _now():
    from django.utils import timezone

    return timezone.now()
