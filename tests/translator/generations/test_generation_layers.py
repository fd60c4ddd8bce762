"""A mix over a style range the model does not have (fine on a 32 px model) is refused with a
400 that says which ranges it has, on the page and through the API, and nothing is queued;
the ranges come from the resolution the version recorded (mlcore.stylegan2.layers, no torch)."""
import pytest

from translator import services
from translator.models import Generation

pytestmark = pytest.mark.django_db

WORDS = "This 32 px model has no fine layers: choose coarse or middle."


def test_the_tiny_model_records_32_px_and_has_no_fine_layers(stylegan2_model):
    assert stylegan2_model.current_version.resolution == 32
    assert services.missing_layers(version=stylegan2_model.current_version) == ["fine"]


def test_a_fine_mix_on_a_32_px_model_is_a_400_through_the_api(alice_api, stylegan2_model):
    response = alice_api.post("/api/v1/generations/mix/", {"model": stylegan2_model.pk, "source_a": {"seed": 1},
                                                           "source_b": {"seed": 2}, "layers": "fine"}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["message"] == WORDS and body["fields"] == {"layers": [WORDS]} and body["code"] == "empty_range"
    assert not Generation.objects.exists()
    ok = alice_api.post("/api/v1/generations/mix/", {"model": stylegan2_model.pk, "source_a": {"seed": 1},
                                                     "source_b": {"seed": 2}, "layers": "middle"}, format="json")
    assert ok.status_code == 202


def test_the_image_page_offers_only_the_ranges_the_model_has_and_refuses_fine(alice, user, stylegan2_model, run_all):
    [row] = services.create_grid(owner=user, art_model=stylegan2_model, seeds="8")
    run_all()
    html = alice.get(f"/generated/{row.id}/").content.decode()
    assert 'value="fine" disabled' in html and "this 32 px model has none" in html
    assert 'value="middle" disabled' not in html
    response = alice.post(f"/generated/{row.id}/mix", {"source": "seed", "seed": "3", "layers": "fine"})
    assert response.status_code == 400 and WORDS in response.content.decode()
    assert Generation.objects.count() == 1


def test_a_version_without_a_recorded_resolution_is_not_refused(user, stylegan2_model):
    version = stylegan2_model.current_version
    version.config = {k: v for k, v in version.config.items() if k != "resolution"}
    version.save()
    mix = services.create_mix(owner=user, art_model=stylegan2_model, source_a=1, source_b=2, layers="fine")
    assert mix.layers == "fine"
