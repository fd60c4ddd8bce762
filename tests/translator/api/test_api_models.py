"""The model catalogue through the API."""
import pytest

from translator import services

pytestmark = pytest.mark.django_db


def test_published_models_are_listed_with_what_they_expect(alice_api, art_model):
    services.set_model_preview(art_model=art_model, jpeg_bytes=b"\xff\xd8preview")
    body = alice_api.get("/api/v1/models/").json()
    assert [m["slug"] for m in body] == ["tiny"]
    model = body[0]
    assert model["family"] == "fast_style"
    assert model["description"] == "A random test network."
    assert model["expects"] == "Any photo"
    assert model["version"] == 1
    assert model["preview_url"] == "http://testserver/models/tiny/preview"
    assert model["accepts"]["formats"] == ["image/jpeg", "image/png", "image/webp"]
    assert alice_api.get(f"/api/v1/models/{art_model.pk}/").json()["slug"] == "tiny"


def test_inactive_models_are_not_listed(alice_api, art_model, assert_error):
    art_model.is_active = False
    art_model.save()
    assert alice_api.get("/api/v1/models/").json() == []
    assert_error(alice_api.get(f"/api/v1/models/{art_model.pk}/"), 404, code="not_found")


def test_the_catalogue_needs_authentication(api, art_model, assert_error):
    assert_error(api.get("/api/v1/models/"), 401, code="not_authenticated")
