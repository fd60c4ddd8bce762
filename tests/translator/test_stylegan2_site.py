"""StyleGAN2 in the site: "Put my photo into this model" (a projection on the slow queue, with
progress, cancel and the latent kept), the catalogue's facts and seed-grid preview, and the
admin's dataset notes and training charts.

The model is the tiny32 preset with RANDOM WEIGHTS (conftest.stylegan2_checkpoint): what it
makes looks like noise, but the checkpoint, the projection, the latent file and the pages are
the real ones. The photo is a real one from the shared data folder."""
import io
import json
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils.html import escape
from PIL import Image

from mlcore.metrics import FALLBACK_LABEL
from mlcore.stylegan2.generate import load_latent, load_generator
from translator import services, tasks
from translator.models import Conversion, Dataset, TrainingRun
from translator.tasks import run_conversion

pytestmark = pytest.mark.django_db


@pytest.fixture
def real_photo(data_dir):
    path = data_dir / "images" / "content" / "amber.jpg"
    return lambda: SimpleUploadedFile("amber.jpg", path.read_bytes())


@pytest.fixture
def reports(monkeypatch):
    """Every progress report the worker makes, as services.record_progress receives it."""
    seen = []
    real = services.record_progress
    monkeypatch.setattr(services, "record_progress", lambda **kw: (seen.append(kw), real(**kw)))
    return seen


@pytest.fixture
def projected(user, stylegan2_model, real_photo, projection_settings):
    conversion = services.create_conversion(owner=user, upload=real_photo(), art_model=stylegan2_model)
    run_conversion(str(conversion.id))
    conversion.refresh_from_db()
    return conversion


# --- "Put my photo into this model" ------------------------------------------------------------


def test_a_projection_puts_the_photo_into_the_model_with_progress_and_keeps_its_latent(
    user, stylegan2_model, stylegan2_checkpoint, real_photo, projection_settings, reports
):
    conversion = services.create_conversion(owner=user, upload=real_photo(), art_model=stylegan2_model)
    assert conversion.queue == "slow.cpu"  # minutes per photo: never behind or in front of fast jobs
    run_conversion(str(conversion.id))
    conversion.refresh_from_db()
    assert conversion.status == Conversion.Status.SUCCEEDED, conversion.error

    # Live progress with the image so far, every RESTYLE_PROJECTION_PROGRESS_EVERY steps.
    assert [r["detail"] for r in reports] == ["step 2 of 6", "step 4 of 6", "step 6 of 6"]
    assert [round(r["progress"], 3) for r in reports] == [0.333, 0.667, 1.0]
    assert all(r["intermediate_jpeg"][:2] == b"\xff\xd8" for r in reports)
    assert conversion.intermediate

    # The result is the model's own picture (its resolution), not the photo resized.
    with conversion.result.open("rb") as fh:
        assert Image.open(io.BytesIO(fh.read())).size == (32, 32)
    # No LPIPS-VGG16 weights here: the distance used is the fallback, and the result says so.
    assert conversion.label == FALLBACK_LABEL and conversion.label.startswith("fallback: ")

    # The latent reads back with mlcore's own reader, one w per layer of this generator.
    with conversion.latent.open("rb") as fh:
        data = fh.read()
    path = projection_settings.MEDIA_ROOT / "check.npz"
    path.write_bytes(data)
    ws, meta = load_latent(path)
    generator = load_generator(stylegan2_checkpoint)
    assert tuple(ws.shape) == (1, generator.num_ws, generator.w_dim)
    assert meta["space"] == "w" and meta["model"] == "tiny-gan" and meta["distance"] == FALLBACK_LABEL
    # In w space every layer gets the same w.
    assert bool((ws[0] == ws[0, :1]).all())


def test_a_version_may_ask_for_w_plus_and_its_own_step_count(user, stylegan2_model, real_photo, projection_settings,
                                                             reports):
    version = stylegan2_model.current_version
    version.config = {**version.config, "projection_space": "w+", "projection_steps": 4}
    version.save()
    conversion = services.create_conversion(owner=user, upload=real_photo(), art_model=stylegan2_model)
    run_conversion(str(conversion.id))
    conversion.refresh_from_db()
    assert conversion.status == Conversion.Status.SUCCEEDED, conversion.error
    assert [r["detail"] for r in reports] == ["step 2 of 4", "step 4 of 4"]
    path = projection_settings.MEDIA_ROOT / "check.npz"
    with conversion.latent.open("rb") as fh:
        path.write_bytes(fh.read())
    ws, meta = load_latent(path)
    assert meta["space"] == "w+"
    assert not bool((ws[0] == ws[0, :1]).all())  # one w per layer, each moved on its own


