"""The generations API: a grid through POST, its rows polled, saved, listed, downloaded, mixed,
deleted; bad input refused with a 400 that says what is wrong; another user's images are 404."""
import io

import numpy as np
import pytest
from PIL import Image

from translator.models import Generation

pytestmark = pytest.mark.django_db


def post_grid(client, model, **body):
    return client.post("/api/v1/generations/", {"model": model.pk, **body}, format="json")


def test_a_grid_is_accepted_made_saved_and_listed(alice_api, stylegan2_model, run_all):
    response = post_grid(alice_api, stylegan2_model, seeds="0-3", truncation=0.5, noise_mode="const")
    assert response.status_code == 202, response.json()
    body = response.json()
    assert body["seeds"] == [0, 1, 2, 3]
    assert [g["status"] for g in body["generations"]] == ["queued"] * 4
    assert {g["batch"] for g in body["generations"]} == {body["batch"]}
    run_all()

    grid = alice_api.get(f"/api/v1/generations/?saved=false&batch={body['batch']}").json()["results"]
    assert [g["seed"] for g in grid] == [0, 1, 2, 3]
    assert all(g["status"] == "succeeded" and g["image_url"] and g["latent_url"] for g in grid)
    assert alice_api.get("/api/v1/generations/").json()["results"] == []  # nothing saved yet

    chosen = grid[2]
    saved = alice_api.post(f"/api/v1/generations/{chosen['id']}/save/")
    assert saved.status_code == 200 and saved.json()["saved"] is True
    listed = alice_api.get("/api/v1/generations/").json()["results"]
    assert [(g["id"], g["seed"], g["truncation"], g["noise_mode"], g["model_version"]) for g in listed] == [
        (chosen["id"], 2, 0.5, "const", 1)
    ]

    image = alice_api.get(f"/api/v1/generations/{chosen['id']}/image/")
    assert image.status_code == 200 and image["Content-Type"] == "image/png"
    first = np.asarray(Image.open(io.BytesIO(b"".join(image.streaming_content))))
    again = np.asarray(Image.open(io.BytesIO(b"".join(alice_api.get(f"/api/v1/generations/{chosen['id']}/image/").streaming_content))))
    assert first.shape == (32, 32, 3) and np.array_equal(first, again)
    latent = alice_api.get(f"/api/v1/generations/{chosen['id']}/latent/")
    assert latent.status_code == 200 and "attachment" in latent["Content-Disposition"]
    with np.load(io.BytesIO(b"".join(latent.streaming_content))) as data:
        assert data["w"].shape == (1, 8, 64)


def test_surprise_seeds_are_random_and_recorded(alice_api, stylegan2_model):
    body = post_grid(alice_api, stylegan2_model, surprise=True, count=3).json()
    assert len(body["seeds"]) == 3 and all(0 <= s < 2**32 for s in body["seeds"])
    assert sorted(Generation.objects.values_list("seed", flat=True)) == sorted(body["seeds"])


@pytest.mark.parametrize(
    "body, field, words",
    [
        ({"seeds": "7-1"}, "seeds", "runs backwards"),
        ({"seeds": "cat"}, "seeds", "is not a seed"),
        ({"seeds": "0-16"}, "seeds", "at most 16"),
        ({"seeds": list(range(17))}, "seeds", "at most 16"),
        ({"seeds": [-1]}, "seeds", "out of range"),
        ({"seeds": [2**32]}, "seeds", "out of range"),
        ({"seeds": ""}, "seeds", "at least one seed"),
        ({}, "seeds", "at least one seed"),
        ({"seeds": "1", "truncation": 1.5}, "truncation", "out of range"),
        ({"seeds": "1", "truncation": -0.1}, "truncation", "out of range"),
        ({"seeds": "1", "truncation": "much"}, "truncation", "a number from 0 to 1"),
        ({"seeds": "1", "noise_mode": "loud"}, "noise_mode", "const, random, none"),
        ({"surprise": True, "count": 40}, "count", "1 to 16"),
    ],
)
def test_bad_input_is_a_400_that_says_what_is_wrong(alice_api, stylegan2_model, body, field, words):
    response = post_grid(alice_api, stylegan2_model, **body)
    assert response.status_code == 400
    error = response.json()
    assert words in " ".join(error["fields"][field]) and words in error["message"]
    assert not Generation.objects.exists()  # nothing stored for a refused request


