"""The conversion page's viewing and converting-again parts, and its downloads' names: as the
owner, as another user (404) and logged out (the login page)."""
import pytest
from django.urls import reverse

from translator import services
from translator.models import ArtModel, Conversion, Family
from translator.tasks import run_conversion

pytestmark = pytest.mark.django_db


@pytest.fixture
def second_model(db, tiny_checkpoint):
    model = ArtModel.objects.create(slug="tiny-two", name="Tiny Two", family=Family.FAST_STYLE)
    services.add_model_version(art_model=model, checkpoint_path=tiny_checkpoint, source="tests")
    model.refresh_from_db()
    return model


@pytest.fixture
def done(conversion):
    run_conversion(str(conversion.id))
    conversion.refresh_from_db()
    return conversion


def page(client, conversion):
    return client.get(reverse("translator:detail", args=[conversion.id]))


def test_a_finished_page_has_the_slider_the_viewer_and_a_result_that_links_to_itself(alice, done, second_model):
    html = page(alice, done).content.decode()
    result_url = reverse("translator:file", args=[done.id, "result"])
    assert f'<a href="{result_url}" data-viewer-open' in html  # no scripts: the link opens the image
    assert '<input type="range" id="compare-position"' in html and '<label for="compare-position"' in html
    assert f'data-width="{done.result_width}" data-height="{done.result_height}"' in html
    assert "<dialog" in html and 'data-zoom="in"' in html
    assert 'js/viewer.js' in html and 'css/viewer.css' in html
    assert 'data-side-by-side' in html  # kept: the toggle shows it
    # The picker offers the other model, not the one already used.
    assert '<option value="%d"' % second_model.pk in html and '<option value="%d"' % done.art_model_id not in html
    assert f"<code data-sha256>{done.checkpoint_sha256}</code>" in html


def test_try_another_style_from_the_page_makes_a_job_of_the_same_photo(alice, done, second_model):
    response = alice.post(reverse("translator:restyle", args=[done.id]), {"art_model": second_model.pk})
    new = Conversion.objects.exclude(pk=done.pk).get()
    assert response.status_code == 302 and response["Location"] == new.get_absolute_url()
    assert (new.photo_id, new.art_model) == (done.photo_id, second_model)


def test_try_another_style_with_a_model_that_is_not_offered_says_so_and_stores_nothing(alice, done):
    response = alice.post(reverse("translator:restyle", args=[done.id]), {"art_model": 99999})
    assert response.status_code == 400
    assert "That model is not available. Choose another one." in response.content.decode()
    assert Conversion.objects.count() == 1


def test_run_again_from_the_page(alice, done):
    response = alice.post(reverse("translator:run_again", args=[done.id]))
    new = Conversion.objects.exclude(pk=done.pk).get()
    assert response.status_code == 302 and response["Location"] == new.get_absolute_url()
    assert new.reproduces == done
    assert "Run again of" in page(alice, new).content.decode()


def test_run_again_of_an_unfinished_job_is_refused_on_the_page_in_words(alice, conversion):
    response = alice.post(reverse("translator:run_again", args=[conversion.id]))
    assert response.status_code == 409
    assert "Only a finished conversion can be run again; this one is queued." in response.content.decode()
    assert Conversion.objects.count() == 1


@pytest.mark.parametrize("name", ["restyle", "run_again"])
def test_another_users_conversion_is_a_404_and_nothing_is_made(client, other_user, done, second_model, name):
    client.force_login(other_user)
    response = client.post(reverse(f"translator:{name}", args=[done.id]), {"art_model": second_model.pk})
    assert response.status_code == 404
    assert Conversion.objects.count() == 1


@pytest.mark.parametrize("name", ["restyle", "run_again"])
def test_logged_out_goes_to_the_login_page(client, done, second_model, name):
    url = reverse(f"translator:{name}", args=[done.id])
    response = client.post(url, {"art_model": second_model.pk})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert Conversion.objects.count() == 1


def test_a_get_is_not_allowed(alice, done):
    assert alice.get(reverse("translator:run_again", args=[done.id])).status_code == 405


def test_downloads_are_named_after_the_photo_and_the_model_whatever_their_characters(user, alice, second_model, upload_file):
    second_model.name = 'Crème "Hokusai" / 北斎'
    second_model.save()
    conversion = services.create_conversion(owner=user, upload=upload_file("Île de Ré 2024.jpg"), art_model=second_model)
    run_conversion(str(conversion.id))
    result = alice.get(reverse("translator:file", args=[conversion.id, "result"]) + "?download=1")
    assert result["Content-Disposition"] == (
        "attachment; filename=\"Ile de Re 2024 - Creme _Hokusai_  __.jpg\"; "
        "filename*=UTF-8''%C3%8Ele%20de%20R%C3%A9%202024%20-%20Cr%C3%A8me%20%22Hokusai%22%20%20%E5%8C%97%E6%96%8E.jpg"
    )
    original = alice.get(reverse("translator:file", args=[conversion.id, "original"]) + "?download=1")
    assert original["Content-Disposition"] == (
        "attachment; filename=\"Ile de Re 2024.jpg\"; filename*=UTF-8''%C3%8Ele%20de%20R%C3%A9%202024.jpg"
    )
    shown = alice.get(reverse("translator:file", args=[conversion.id, "result"]))
    assert shown["Content-Disposition"].startswith('inline; filename="Ile de Re 2024 - ')
