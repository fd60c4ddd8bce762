"""Share links on the site: the owner makes, lists and revokes them; anyone with a link sees the
result and nothing else of the owner's; a revoked, expired or unknown link is one and the same 404."""
import datetime as dt
import re

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from translator.models import ShareLink

SHARE_HEADERS = {
    "Cache-Control": "private, no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow, noarchive",
}


@pytest.fixture
def anonymous():
    return Client()


def assert_share_headers(response):
    for name, value in SHARE_HEADERS.items():
        assert response[name] == value, name


# --- making links -------------------------------------------------------------------------------


def test_the_owner_makes_a_link_from_the_detail_page_and_finds_it_on_the_shares_page(alice, finished):
    conversion = finished()
    detail = alice.get(conversion.get_absolute_url())
    assert b"Share a link" in detail.content

    answer = alice.post(reverse("translator:share_new"), {"conversion": conversion.id, "expiry": "7"})

    link = ShareLink.objects.get()
    assert answer.status_code == 302 and answer["Location"] == f"/shares/#share-{link.id}"
    assert link.owner == conversion.owner and link.conversion == conversion and link.album is None
    assert len(link.token) >= 32 and not link.show_owner and not link.include_original
    assert dt.timedelta(days=6, hours=23) < link.expires_at - link.created_at <= dt.timedelta(days=7)
    listing = alice.get("/shares/")
    assert listing.status_code == 200
    assert f"http://testserver/s/{link.token}/" in listing.content.decode()
    assert b"Revoke" in listing.content and b"IMG_0042.jpg" in listing.content


def test_two_links_to_one_result_have_different_tokens(alice, finished):
    conversion = finished()
    for _ in range(2):
        alice.post(reverse("translator:share_new"), {"conversion": conversion.id, "expiry": "never"})
    first, second = ShareLink.objects.all()
    assert first.token != second.token and first.expires_at is None


@time_machine.travel(dt.datetime(2026, 12, 1, 15, 0, tzinfo=dt.timezone.utc), tick=False)
def test_a_link_chosen_to_expire_on_a_date_works_to_the_end_of_that_day(alice, finished, settings):
    settings.TIME_ZONE = "UTC"
    conversion = finished()
    alice.post(reverse("translator:share_new"), {"conversion": conversion.id, "expiry": "date", "expires_on": "2026-12-24"})
    assert ShareLink.objects.get().expires_at == dt.datetime(2026, 12, 25, tzinfo=dt.timezone.utc)


@pytest.mark.parametrize(
    "choices, words",
    [
        ({"expiry": "365"}, "Choose when the link expires"),
        ({"expiry": "date"}, "Choose the date the link expires on."),
        ({"expiry": "date", "expires_on": "2001-01-01"}, "The date has passed"),
        ({"expiry": "date", "expires_on": "9999-12-31"}, "Choose a date within 3650 days"),
        ({"expiry": "date", "expires_on": "soon"}, "Enter the date as YYYY-MM-DD."),
    ],
)
def test_a_bad_expiry_is_refused_in_words_and_nothing_is_stored(alice, finished, choices, words):
    conversion = finished()
    answer = alice.post(reverse("translator:share_new"), {"conversion": conversion.id, **choices})
    assert answer.status_code == 400
    assert words in answer.content.decode()
    assert not ShareLink.objects.exists()


def test_an_unfinished_conversion_cannot_be_shared(alice, conversion):
    answer = alice.post(reverse("translator:share_new"), {"conversion": conversion.id, "expiry": "never"})
    assert answer.status_code == 400
    assert "Only a finished result can be shared: this one is queued." in answer.content.decode()
    assert b"Share a link" not in alice.get(conversion.get_absolute_url()).content
    assert not ShareLink.objects.exists()


def test_another_users_result_or_album_cannot_be_shared_it_does_not_exist_for_them(
    client, other_user, finished, album_of
):
    conversion = finished()
    album = album_of("Holiday", conversion)
    client.force_login(other_user)
    for target in ({"conversion": conversion.id}, {"album": album.id}):
        assert client.get(reverse("translator:share_new"), target).status_code == 404
        assert client.post(reverse("translator:share_new"), {**target, "expiry": "never"}).status_code == 404
    assert client.post(reverse("translator:share_new"), {"conversion": "not-a-uuid", "expiry": "never"}).status_code == 404
    assert client.post(reverse("translator:share_new"), {"album": "x", "expiry": "never"}).status_code == 404
    assert not ShareLink.objects.exists()


def test_the_owners_pages_send_anonymous_visitors_to_log_in(anonymous, finished, link_to):
    link = link_to(finished())
    for method, url in [
        ("get", "/shares/"),
        ("get", f"/shares/new?conversion={link.conversion_id}"),
        ("post", "/shares/new"),
        ("post", f"/shares/{link.id}/revoke"),
    ]:
        answer = getattr(anonymous, method)(url)
        assert answer.status_code == 302 and answer["Location"].startswith("/accounts/login/"), url
    link.refresh_from_db()
    assert link.revoked_at is None


