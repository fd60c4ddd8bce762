"""The REST API of organising: albums and their items, the favourite star, the list's filters,
bulk delete and zip, for the owner, another user (404) and no one (401)."""
import io
import zipfile

import pytest
from rest_framework.test import APIClient

from translator import services
from translator.models import Album, Conversion

pytestmark = pytest.mark.django_db

ALBUMS = "/api/v1/albums/"
CONVERSIONS = "/api/v1/conversions/"


def error(response, status, words=None):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] and body["message"]
    if words:
        assert words in str(body), body
    return body


def test_albums_crud_and_items(alice_api, make_conversion):
    one, two = make_conversion("one.jpg"), make_conversion("two.jpg")
    made = alice_api.post(ALBUMS, {"name": "Trip"}, format="json")
    assert made.status_code == 201
    album = made.json()
    assert album["name"] == "Trip" and album["item_count"] == 0
    added = alice_api.post(album["items_url"], {"ids": [str(one.id), str(two.id)]}, format="json")
    assert added.status_code == 200 and added.json()["changed"] == 2 and added.json()["album"]["item_count"] == 2
    again = alice_api.post(album["items_url"], {"ids": [str(one.id)]}, format="json")
    assert again.json()["changed"] == 0  # already there
    listed = alice_api.get(album["items_url"]).json()
    assert sorted(c["photo"]["name"] for c in listed["results"]) == ["one.jpg", "two.jpg"]
    removed = alice_api.delete(album["items_url"], {"ids": [str(one.id)]}, format="json")
    assert removed.json()["changed"] == 1 and removed.json()["album"]["item_count"] == 1
    renamed = alice_api.patch(album["url"], {"name": "Journey"}, format="json")
    assert renamed.status_code == 200 and renamed.json()["name"] == "Journey"
    assert [a["name"] for a in alice_api.get(ALBUMS).json()] == ["Journey"]
    assert alice_api.delete(album["url"]).status_code == 204
    assert not Album.objects.exists() and Conversion.objects.count() == 2


def test_album_names_are_refused_in_words(alice_api, user):
    services.create_album(owner=user, name="Trip")
    error(alice_api.post(ALBUMS, {"name": "TRIP"}, format="json"), 400, "You already have an album called")
    error(alice_api.post(ALBUMS, {"name": ""}, format="json"), 400)
    error(alice_api.post(ALBUMS, {"name": "x" * 101}, format="json"), 400)
    assert Album.objects.count() == 1


def test_items_refuse_bad_ids_and_another_users_conversions(alice_api, user, other_user, make_conversion):
    album = services.create_album(owner=user, name="Mine")
    theirs = make_conversion("theirs.jpg", owner=other_user)
    url = f"{ALBUMS}{album.id}/items/"
    error(alice_api.post(url, {"ids": []}, format="json"), 400, "Name at least one conversion.")
    error(alice_api.post(url, {"ids": ["not-a-uuid"]}, format="json"), 400)
    error(alice_api.post(url, {"ids": [str(theirs.id)]}, format="json"), 404)
    assert album.items.count() == 0


def test_favourite_by_patch_and_the_list_filters(alice_api, make_conversion, second_model, user):
    beach = make_conversion("Beach.jpg")
    cat = make_conversion("cat.jpg", model=second_model)
    album = services.create_album(owner=user, name="Pets")
    services.add_to_album(album=album, conversions=[cat])
    starred = alice_api.patch(f"{CONVERSIONS}{beach.id}/", {"favourite": True}, format="json")
    assert starred.status_code == 200 and starred.json()["favourite"] is True
    error(alice_api.patch(f"{CONVERSIONS}{beach.id}/", {"favourite": "maybe"}, format="json"), 400)
    assert alice_api.put(f"{CONVERSIONS}{beach.id}/", {"favourite": False}, format="json").status_code == 405

    def names(**params):
        response = alice_api.get(CONVERSIONS, params)
        assert response.status_code == 200, response.content
        return [c["photo"]["name"] for c in response.json()["results"]]

    assert names(favourite="true") == ["Beach.jpg"]
    assert names(favourite="false") == ["cat.jpg"]
    assert names(album=album.id) == ["cat.jpg"]
    assert names(q="BEA") == ["Beach.jpg"]
    assert names(model="aqua") == ["cat.jpg"]
    assert names(ordering="oldest") == ["Beach.jpg", "cat.jpg"]
    assert names(ordering="name") == ["Beach.jpg", "cat.jpg"]
    assert names(ordering="model") == ["cat.jpg", "Beach.jpg"]
    error(alice_api.get(CONVERSIONS, {"ordering": "size"}), 400)
    error(alice_api.get(CONVERSIONS, {"album": 999}), 400)