def test_a_model_that_does_not_generate_is_refused_in_words(alice_api, art_model):
    response = post_grid(alice_api, art_model, seeds="1")
    assert response.status_code == 400
    assert "Only StyleGAN2 models generate images" in response.json()["fields"]["model"][0]


def test_another_users_images_are_404_for_every_verb(alice_api, bob_api, stylegan2_model, run_all):
    body = post_grid(alice_api, stylegan2_model, seeds="1").json()
    run_all()
    gid = body["generations"][0]["id"]
    for url in (f"/api/v1/generations/{gid}/", f"/api/v1/generations/{gid}/image/", f"/api/v1/generations/{gid}/latent/",
                f"/api/v1/generations/{gid}/thumbnail/"):
        assert bob_api.get(url).status_code == 404
    assert bob_api.post(f"/api/v1/generations/{gid}/save/").status_code == 404
    assert bob_api.delete(f"/api/v1/generations/{gid}/").status_code == 404
    assert bob_api.get("/api/v1/generations/?saved=all").json()["results"] == []
    mix = bob_api.post("/api/v1/generations/mix/", {"source_a": {"generation": gid}, "source_b": {"seed": 3},
                                                    "layers": "coarse"}, format="json")
    assert mix.status_code == 404
    assert Generation.objects.count() == 1 and not Generation.objects.get().saved


def test_a_mix_through_the_api_and_its_refusals(alice_api, stylegan2_model, run_all, tiny_checkpoint):
    ids = [g["id"] for g in post_grid(alice_api, stylegan2_model, seeds="1,2").json()["generations"]]
    run_all()
    response = alice_api.post("/api/v1/generations/mix/", {"source_a": {"generation": ids[0]},
                                                           "source_b": {"generation": ids[1]}, "layers": "middle"},
                              format="json")
    assert response.status_code == 202, response.json()
    assert response.json()["kind"] == "mix" and response.json()["layers"] == "middle"
    run_all()
    assert alice_api.get(response.json()["url"]).json()["status"] == "succeeded"

    def mix(**body):
        return alice_api.post("/api/v1/generations/mix/", body, format="json")

    assert "coarse, middle, fine" in mix(source_a={"seed": 1}, source_b={"seed": 2}, layers="all", model=stylegan2_model.pk).json()["message"]
    assert "both sources are seeds" in mix(source_a={"seed": 1}, source_b={"seed": 2}, layers="fine").json()["message"]
    assert "exactly one of" in mix(source_a={"seed": 1, "generation": ids[0]}, source_b={"seed": 2}, layers="fine").json()["message"]

    # A newer version of the model: its images do not mix with the old version's.
    from translator import services

    services.add_model_version(art_model=stylegan2_model, checkpoint_path=stylegan2_model.current_version.checkpoint.path, source="v2")
    newer = post_grid(alice_api, stylegan2_model, seeds="3").json()["generations"][0]["id"]
    run_all()
    refused = mix(source_a={"generation": ids[0]}, source_b={"generation": newer}, layers="coarse")
    assert refused.status_code == 400 and "different versions" in refused.json()["message"]


def test_saving_an_unfinished_image_is_a_409(alice_api, stylegan2_model):
    gid = post_grid(alice_api, stylegan2_model, seeds="1").json()["generations"][0]["id"]
    response = alice_api.post(f"/api/v1/generations/{gid}/save/")
    assert response.status_code == 409 and "Only a finished image" in response.json()["message"]