def test_another_user_neither_sees_nor_revokes_someone_elses_links(client, other_user, finished, link_to):
    link = link_to(finished())
    client.force_login(other_user)
    assert link.token not in client.get("/shares/").content.decode()
    assert client.post(f"/shares/{link.id}/revoke").status_code == 404
    link.refresh_from_db()
    assert link.revoked_at is None


# --- what the shared page shows -----------------------------------------------------------------


def test_anyone_with_the_link_sees_the_result_and_the_model_and_nothing_of_the_owners(anonymous, finished, link_to):
    conversion = finished()
    link = link_to(conversion)

    page = anonymous.get(f"/s/{link.token}/")

    assert page.status_code == 200
    assert_share_headers(page)
    html = page.content.decode()
    assert "Made with Tiny" in html
    assert f'src="/s/{link.token}/result"' in html
    for secret in ("alice", "IMG_0042", str(conversion.id), "/gallery/", "/original"):
        assert secret not in html, secret
    result = anonymous.get(f"/s/{link.token}/result")
    assert result.status_code == 200 and result["Content-Type"] == "image/jpeg"
    assert_share_headers(result)
    assert b"".join(result.streaming_content) == conversion.result.open("rb").read()
    assert anonymous.get(f"/s/{link.token}/original").status_code == 404  # not included
    link.refresh_from_db()
    assert link.views == 1


def test_the_owners_name_shows_only_when_they_chose_it(anonymous, finished, link_to):
    link = link_to(finished(), show_owner=True)
    assert "Shared by alice" in anonymous.get(f"/s/{link.token}/").content.decode()


def test_the_original_shows_when_included(anonymous, finished, link_to):
    link = link_to(finished(), include_original=True)
    html = anonymous.get(f"/s/{link.token}/").content.decode()
    assert f'src="/s/{link.token}/original"' in html
    original = anonymous.get(f"/s/{link.token}/original")
    assert original.status_code == 200 and original["Content-Type"] == "image/jpeg"
    assert_share_headers(original)
    assert original["Content-Disposition"] == 'inline; filename="restyle-original.jpg"'


def test_a_downloaded_result_is_named_after_the_model_not_the_photo(anonymous, finished, link_to):
    link = link_to(finished())
    answer = anonymous.get(f"/s/{link.token}/result?download=1")
    # The download names of translator/files.py: an ASCII name and its RFC 5987 twin.
    assert answer["Content-Disposition"] == 'attachment; filename="restyle-tiny.jpg"; filename*=UTF-8\'\'restyle-tiny.jpg'


# --- revoked, expired, unknown: one 404 ---------------------------------------------------------


def not_found_page(client):
    answer = client.get("/s/" + "x" * 32 + "/")
    assert answer.status_code == 404
    return answer.content


def test_a_revoked_link_answers_the_same_404_as_an_unknown_token_for_page_and_files(alice, anonymous, finished, link_to):
    link = link_to(finished(), include_original=True)
    assert anonymous.get(f"/s/{link.token}/").status_code == 200

    assert alice.post(f"/shares/{link.id}/revoke").status_code == 302

    link.refresh_from_db()
    assert link.revoked_at is not None
    for path in ("", "result", "thumbnail", "original"):
        answer = anonymous.get(f"/s/{link.token}/{path}")
        assert answer.status_code == 404, path
        assert_share_headers(answer)
    assert anonymous.get(f"/s/{link.token}/").content == not_found_page(anonymous)
    assert b"This link does not exist, or it no longer does." in not_found_page(anonymous)
    listing = alice.get("/shares/").content.decode()
    assert "Revoked" in listing and f'action="/shares/{link.id}/revoke"' not in listing


def test_a_link_opens_until_its_expiry_and_answers_404_after(anonymous, finished, link_to):
    with time_machine.travel(dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.timezone.utc), tick=False) as clock:
        link = link_to(finished(), expiry="1")
        clock.move_to(dt.datetime(2026, 12, 2, 11, 59, tzinfo=dt.timezone.utc))
        assert anonymous.get(f"/s/{link.token}/").status_code == 200
        assert anonymous.get(f"/s/{link.token}/result").status_code == 200

        clock.move_to(dt.datetime(2026, 12, 2, 12, 1, tzinfo=dt.timezone.utc))
        assert anonymous.get(f"/s/{link.token}/").content == not_found_page(anonymous)
        assert anonymous.get(f"/s/{link.token}/result").status_code == 404
        assert anonymous.get(f"/s/{link.token}/thumbnail").status_code == 404
        link.refresh_from_db()
        assert link.state == "expired"


