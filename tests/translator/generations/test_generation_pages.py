"""The Generate page, its grid, a generated image's page and the gallery's Generated section,
through Django's test client with the real task run in this process."""
import io

import numpy as np
import pytest
from django.core.files.base import ContentFile
from PIL import Image

from mlcore.stylegan2 import generate as sg
from translator import services
from translator.models import Conversion, Generation, Photo

pytestmark = pytest.mark.django_db


def test_the_nav_offers_generate_only_when_a_stylegan2_model_is_available(alice, art_model, request):
    assert "Generate</a>" not in alice.get("/gallery/").content.decode()  # a photo model only
    assert "No image-generating models" in alice.get("/generate/").content.decode()
    stylegan2_model = request.getfixturevalue("stylegan2_model")
    assert "Generate</a>" in alice.get("/gallery/").content.decode()
    stylegan2_model.is_active = False
    stylegan2_model.save()
    assert "Generate</a>" not in alice.get("/gallery/").content.decode()


def test_generate_page_submits_a_grid_that_fills_in_and_saves_one(alice, stylegan2_model, run_all):
    page = alice.get("/generate/")
    html = page.content.decode()
    assert page.status_code == 200 and "Generate</a>" in html
    assert 'type="range" name="truncation"' in html and 'step="0.05"' in html and 'value="0.7"' in html
    assert "Surprise me" in html and "Tiny GAN" in html

    response = alice.post("/generate/", {"art_model": stylegan2_model.pk, "seeds": "1,5,9", "truncation": "0.65",
                                         "noise_mode": "const"})
    assert response.status_code == 302
    rows = list(Generation.objects.order_by("created_at"))
    assert [r.seed for r in rows] == [1, 5, 9] and {r.truncation for r in rows} == {0.65}
    assert response["Location"] == f"/generate/{rows[0].batch}/"

    grid = alice.get(response["Location"]).content.decode()
    assert grid.count("data-generation ") == 3 and 'data-state="queued"' in grid
    assert f"/api/v1/generations/{rows[0].id}/" in grid  # each tile polls its row's status
    run_all()
    grid = alice.get(response["Location"]).content.decode()
    assert grid.count('data-state="succeeded"') == 3 and "Save to gallery" in grid
    assert "32×32 px" in alice.get("/generate/").content.decode()  # the model card learnt its size

    saved = alice.post(f"/generated/{rows[1].id}/save", {"next": response["Location"]})
    assert saved.status_code == 302 and saved["Location"] == response["Location"]
    gallery = alice.get("/gallery/").content.decode()
    assert "Generated" in gallery and "seed 5" in gallery and "seed 1" not in gallery


def test_the_surprise_button_makes_random_seeds(alice, stylegan2_model):
    response = alice.post("/generate/", {"art_model": stylegan2_model.pk, "seeds": "", "truncation": "0.7",
                                         "noise_mode": "const", "surprise": "1"})
    assert response.status_code == 302 and Generation.objects.count() == 8


@pytest.mark.parametrize("seeds, truncation, words", [
    ("0-20", "0.7", "at most 16"),
    ("a,b", "0.7", "is not a seed"),
    ("1", "2", "out of range"),
])
def test_bad_input_is_shown_on_the_page_and_nothing_is_queued(alice, stylegan2_model, seeds, truncation, words):
    response = alice.post("/generate/", {"art_model": stylegan2_model.pk, "seeds": seeds, "truncation": truncation,
                                         "noise_mode": "const"})
    assert response.status_code == 400 and words in response.content.decode()
    assert not Generation.objects.exists()


def test_a_generated_image_page_shows_its_settings_and_the_same_pixels_each_time(alice, user, stylegan2_model, run_all):
    [row] = services.create_grid(owner=user, art_model=stylegan2_model, seeds="42", truncation=0.5, noise_mode="none")
    run_all()
    html = alice.get(f"/generated/{row.id}/").content.decode()
    assert "seed 42" in html and "0.50" in html and "No noise" in html and "version 1" in html
    assert "Download PNG" in html and "Mix its styles" in html

    def fetch():
        response = alice.get(f"/generated/{row.id}/image")
        assert response["Content-Type"] == "image/png"
        return np.asarray(Image.open(io.BytesIO(b"".join(response.streaming_content))))

    assert np.array_equal(fetch(), fetch())