def test_bulk_delete_and_zip(alice_api, make_conversion, other_user, settings):
    a, b = make_conversion("a.jpg", result=b"A"), make_conversion("b.jpg", result=b"B")
    theirs = make_conversion("theirs.jpg", owner=other_user)
    response = alice_api.post(f"{CONVERSIONS}zip/", {"ids": [str(a.id), str(b.id)], "originals": False},
                              format="json", HTTP_ACCEPT="application/zip")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert {n: archive.read(n) for n in archive.namelist()} == {"a - Tiny.jpg": b"A", "b - Tiny.jpg": b"B"}
    settings.RESTYLE_ZIP_MAX_ITEMS = 1
    error(alice_api.post(f"{CONVERSIONS}zip/", {"ids": [str(a.id), str(b.id)]}, format="json"), 400, "At most 1")
    settings.RESTYLE_ZIP_MAX_ITEMS = 200
    error(alice_api.post(f"{CONVERSIONS}bulk-delete/", {"ids": [str(theirs.id)]}, format="json"), 404)
    deleted = alice_api.post(f"{CONVERSIONS}bulk-delete/", {"ids": [str(a.id), str(theirs.id)]}, format="json")
    assert deleted.status_code == 200 and deleted.json() == {"deleted": 1}
    assert set(Conversion.objects.all()) == {b, theirs}


def test_another_user_gets_404_for_my_albums_and_their_items(bob_api, user, make_conversion):
    album = services.create_album(owner=user, name="Mine")
    mine = make_conversion()
    for method, url, data in [
        ("get", f"{ALBUMS}{album.id}/", None),
        ("patch", f"{ALBUMS}{album.id}/", {"name": "Theirs"}),
        ("delete", f"{ALBUMS}{album.id}/", None),
        ("get", f"{ALBUMS}{album.id}/items/", None),
        ("post", f"{ALBUMS}{album.id}/items/", {"ids": [str(mine.id)]}),
        ("patch", f"{CONVERSIONS}{mine.id}/", {"favourite": True}),
        ("post", f"{CONVERSIONS}zip/", {"ids": [str(mine.id)]}),
        ("post", f"{CONVERSIONS}bulk-delete/", {"ids": [str(mine.id)]}),
    ]:
        error(getattr(bob_api, method)(url, data, format="json"), 404)
    assert bob_api.get(ALBUMS).json() == []
    album.refresh_from_db()
    mine.refresh_from_db()
    assert album.name == "Mine" and not mine.favourite and Conversion.objects.filter(pk=mine.pk).exists()


def test_no_one_gets_401_everywhere(user, make_conversion):
    api = APIClient()
    album = services.create_album(owner=user, name="Mine")
    mine = make_conversion()
    for method, url in [("get", ALBUMS), ("post", ALBUMS), ("get", f"{ALBUMS}{album.id}/"),
                        ("patch", f"{ALBUMS}{album.id}/"), ("delete", f"{ALBUMS}{album.id}/"),
                        ("post", f"{ALBUMS}{album.id}/items/"), ("patch", f"{CONVERSIONS}{mine.id}/"),
                        ("post", f"{CONVERSIONS}zip/"), ("post", f"{CONVERSIONS}bulk-delete/")]:
        error(getattr(api, method)(url, {}, format="json"), 401)
    assert Album.objects.count() == 1