def test_cancelling_a_running_projection_ends_it_cancelled_without_a_result(
    user, stylegan2_model, real_photo, projection_settings, reports, monkeypatch, list_stored_files
):
    projection_settings.RESTYLE_PROJECTION_STEPS = 60
    monkeypatch.setattr(tasks, "CANCEL_POLL_SECONDS", 0)  # the worker asks the database at every step
    conversion = services.create_conversion(owner=user, upload=real_photo(), art_model=stylegan2_model)
    recording = services.record_progress  # the `reports` fixture's, which records and stores

    def cancel_at_the_first_image(**kw):
        recording(**kw)
        if len(reports) == 1:  # the user presses Cancel once they see the image so far
            services.cancel_conversion(conversion=Conversion.objects.get(pk=conversion.pk))

    monkeypatch.setattr(services, "record_progress", cancel_at_the_first_image)
    run_conversion(str(conversion.id))
    conversion.refresh_from_db()
    assert conversion.status == Conversion.Status.CANCELLED
    assert [r["detail"] for r in reports] == ["step 2 of 60"]  # it stopped at the next step, not after 60
    assert not conversion.result and not conversion.latent
    # Only the image so far is left (as a cancelled Gatys job keeps it), no result or latent file.
    assert [name.rsplit("-", 1)[-1] for name in list_stored_files("results")] == ["progress.jpg"]


def test_deleting_a_projection_removes_its_latent_file(projected, list_stored_files, django_capture_on_commit_callbacks):
    assert any(name.endswith("latent.npz") for name in list_stored_files("results"))
    with django_capture_on_commit_callbacks(execute=True):
        services.delete_conversion(conversion=projected)
    assert list_stored_files() == []


def test_the_detail_page_says_what_happened_and_offers_the_latent(alice, projected):
    page = alice.get(reverse("translator:detail", args=[projected.id])).content.decode()
    assert "Your photo, projected into Tiny GAN’s latent space." in page
    latent_url = reverse("translator:file", args=[projected.id, "latent"])
    assert f'href="{latent_url}" data-latent >' in page  # shown, not hidden
    assert FALLBACK_LABEL in page


def test_the_latent_is_its_owners_alone(alice, projected, other_user):
    url = reverse("translator:file", args=[projected.id, "latent"])
    response = alice.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith('attachment; filename="amber-tiny-gan-latent.npz"')
    assert b"".join(response.streaming_content)[:2] == b"PK"  # an .npz is a zip archive
    other = Client()
    other.force_login(other_user)
    assert other.get(url).status_code == 404
    assert other.get(reverse("api:conversion-latent", args=[projected.id])).status_code == 404
    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and anonymous.url.startswith(reverse("login"))
    assert Client().get(reverse("api:conversion-latent", args=[projected.id])).status_code == 401


def test_the_api_links_the_latent_once_there_is_one(alice, projected, conversion):
    body = alice.get(reverse("api:conversion-detail", args=[projected.id])).json()
    assert body["latent_url"].endswith(reverse("api:conversion-latent", args=[projected.id]))
    assert alice.get(body["latent_url"]).status_code == 200
    # A photo converted by a feed-forward model has none.
    assert alice.get(reverse("api:conversion-detail", args=[conversion.id])).json()["latent_url"] is None
    assert alice.get(reverse("api:conversion-latent", args=[conversion.id])).status_code == 404


def test_a_page_without_a_latent_yet_hides_the_link(alice, user, stylegan2_model, real_photo):
    conversion = services.create_conversion(owner=user, upload=real_photo(), art_model=stylegan2_model)
    page = alice.get(reverse("translator:detail", args=[conversion.id])).content.decode()
    assert "data-latent hidden" in page
    assert "Your photo, projected into Tiny GAN’s latent space" in page


# --- the catalogue ----------------------------------------------------------------------------


def test_a_stylegan2_version_records_its_resolution_and_training_set_from_the_checkpoint(stylegan2_model):
    assert stylegan2_model.current_version.config == {"resolution": 32, "trained_on": "test paintings"}
    assert (stylegan2_model.resolution, stylegan2_model.trained_on) == (32, "test paintings")


