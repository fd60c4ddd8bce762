"""Bulk actions on selected tiles, and the zip download: streamed, named after photo and model,
capped, and never holding the zip in memory."""
import io
import os
import tracemalloc
import zipfile

import pytest
from django.urls import reverse

from translator import services
from translator.models import AlbumItem, Conversion, Photo

pytestmark = pytest.mark.django_db

BULK = "/gallery/bulk"


def zip_of(response):
    assert response.status_code == 200, response.content[:500]
    assert response.streaming and response["Content-Type"] == "application/zip"
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def test_bulk_delete_asks_first_then_deletes_rows_and_files(
    alice, make_conversion, list_stored_files, django_capture_on_commit_callbacks
):
    keep = make_conversion("keep.jpg")
    doomed = [make_conversion("a.jpg"), make_conversion("b.jpg")]
    before = list_stored_files()
    ids = [c.id for c in doomed]
    ask = alice.post(BULK, {"action": "delete", "ids": ids, "next": "/gallery/?sort=name"})
    assert ask.status_code == 200
    page = ask.content.decode()
    assert "Delete 2 photos?" in page and "a.jpg" in page and "b.jpg" in page
    assert Conversion.objects.count() == 3  # nothing is gone until it is confirmed
    with django_capture_on_commit_callbacks(execute=True):  # files go once the rows' deletion commits
        done = alice.post(BULK, {"action": "delete", "ids": ids, "confirmed": "1", "next": "/gallery/?sort=name"})
    assert done.status_code == 302 and done["Location"] == "/gallery/?sort=name"
    assert list(Conversion.objects.all()) == [keep]
    assert Photo.objects.count() == 1
    after = list_stored_files()
    assert len(after) == len(before) - 2 * 3  # each: its photo, result and thumbnail
    assert set(after) <= set(before)


def test_bulk_delete_of_someone_elses_photo_is_a_404_and_deletes_nothing(client, other_user, make_conversion):
    theirs = make_conversion("theirs.jpg")
    client.force_login(other_user)
    response = client.post(BULK, {"action": "delete", "ids": [theirs.id], "confirmed": "1"})
    assert response.status_code == 404
    assert "None of the selected photos exists" in response.content.decode()
    assert Conversion.objects.filter(pk=theirs.pk).exists()


def test_bulk_add_and_remove_work_on_the_chosen_album_only(alice, user, make_conversion):
    album = services.create_album(owner=user, name="Trip")
    other = services.create_album(owner=user, name="Other")
    one, two, three = make_conversion("1.jpg"), make_conversion("2.jpg"), make_conversion("3.jpg")
    services.add_to_album(album=other, conversions=[one])
    assert alice.post(BULK, {"action": "add", "album": album.id, "ids": [one.id, two.id]}).status_code == 302
    assert set(album.items.all()) == {one, two}
    assert alice.post(BULK, {"action": "add", "new_album": "Fresh", "ids": [three.id]}).status_code == 302
    assert list(user.albums.get(name="Fresh").items.all()) == [three]
    assert alice.post(BULK, {"action": "remove", "from_album": album.id, "ids": [one.id]}).status_code == 302
    assert list(album.items.all()) == [two]
    assert list(other.items.all()) == [one]  # another album keeps it
    assert Conversion.objects.count() == 3  # removing from an album deletes nothing


@pytest.mark.parametrize("data, message", [
    ({"action": "zip"}, "Select at least one photo first."),
    ({"action": "explode", "ids": ["x"]}, "That is not something the gallery can do."),
    ({"action": "add", "ids": ["x"]}, "Choose the album to add them to, or name a new one."),
    ({"action": "remove", "ids": ["x"]}, "Remove them from which album?"),
])
def test_a_bulk_request_it_cannot_read_is_a_400_in_words(alice, data, message):
    response = alice.post(BULK, data)
    assert response.status_code == 400
    assert message in response.content.decode()


def test_the_zip_holds_results_named_after_photo_and_model_without_clashes(alice, make_conversion, second_model):
    a = make_conversion("Sunset.jpg", result=b"first result")
    b = make_conversion("sunset.jpg", result=b"second result")
    c = make_conversion("Sunset.jpg", model=second_model, result=b"aqua result")
    waiting = make_conversion("not-yet.jpg", result=None)
    archive = zip_of(alice.post(BULK, {"action": "zip", "ids": [a.id, b.id, c.id, waiting.id]}))
    contents = {name: archive.read(name) for name in archive.namelist()}
    # Newest first: c, b, a; the second "Sunset - Tiny" gets " (2)"; the unfinished one is not there.
    assert contents == {
        "Sunset - Aqua.jpg": b"aqua result",
        "sunset - Tiny.jpg": b"second result",
        "Sunset - Tiny (2).jpg": b"first result",
    }
    assert archive.testzip() is None


def test_the_zip_has_the_originals_too_when_asked(alice, make_conversion):
    conversion = make_conversion("cat.jpg")
    archive = zip_of(alice.post(BULK, {"action": "zip", "originals": "1", "ids": [conversion.id]}))
    assert sorted(archive.namelist()) == ["cat - Tiny.jpg", "cat.jpg"]
    with conversion.photo.image.open("rb") as f:
        assert archive.read("cat.jpg") == f.read()


def test_a_zip_of_nothing_finished_or_too_many_items_is_a_400(alice, make_conversion, settings):
    waiting = make_conversion("waiting.jpg", result=None)
    response = alice.post(BULK, {"action": "zip", "ids": [waiting.id]})
    assert response.status_code == 400 and "None of the chosen items has a result yet" in response.content.decode()
    settings.RESTYLE_ZIP_MAX_ITEMS = 2
    three = [make_conversion(f"{i}.jpg").id for i in range(3)]
    response = alice.post(BULK, {"action": "zip", "ids": three})
    assert response.status_code == 400
    assert "A zip holds at most 2 items; you chose 3." in response.content.decode()
    response = alice.post(BULK, {"action": "delete", "confirmed": "1", "ids": three})
    assert response.status_code == 400 and "At most 2 photos at once; you chose 3." in response.content.decode()
    assert Conversion.objects.count() == 4


def test_the_zip_streams_without_holding_the_files_or_the_zip_in_memory(alice, make_conversion):
    # 6 results of 1 MiB of random bytes: a zip built in memory would hold more than 6 MiB.
    results = {f"big{i}.jpg": os.urandom(1024 * 1024) for i in range(6)}
    ids = [make_conversion(name, result=data).id for name, data in results.items()]
    # The first zip imports what it needs and fills first-use caches: not counted.
    b"".join(alice.post(BULK, {"action": "zip", "ids": ids[:1]}).streaming_content)
    tracemalloc.start()
    try:
        response = alice.post(BULK, {"action": "zip", "ids": ids})
        size, chunks, held = 0, 0, []
        with open(os.devnull, "wb") as sink:
            for chunk in response.streaming_content:
                sink.write(chunk)
                size, chunks = size + len(chunk), chunks + 1
                held.append(tracemalloc.get_traced_memory()[0])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        response.close()
    assert size > 6 * 1024 * 1024 and chunks > 6
    assert peak < 1024 * 1024, peak  # a few 64 KiB blocks at a time, whatever the zip's size
    assert max(held) < 1024 * 1024


def test_the_album_items_of_deleted_photos_go_with_them(alice, user, make_conversion):
    album = services.create_album(owner=user, name="Gone soon")
    conversion = make_conversion()
    services.add_to_album(album=album, conversions=[conversion])
    alice.post(BULK, {"action": "delete", "ids": [conversion.id], "confirmed": "1"})
    assert not AlbumItem.objects.exists() and album.items.count() == 0
