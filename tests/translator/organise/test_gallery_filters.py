"""The gallery's tiles, sort, filters and search: what the page shows for each GET parameter."""
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from translator import selectors, services

pytestmark = pytest.mark.django_db

GALLERY = "/gallery/"


def names_on(response):
    """The photo names of the tiles, in page order."""
    return re.findall(r'data-tile-name title="[^"]*">([^<]+)</a>', response.content.decode())


@pytest.fixture
def photos(make_conversion, second_model):
    now = timezone.now()
    return {
        "beach": make_conversion("Beach.jpg", created_at=now - timedelta(days=40)),
        "cat": make_conversion("cat.jpg", model=second_model, created_at=now - timedelta(hours=1), favourite=True),
        "attic": make_conversion("attic.JPG", created_at=now - timedelta(days=3)),
    }


def test_a_tile_shows_the_photo_name_model_date_star_and_select_box(alice, make_conversion):
    when = timezone.make_aware(timezone.datetime(2026, 12, 1, 8, 18))
    conversion = make_conversion("Holiday at sea.jpg", created_at=when, favourite=True)
    page = alice.get(GALLERY).content.decode()
    tile = page[page.index(f'data-tile="{conversion.id}"'):]
    tile = tile[: tile.index("</li>")]
    assert "Holiday at sea.jpg" in tile and "Tiny" in tile
    assert re.search(r'<time datetime="2026-12-01T08:18:00[^"]*" data-tile-date>1 Dec 2026</time>', tile)
    assert 'aria-pressed="true"' in tile and "★" in tile
    assert f'name="ids" value="{conversion.id}" form="bulk-form"' in tile


@pytest.mark.parametrize(
    "query, expected",
    [
        ("", ["cat.jpg", "attic.JPG", "Beach.jpg"]),
        ("?sort=oldest", ["Beach.jpg", "attic.JPG", "cat.jpg"]),
        ("?sort=name", ["attic.JPG", "Beach.jpg", "cat.jpg"]),
        ("?sort=model", ["cat.jpg", "attic.JPG", "Beach.jpg"]),  # Aqua before Tiny, newest first within
        ("?model=aqua", ["cat.jpg"]),
        ("?favourites=on", ["cat.jpg"]),
        ("?q=AT", ["cat.jpg", "attic.JPG"]),
        ("?q=beach&sort=oldest", ["Beach.jpg"]),
    ],
)
def test_sort_filter_and_search_choose_and_order_the_tiles(alice, photos, query, expected):
    response = alice.get(GALLERY + query)
    assert response.status_code == 200
    assert names_on(response) == expected


@pytest.mark.parametrize("period", ["week", "month"])
def test_this_week_or_month_shows_what_was_made_since_it_began(alice, make_conversion, period):
    began = selectors.period_start(period=period)
    make_conversion("before.jpg", created_at=began - timedelta(minutes=1))
    make_conversion("since.jpg", created_at=began)
    make_conversion("now.jpg")
    assert names_on(alice.get(GALLERY, {"period": period})) == ["now.jpg", "since.jpg"]


def test_a_date_range_counts_its_last_day_whole(alice, photos):
    three_days_ago = timezone.localdate() - timedelta(days=3)
    response = alice.get(GALLERY, {"date_from": three_days_ago.isoformat(), "date_to": three_days_ago.isoformat()})
    assert names_on(response) == ["attic.JPG"]


def test_this_week_starts_on_monday(photos):
    wednesday = timezone.make_aware(timezone.datetime(2026, 12, 2, 15, 0))
    assert selectors.period_start(period="week", now=wednesday) == timezone.make_aware(timezone.datetime(2026, 11, 30))
    assert selectors.period_start(period="month", now=wednesday) == timezone.make_aware(timezone.datetime(2026, 12, 1))


def test_an_album_filter_shows_only_that_albums_photos(alice, user, photos):
    album = services.create_album(owner=user, name="Pets")
    services.add_to_album(album=album, conversions=[photos["cat"]])
    assert names_on(alice.get(GALLERY, {"album": album.id})) == ["cat.jpg"]


def test_an_empty_result_says_no_photo_matches(alice, photos):
    response = alice.get(GALLERY, {"q": "nothing-like-this"})
    assert response.status_code == 200
    assert names_on(response) == []
    assert "No photos match these filters." in response.content.decode()


@pytest.mark.parametrize(
    "query, message",
    [
        ({"sort": "size"}, "Sort by newest, oldest, name or model."),
        ({"model": "wave"}, "You have no photos converted with that model."),
        ({"date_from": "yesterday"}, "Give the first day as YYYY-MM-DD."),
        ({"date_from": "2026-12-05", "date_to": "2026-12-01"}, "The last day comes before the first."),
        ({"album": "999"}, "You have no such album."),
    ],
)
def test_a_filter_it_cannot_read_is_a_400_that_says_why(alice, photos, query, message):
    response = alice.get(GALLERY, query)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert names_on(response) == []


def test_another_users_album_is_no_filter_of_mine(alice, other_user, photos):
    theirs = services.create_album(owner=other_user, name="Theirs")
    services.add_to_album(album=theirs, conversions=[])
    response = alice.get(GALLERY, {"album": theirs.id})
    assert response.status_code == 400 and "You have no such album." in response.content.decode()


def test_the_pager_keeps_the_sort_and_filters(alice, make_conversion, monkeypatch):
    monkeypatch.setattr("translator.views.GALLERY_PAGE_SIZE", 2)
    for i in range(3):
        make_conversion(f"pic{i}.jpg")
    first = alice.get(GALLERY, {"sort": "name", "q": "pic"})
    assert names_on(first) == ["pic0.jpg", "pic1.jpg"]
    link = re.search(r'<a href="([^"]+)">Next →</a>', first.content.decode()).group(1).replace("&amp;", "&")
    assert "sort=name" in link and "q=pic" in link and "page=2" in link
    assert names_on(alice.get(GALLERY + link)) == ["pic2.jpg"]


def test_the_gallery_shows_only_my_photos(alice, make_conversion, other_user):
    make_conversion("mine.jpg")
    make_conversion("theirs.jpg", owner=other_user)
    assert names_on(alice.get(GALLERY, {"q": "jpg"})) == ["mine.jpg"]