def test_the_models_api_tells_generators_from_translators_with_resolution_and_training_set(
    alice, stylegan2_model, art_model
):
    response = alice.get("/api/v1/models/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    by_slug = {m["slug"]: m for m in response.json()}
    generator, translator = by_slug[stylegan2_model.slug], by_slug[art_model.slug]
    assert (generator["kind"], generator["resolution"], generator["trained_on"]) == ("generate", 32, "test paintings")
    assert (translator["kind"], translator["resolution"], translator["trained_on"]) == ("translate", None, None)
    one = alice.get(f"/api/v1/models/{stylegan2_model.pk}/", HTTP_ACCEPT="application/json").json()
    assert one["kind"] == "generate" and one["resolution"] == 32


def test_the_convert_page_card_offers_to_put_the_photo_into_the_model(alice, stylegan2_model, art_model):
    page = alice.get(reverse("translator:upload")).content.decode()
    card = page[page.index('value="%d"' % stylegan2_model.pk):]
    card = card[: card.index("</label>")]
    assert "Put my photo into this model" in card
    assert "32×32 px · trained on test paintings" in card
    other = page[page.index('value="%d"' % art_model.pk):]
    assert "Put my photo" not in other[: other.index("</label>")] and "px" not in other[: other.index("</label>")]


def test_the_preview_of_a_generator_is_a_grid_of_fixed_seeds(stylegan2_model):
    services.render_model_preview(version=stylegan2_model.current_version)  # no input image needed
    stylegan2_model.refresh_from_db()
    with stylegan2_model.preview.open("rb") as fh:
        first_bytes = fh.read()
    grid = Image.open(io.BytesIO(first_bytes)).convert("L")
    assert grid.size == (64, 64)  # 2 x 2 images of 32 px
    quarters = [grid.crop((x, y, x + 32, y + 32)).tobytes() for y in (0, 32) for x in (0, 32)]
    assert len(set(quarters)) == 4  # four seeds, four different images
    services.render_model_preview(version=stylegan2_model.current_version)
    stylegan2_model.refresh_from_db()
    with stylegan2_model.preview.open("rb") as fh:
        assert fh.read() == first_bytes  # the same seeds every time


# --- the admin --------------------------------------------------------------------------------


def make_zip(entries):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for path, data in entries.items():
            archive.writestr(path, data)
    return SimpleUploadedFile("art.zip", buf.getvalue(), content_type="application/zip")


def test_the_dataset_page_shows_the_image_folder_notes_next_to_problems(admin_client, make_image_bytes):
    square = make_image_bytes("PNG", size=(48, 48), noise=True)
    entries = {f"art/{n}.png": make_image_bytes("PNG", size=(48 + n, 48 + n), noise=True) for n in range(8)}
    entries["art/wide.png"] = make_image_bytes("PNG", size=(96, 48), noise=True)
    entries["art/copy-a.png"] = square
    entries["art/copy-b.png"] = square
    dataset = services.create_dataset(name="paintings", family="stylegan2", archive=make_zip(entries))
    dataset = services.check_dataset(dataset_id=dataset.pk)
    assert dataset.status == Dataset.Status.READY, dataset.problems
    assert dataset.notes, "the image-folder check has findings about this folder"
    joined = " ".join(dataset.notes)
    assert "11 images is a small dataset" in joined  # the count, and what it means (ADA)
    assert "sizes from 48 to 96 px" in joined
    assert "1 of 11 images are not square" in joined and "centre-cropped" in joined  # aspect ratio, crop policy
    assert "copy-a.png = copy-b.png" in joined  # duplicate files
    page = admin_client.get(reverse("admin:translator_dataset_change", args=[dataset.pk])).content.decode()
    assert '<ul class="dataset-notes">' in page
    for note in dataset.notes:
        assert escape(note) in page


def test_the_run_page_charts_the_stylegan2_metrics(admin_client, tmp_path, settings, make_image_bytes):
    from mlcore.stylegan2 import StyleGAN2TrainConfig

    settings.RESTYLE_RUNS_ROOT = tmp_path / "runs"
    root = tmp_path / "datasets" / "paintings"
    root.mkdir(parents=True)
    for n in range(8):  # the fewest StyleGAN2's check lets train
        (root / f"{n}.png").write_bytes(make_image_bytes("PNG", size=(32 + n, 32 + n), noise=True))
    settings.RESTYLE_DATASET_ROOTS = [tmp_path / "datasets"]
    dataset = services.check_dataset(
        dataset_id=services.create_dataset(name="paintings", family="stylegan2", server_path=str(root)).pk
    )
    run = services.create_run(name="Tiny art", family="stylegan2", dataset=dataset,
                              config=StyleGAN2TrainConfig.preset("tiny32", steps=2))
    run.run_dir.mkdir(parents=True, exist_ok=True)
    # What the engine writes: one JSON object per logged step (mlcore.engine.run_folder.MetricsLog).
    with open(run.run_dir / "metrics.jsonl", "w") as fh:
        for step in range(1, 6):
            fh.write(json.dumps({
                "step": step, "kimg": step * 0.004, "loss": 1.0 / step, "g_loss": 1.0 / step, "d_loss": 1.4 - step / 10,
                "r1_penalty": 0.02 * step, "pl_penalty": 0.5, "pl_mean": 0.1 * step, "augment_p": 0.001 * step,
                "d_real_sign": 0.2, "images_per_second": 10.0,
            }) + "\n")
    page = admin_client.get(reverse("admin:translator_trainingrun_change", args=[run.pk])).content.decode()
    captions = ["G loss (non-saturating logistic)", "D loss (logistic)", "R1 penalty on reals",
                "path-length penalty", "path-length mean", "augmentation p (ADA)"]
    positions = [page.index(f"<b>{caption}</b>") for caption in captions]
    assert positions == sorted(positions)  # the losses first, then the regularisers, then ADA
    assert page.count("<polyline") == 7  # those six and ADA's r_t; not kimg, nor "loss" a second time
    assert "<b>kimg</b>" not in page and "<b>loss</b>" not in page
    assert TrainingRun.objects.get(pk=run.pk).family == "stylegan2"


def test_a_trained_stylegan2_model_names_its_dataset_and_publishes_and_rolls_back(
    admin_client, tmp_path, settings, make_image_bytes
):
    from mlcore.stylegan2 import StyleGAN2TrainConfig

    settings.RESTYLE_RUNS_ROOT = tmp_path / "runs"
    settings.RESTYLE_TRAINING_DATA_WORKERS = 0
    root = tmp_path / "datasets" / "paintings"
    root.mkdir(parents=True)
    for n in range(8):
        (root / f"{n}.png").write_bytes(make_image_bytes("PNG", size=(40, 40), noise=True, color=(n * 30, 0, 0)))
    settings.RESTYLE_DATASET_ROOTS = [tmp_path / "datasets"]
    dataset = services.check_dataset(
        dataset_id=services.create_dataset(name="Cubist paintings", family="stylegan2", server_path=str(root)).pk
    )
    versions, art_model = [], None
    for _ in range(2):  # two runs, two versions of one catalogue entry
        run = services.start_run(run=services.create_run(
            name="Tiny art", family="stylegan2", dataset=dataset, art_model=art_model,
            config=StyleGAN2TrainConfig.preset("tiny32", steps=2, batch_size=2, mbstd_group_size=2),
        ))
        tasks.run_training(run.pk)
        run.refresh_from_db()
        assert run.status == TrainingRun.Status.SUCCEEDED, run.error
        versions.append(run.model_version)
        art_model = run.model_version.art_model
    first, second = versions
    assert (first.number, second.number) == (1, 2)
    # The entry got a card picture on the worker: the first version's seed grid, kept by the second.
    from translator.worker import catalogue as worker_catalogue

    art_model.refresh_from_db()
    assert art_model.preview and first.preview and art_model.preview.name != first.preview.name
    with art_model.preview.open("rb") as fh:
        card = fh.read()
    assert card == worker_catalogue.render_preview(version=first)
    assert Image.open(io.BytesIO(card)).size == (64, 64)  # 2 x 2 images of 32 px, not enlarged
    assert first.config == {"resolution": 32, "trained_on": "Cubist paintings"}
    page = admin_client.get(reverse("admin:translator_trainingrun_change", args=[run.pk])).content.decode()
    assert "<b>G loss (non-saturating logistic)</b>" in page and "<b>augmentation p (ADA)</b>" in page
    # Publishing asks for what users see; the seed grid the worker made is kept as the card.
    details = {"name": "Tiny art", "description": "Made-up cubist paintings.", "input_hint": "a portrait",
               "card": "keep"}
    for version in (second, first):  # publish the newer, then roll back to the older
        response = admin_client.post(reverse("admin:translator_modelversion_publish", args=[version.pk]), details)
        assert response.status_code == 302, response.content.decode()[-2000:]
        version.art_model.refresh_from_db()
        assert version.art_model.current_version == version
