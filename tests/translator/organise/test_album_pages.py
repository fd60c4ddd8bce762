"""Album pages and the favourite star: what the owner can do, and that another user meets 404s
and an anonymous visitor the login page."""
import pytest
from django.urls import reverse

from translator import services
from translator.models import Album, AlbumItem, Conversion

pytestmark = pytest.mark.django_db


@pytest.fixture
def album(user):
    return services.create_album(owner=user, name="Holidays")


def test_the_owner_makes_an_album_and_sees_it_listed_with_its_count(alice, user, make_conversion):
    response = alice.post(reverse("translator:albums"), {"name": "  Summer   2026 "})
    made = Album.objects.get(owner=user)
    assert made.name == "Summer 2026"
    assert response.status_code == 302 and response["Location"] == made.get_absolute_url()
    services.add_to_album(album=made, conversions=[make_conversion("a.jpg"), make_conversion("b.jpg")])
    page = alice.get(reverse("translator:albums")).content.decode()
    assert "Summer 2026" in page and "2 photos" in page


def test_every_page_links_the_albums_and_marks_the_link_on_album_pages(alice, album):
    link = f'<a href="{reverse("translator:albums")}" aria-current="page">Albums</a>'
    assert link in alice.get(reverse("translator:albums")).content.decode()
    assert link in alice.get(album.get_absolute_url()).content.decode()
    gallery = alice.get(reverse("translator:gallery")).content.decode()
    assert f'<a href="{reverse("translator:albums")}" >Albums</a>' in gallery


@pytest.mark.parametrize("name, message", [
    ("", "Give the album a name."),
    ("holidays", "You already have an album called “holidays”."),
    ("x" * 101, "An album&#x27;s name has at most 100 characters."),
])
def test_an_album_name_it_cannot_take_is_a_400_in_words_and_nothing_is_made(alice, album, name, message):
    response = alice.post(reverse("translator:albums"), {"name": name})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert list(Album.objects.values_list("name", flat=True)) == ["Holidays"]


def test_rename_keeps_the_items_and_refuses_a_taken_name(alice, user, album, make_conversion):
    services.add_to_album(album=album, conversions=[make_conversion()])
    services.create_album(owner=user, name="Work")
    assert alice.post(reverse("translator:album_rename", args=[album.id]), {"name": "Sea"}).status_code == 302
    album.refresh_from_db()
    assert album.name == "Sea" and album.items.count() == 1
    refused = alice.post(reverse("translator:album_rename", args=[album.id]), {"name": "WORK"})
    assert refused.status_code == 400 and "You already have an album called “WORK”." in refused.content.decode()
    album.refresh_from_db()
    assert album.name == "Sea"


def test_deleting_an_album_keeps_its_photos(alice, album, make_conversion, list_stored_files):
    conversion = make_conversion()
    services.add_to_album(album=album, conversions=[conversion])
    files = list_stored_files()
    assert alice.get(reverse("translator:album_delete", args=[album.id])).status_code == 200
    assert alice.post(reverse("translator:album_delete", args=[album.id])).status_code == 302
    assert not Album.objects.exists() and not AlbumItem.objects.exists()
    assert Conversion.objects.filter(pk=conversion.pk).exists()
    assert list_stored_files() == files


def test_the_album_page_lists_its_photos_last_added_first(alice, album, make_conversion):
    first, second = make_conversion("first.jpg"), make_conversion("second.jpg")
    make_conversion("elsewhere.jpg")
    services.add_to_album(album=album, conversions=[second])
    services.add_to_album(album=album, conversions=[first])
    page = alice.get(album.get_absolute_url()).content.decode()
    assert page.index("first.jpg") < page.index("second.jpg")
    assert "elsewhere.jpg" not in page and "2 photos" in page


def test_add_to_album_from_a_photos_page_into_an_album_or_a_new_one(alice, user, album, make_conversion):
    conversion = make_conversion()
    url = reverse("translator:add_to_album", args=[conversion.id])
    assert alice.post(url, {"album": album.id}).status_code == 302
    assert alice.post(url, {"album": "", "new_album": "Best of"}).status_code == 302
    assert sorted(conversion.albums.values_list("name", flat=True)) == ["Best of", "Holidays"]
    page = alice.get(conversion.get_absolute_url()).content.decode()
    assert "In: " in page and "Best of" in page and 'action="' + url in page


def test_the_star_turns_on_and_off_and_answers_json_to_the_script(alice, make_conversion):
    conversion = make_conversion()
    url = reverse("translator:favourite", args=[conversion.id])
    response = alice.post(url, {"favourite": "1", "next": "/gallery/?sort=name"})
    assert response.status_code == 302 and response["Location"] == "/gallery/?sort=name"
    conversion.refresh_from_db()
    assert conversion.favourite
    response = alice.post(url, {"favourite": "0"}, HTTP_ACCEPT="application/json")
    assert response.json() == {"favourite": False}
    conversion.refresh_from_db()
    assert not conversion.favourite


def test_the_star_refuses_a_value_it_cannot_read_and_goes_back_only_to_our_own_pages(alice, make_conversion):
    conversion = make_conversion()
    url = reverse("translator:favourite", args=[conversion.id])
    assert alice.post(url, {"favourite": "yes"}, HTTP_ACCEPT="application/json").status_code == 400
    response = alice.post(url, {"favourite": "1", "next": "https://evil.example/"})
    assert response["Location"] == reverse("translator:gallery")


def owner_requests(album, conversion):
    return [
        ("get", album.get_absolute_url(), {}),
        ("post", reverse("translator:album_rename", args=[album.id]), {"name": "Mine now"}),
        ("get", reverse("translator:album_delete", args=[album.id]), {}),
        ("post", reverse("translator:album_delete", args=[album.id]), {}),
        ("post", reverse("translator:favourite", args=[conversion.id]), {"favourite": "1"}),
        ("post", reverse("translator:add_to_album", args=[conversion.id]), {"new_album": "Mine now"}),
    ]


def test_another_user_gets_404_for_my_albums_and_photos_and_nothing_changes(client, other_user, album, make_conversion):
    conversion = make_conversion()
    client.force_login(other_user)
    for method, url, data in owner_requests(album, conversion):
        assert getattr(client, method)(url, data).status_code == 404, url
    album.refresh_from_db()
    conversion.refresh_from_db()
    assert album.name == "Holidays" and not conversion.favourite
    assert list(Album.objects.values_list("name", flat=True)) == ["Holidays"]


def test_an_anonymous_visitor_is_sent_to_log_in(client, album, make_conversion):
    conversion = make_conversion()
    for method, url, data in [*owner_requests(album, conversion), ("get", reverse("translator:albums"), {}),
                              ("post", reverse("translator:bulk"), {"action": "zip", "ids": [conversion.id]})]:
        response = getattr(client, method)(url, data)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), url
    assert Album.objects.count() == 1


def test_the_albums_list_shows_only_my_own(client, other_user, album):
    services.create_album(owner=other_user, name="Bob's birds")
    client.force_login(other_user)
    page = client.get(reverse("translator:albums")).content.decode()
    assert "Bob&#x27;s birds" in page and "Holidays" not in page


def test_an_album_page_offers_to_remove_the_selected_photos_from_it(alice, album, make_conversion):
    services.add_to_album(album=album, conversions=[make_conversion()])
    page = alice.get(album.get_absolute_url()).content.decode()
    assert f'name="from_album" value="{album.id}"' in page and "Remove from this album" in page