def test_deleting_the_conversion_deletes_its_links(alice, anonymous, finished, link_to):
    link = link_to(finished())
    alice.post(f"/gallery/{link.conversion_id}/delete")
    assert not ShareLink.objects.exists()
    assert anonymous.get(f"/s/{link.token}/").status_code == 404


def test_a_token_reaches_its_own_item_only(anonymous, finished, link_to):
    mine, other = finished(), finished()
    link = link_to(mine)
    # An item link has no album items: another conversion's id under its token is nothing.
    assert anonymous.get(f"/s/{link.token}/{other.id}/").status_code == 404
    assert anonymous.get(f"/s/{link.token}/{other.id}/result").status_code == 404
    assert anonymous.get(f"/s/{link.token}/latent").status_code == 404


# --- albums -------------------------------------------------------------------------------------


def test_an_album_link_shows_its_items_each_full_size_through_the_same_token(anonymous, finished, album_of, link_to):
    first, second, elsewhere = finished(), finished(), finished()
    album = album_of("Summer walk", first, second)
    album_of("Other", elsewhere)
    link = link_to(album)

    page = anonymous.get(f"/s/{link.token}/")

    assert page.status_code == 200
    assert_share_headers(page)
    html = page.content.decode()
    assert "Summer walk" in html and "alice" not in html and "/gallery/" not in html
    shown = set(re.findall(rf"/s/{link.token}/([0-9a-f-]{{36}})/", html))
    assert shown == {str(first.id), str(second.id)}
    item = anonymous.get(f"/s/{link.token}/{first.id}/")
    assert item.status_code == 200 and f'src="/s/{link.token}/{first.id}/result"' in item.content.decode()
    assert_share_headers(item)
    assert anonymous.get(f"/s/{link.token}/{first.id}/result").status_code == 200
    assert anonymous.get(f"/s/{link.token}/{first.id}/thumbnail").status_code == 200
    # Album links serve results only, never an original.
    assert anonymous.get(f"/s/{link.token}/{first.id}/original").status_code == 404


def test_an_album_link_does_not_reveal_an_item_of_another_album(anonymous, finished, album_of, link_to):
    mine, elsewhere = finished(), finished()
    link = link_to(album_of("Shared", mine))
    album_of("Private", elsewhere)
    for path in (f"{elsewhere.id}/", f"{elsewhere.id}/result", f"{elsewhere.id}/thumbnail"):
        assert anonymous.get(f"/s/{link.token}/{path}").status_code == 404, path


def test_taking_an_item_out_of_the_album_unshares_it(anonymous, finished, album_of, link_to):
    kept, removed = finished(), finished()
    album = album_of("Shared", kept, removed)
    link = link_to(album)
    assert anonymous.get(f"/s/{link.token}/{removed.id}/result").status_code == 200

    album.album_items.filter(conversion=removed).delete()

    assert anonymous.get(f"/s/{link.token}/{removed.id}/").status_code == 404
    assert anonymous.get(f"/s/{link.token}/{removed.id}/result").status_code == 404
    assert str(removed.id) not in anonymous.get(f"/s/{link.token}/").content.decode()


def test_deleting_the_album_deletes_its_links(anonymous, finished, album_of, link_to):
    album = album_of("Shared", finished())
    link = link_to(album)
    album.delete()
    assert not ShareLink.objects.exists()
    assert anonymous.get(f"/s/{link.token}/").status_code == 404


def test_the_owner_makes_an_album_link_without_an_original_choice(alice, finished, album_of):
    album = album_of("Shared", finished())
    album_page = alice.get(album.get_absolute_url()).content.decode()
    assert "Share a link" in album_page and f'name="album" value="{album.id}"' in album_page
    assert "Include the original" not in album_page
    form = alice.get(reverse("translator:share_new"), {"album": album.id})
    assert form.status_code == 200 and b"Include the original" not in form.content
    answer = alice.post(reverse("translator:share_new"), {"album": album.id, "expiry": "30", "show_owner": "on"})
    assert answer.status_code == 302
    link = ShareLink.objects.get()
    assert link.album == album and link.conversion is None and link.show_owner and not link.include_original


# --- the admin ----------------------------------------------------------------------------------


def test_an_admin_revokes_a_users_link_and_it_answers_404(admin_client, anonymous, finished, link_to):
    link = link_to(finished())
    listing = admin_client.get("/admin/translator/sharelink/")
    assert listing.status_code == 200 and b"alice" in listing.content
    assert admin_client.get("/admin/translator/sharelink/add/").status_code == 403
    answer = admin_client.post(
        "/admin/translator/sharelink/", {"action": "revoke", "_selected_action": [link.id]}, follow=True
    )
    assert answer.status_code == 200 and b"Revoked 1 link(s)" in answer.content
    link.refresh_from_db()
    assert link.revoked_at is not None
    assert anonymous.get(f"/s/{link.token}/").status_code == 404
