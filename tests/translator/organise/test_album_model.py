"""The album tables: one name per owner, an item once per album, and photos outlive albums."""
import pytest
from django.db import IntegrityError, transaction

from translator.models import Album, AlbumItem, Conversion


def test_an_owner_cannot_have_two_albums_of_one_name_but_two_owners_can(user, other_user):
    Album.objects.create(owner=user, name="Holidays")
    Album.objects.create(owner=other_user, name="Holidays")
    with pytest.raises(IntegrityError), transaction.atomic():
        Album.objects.create(owner=user, name="Holidays")


def test_a_conversion_is_in_an_album_once_and_stays_when_the_album_goes(user, conversion):
    album = Album.objects.create(owner=user, name="Best")
    AlbumItem.objects.create(album=album, conversion=conversion)
    with pytest.raises(IntegrityError), transaction.atomic():
        AlbumItem.objects.create(album=album, conversion=conversion)
    assert list(album.items.all()) == [conversion]
    album.delete()
    assert Conversion.objects.filter(pk=conversion.pk).exists()
    assert not AlbumItem.objects.exists()


def test_a_new_conversion_is_not_a_favourite(conversion):
    assert conversion.favourite is False
