"""Share links in the REST API: the owner makes, lists and revokes them; another user sees none
of them (404); anonymous clients get 401; bad choices are a 400 in words with nothing stored."""
import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.translator.share.conftest import album_of, finished, link_to  # noqa: F401  (fixtures)
from translator.models import ShareLink


def test_the_owner_makes_a_link_for_a_conversion_and_it_opens_logged_out(alice_api, finished):
    conversion = finished()
    answer = alice_api.post("/api/v1/shares/", {"conversion": str(conversion.id), "expiry": "30", "show_owner": True}, format="json")
    assert answer.status_code == 201, answer.json()
    body = answer.json()
    link = ShareLink.objects.get()
    assert body["link"] == f"http://testserver/s/{link.token}/"
    assert body["conversion"] == str(conversion.id) and body["album"] is None
    assert body["state"] == "active" and body["show_owner"] is True and body["expires_at"]
    page = Client().get(f"/s/{link.token}/")
    assert page.status_code == 200 and "Shared by alice" in page.content.decode()


def test_the_owner_makes_a_link_for_an_album(alice_api, finished, album_of):
    album = album_of("Walk", finished())
    answer = alice_api.post("/api/v1/shares/", {"album": album.id}, format="json")
    assert answer.status_code == 201
    assert answer.json()["album"] == album.id and answer.json()["state"] == "active"


def test_list_retrieve_and_revoke(alice_api, finished, link_to):
    link = link_to(finished())
    listed = alice_api.get("/api/v1/shares/").json()
    assert [row["id"] for row in listed["results"]] == [link.id]
    assert alice_api.get(f"/api/v1/shares/{link.id}/").json()["link"].endswith(f"/s/{link.token}/")

    answer = alice_api.post(f"/api/v1/shares/{link.id}/revoke/")

    assert answer.status_code == 200 and answer.json()["state"] == "revoked" and answer.json()["revoked_at"]
    assert Client().get(f"/s/{link.token}/").status_code == 404
    first_revoked = answer.json()["revoked_at"]
    assert alice_api.post(f"/api/v1/shares/{link.id}/revoke/").json()["revoked_at"] == first_revoked


def test_another_user_sees_and_revokes_none_of_them(bob_api, finished, link_to):
    link = link_to(finished())
    assert bob_api.get("/api/v1/shares/").json()["results"] == []
    assert bob_api.get(f"/api/v1/shares/{link.id}/").status_code == 404
    assert bob_api.post(f"/api/v1/shares/{link.id}/revoke/").status_code == 404
    link.refresh_from_db()
    assert link.revoked_at is None


def test_another_users_conversion_or_album_cannot_be_shared(bob_api, finished, album_of):
    conversion = finished()
    album = album_of("Walk", conversion)
    answer = bob_api.post("/api/v1/shares/", {"conversion": str(conversion.id)}, format="json")
    assert answer.status_code == 400
    assert answer.json()["fields"]["conversion"] == ["There is no such conversion of yours."]
    answer = bob_api.post("/api/v1/shares/", {"album": album.id}, format="json")
    assert answer.status_code == 400 and answer.json()["fields"]["album"] == ["There is no such album of yours."]
    assert not ShareLink.objects.exists()


def test_anonymous_clients_get_401(finished, link_to):
    link = link_to(finished())
    anonymous = APIClient()
    assert anonymous.get("/api/v1/shares/").status_code == 401
    assert anonymous.get(f"/api/v1/shares/{link.id}/").status_code == 401
    assert anonymous.post("/api/v1/shares/", {"conversion": str(link.conversion_id)}, format="json").status_code == 401
    assert anonymous.post(f"/api/v1/shares/{link.id}/revoke/").status_code == 401
    link.refresh_from_db()
    assert link.revoked_at is None


@pytest.mark.parametrize(
    "body, field, words",
    [
        ({}, "conversion", "Share either one conversion or one album."),
        ({"expiry": "365"}, "expiry", "is not a valid choice"),
        ({"expiry": "date"}, "expires_on", "Choose the date the link expires on."),
        ({"expiry": "date", "expires_on": "2001-01-01"}, "expires_on", "The date has passed"),
        ({"album": 1, "conversion": None}, "conversion", "may not be null"),
    ],
)
def test_bad_choices_are_400_in_words_and_nothing_is_stored(alice_api, finished, body, field, words):
    conversion = finished()
    data = {"conversion": str(conversion.id), **body} if "conversion" not in body and body else body
    answer = alice_api.post("/api/v1/shares/", data, format="json")
    assert answer.status_code == 400
    assert words in " ".join(answer.json()["fields"][field])
    assert not ShareLink.objects.exists()


def test_an_unfinished_conversion_or_an_albums_original_is_refused(alice_api, conversion, finished, album_of):
    answer = alice_api.post("/api/v1/shares/", {"conversion": str(conversion.id)}, format="json")
    assert answer.status_code == 400
    assert answer.json()["fields"]["conversion"] == ["Only a finished result can be shared: this one is queued."]
    album = album_of("Walk", finished())
    answer = alice_api.post("/api/v1/shares/", {"album": album.id, "include_original": True}, format="json")
    assert answer.status_code == 400 and "include_original" in answer.json()["fields"]
    assert not ShareLink.objects.exists()


def test_anyone_reads_an_item_links_contents_as_json_without_the_owners_name(finished, link_to):
    conversion = finished()
    link = link_to(conversion, include_original=True)
    answer = APIClient().get(f"/api/v1/shared/{link.token}/")
    assert answer.status_code == 200 and answer["Cache-Control"] == "private, no-store"
    assert answer["Referrer-Policy"] == "no-referrer"
    body = answer.json()
    assert body["kind"] == "item" and body["owner"] is None and body["album"] is None
    [item] = body["items"]
    assert item["model"] == "Tiny" and item["id"] is None
    assert item["result_url"] == f"http://testserver/s/{link.token}/result"
    assert item["original_url"] == f"http://testserver/s/{link.token}/original"
    assert (item["width"], item["height"]) == (conversion.result_width, conversion.result_height)
    assert "alice" not in answer.content.decode() and "IMG_0042" not in answer.content.decode()


def test_an_album_links_json_lists_its_items_now(finished, album_of, link_to):
    kept, removed, elsewhere = finished(), finished(), finished()
    album = album_of("Walk", kept, removed)
    album_of("Other", elsewhere)
    link = link_to(album, show_owner=True)
    album.album_items.filter(conversion=removed).delete()
    body = APIClient().get(f"/api/v1/shared/{link.token}/").json()
    assert body["kind"] == "album" and body["album"] == "Walk" and body["owner"] == "alice"
    assert [item["id"] for item in body["items"]] == [str(kept.id)]
    assert body["items"][0]["original_url"] is None
    assert APIClient().get(body["items"][0]["result_url"]).status_code == 200


def test_a_revoked_links_json_is_the_same_404_as_an_unknown_token(finished, link_to):
    link = link_to(finished())
    from translator import services

    services.revoke_share_link(link=link)
    revoked = APIClient().get(f"/api/v1/shared/{link.token}/")
    unknown = APIClient().get("/api/v1/shared/" + "x" * 32 + "/")
    assert revoked.status_code == unknown.status_code == 404
    assert revoked.json() == unknown.json()
    assert revoked.json()["message"] == "This link does not exist, or it no longer does."