def test_another_users_image_is_a_404_on_every_page_and_file(client, other_user, user, stylegan2_model, run_all):
    [row] = services.create_grid(owner=user, art_model=stylegan2_model, seeds="3")
    run_all()
    client.force_login(other_user)
    for url in (f"/generated/{row.id}/", f"/generated/{row.id}/image", f"/generated/{row.id}/latent",
                f"/generate/{row.batch}/"):
        assert client.get(url).status_code == 404, url
    for url in (f"/generated/{row.id}/save", f"/generated/{row.id}/delete", f"/generated/{row.id}/mix"):
        assert client.post(url, {"source": "seed", "seed": "1", "layers": "coarse"}).status_code == 404, url
    row.refresh_from_db()
    assert not row.saved and Generation.objects.count() == 1


def projected_photo(owner, art_model, ws):
    """A finished "put my photo into this model" conversion with its latent, as that job leaves it."""
    import tempfile

    photo = Photo.objects.create(owner=owner, image=ContentFile(b"x", name="p.jpg"), original_name="me.jpg",
                                 format="JPEG", width=32, height=32, size_bytes=1)
    conversion = Conversion.objects.create(owner=owner, photo=photo, art_model=art_model,
                                           model_version=art_model.current_version, status=Conversion.Status.SUCCEEDED)
    with tempfile.TemporaryDirectory() as tmp:
        path = sg.save_latent(f"{tmp}/w.npz", ws, space="w+")
        conversion.latent.save("latent.npz", ContentFile(path.read_bytes()))
    return conversion


def test_mixing_a_generated_image_with_a_projected_photo_from_its_page(alice, user, stylegan2_model, stylegan2_checkpoint, run_all):
    [row] = services.create_grid(owner=user, art_model=stylegan2_model, seeds="8")
    run_all()
    G = sg.load_generator(stylegan2_checkpoint)
    photo_ws = sg.ws_from_seeds(G, [1234], truncation_psi=0.3)  # stands for a projection's result
    photo = projected_photo(user, stylegan2_model, photo_ws)

    page = alice.get(f"/generated/{row.id}/").content.decode()
    assert f'value="conversion:{photo.id}"' in page and "me.jpg" in page
    response = alice.post(f"/generated/{row.id}/mix", {"source": f"conversion:{photo.id}", "layers": "coarse"})
    assert response.status_code == 302
    mixed = Generation.objects.get(kind=Generation.Kind.MIX)
    assert response["Location"] == f"/generated/{mixed.id}/"
    run_all()
    mixed.refresh_from_db()
    assert mixed.status == Generation.Status.SUCCEEDED, mixed.error
    expected = sg.mix(sg.ws_from_seeds(G, [8], truncation_psi=0.7), photo_ws, "coarse")
    stored, _ = sg.load_latent(mixed.latent.path)
    assert np.array_equal(stored.numpy(), expected.numpy())
    assert "projected photo “me.jpg”" in alice.get(f"/generated/{mixed.id}/").content.decode()


def test_a_mix_without_a_seed_says_so(alice, user, stylegan2_model, run_all):
    [row] = services.create_grid(owner=user, art_model=stylegan2_model, seeds="8")
    run_all()
    response = alice.post(f"/generated/{row.id}/mix", {"source": "seed", "seed": "", "layers": "fine"})
    assert response.status_code == 400 and "Type a seed" in response.content.decode()
    assert Generation.objects.count() == 1


def test_deleting_a_generated_image_removes_it_and_its_files(
    alice, user, stylegan2_model, run_all, list_stored_files, django_capture_on_commit_callbacks
):
    [row] = services.create_grid(owner=user, art_model=stylegan2_model, seeds="8")
    run_all()
    assert len(list_stored_files("generations")) == 3
    with django_capture_on_commit_callbacks(execute=True):
        assert alice.post(f"/generated/{row.id}/delete").status_code == 302
    assert not Generation.objects.exists() and list_stored_files("generations") == []
