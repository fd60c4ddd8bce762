"""An admin turns a dataset into a published model, with a real Redis, a real worker for the
dataset check and conversions, and a real training worker: tiny Pix2Pix settings on CPU."""
import io
import zipfile

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from mlcore.tools.make_pairs import make_pairs
from translator.models import ArtModel, Conversion, Dataset, TrainingRun

from .conftest import wait_for

pytestmark = pytest.mark.e2e


@pytest.fixture
def admin(transactional_db):
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("boss", password="boss-password-1"))
    return client


@pytest.fixture
def paired_zip(data_dir, tmp_path):
    """A generated edges -> photo set (there are no real paired sets here), zipped as an admin would."""
    folder = tmp_path / "edges2photos"
    make_pairs(data_dir / "images" / "content", folder, kind="edges2photo", count=12, size=48, seed=1)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for path in sorted(folder.rglob("*.jpg")):
            archive.write(path, f"edges2photos/{path.relative_to(folder)}")
    return SimpleUploadedFile("edges2photos.zip", buf.getvalue(), content_type="application/zip")


def upload_dataset(admin, paired_zip):
    response = admin.post(reverse("admin:translator_dataset_add"),
                          {"name": "edges to photos", "family": "pix2pix", "archive": paired_zip, "server_path": ""})
    assert response.status_code == 302, response.content.decode()[:2000]
    dataset = Dataset.objects.get()
    wait_for(lambda: Dataset.objects.get(pk=dataset.pk).status != Dataset.Status.CHECKING, 120, "the dataset check")
    dataset.refresh_from_db()
    assert dataset.status == Dataset.Status.READY, dataset.problems
    assert dataset.counts == {"pairs": 12}
    return dataset


def create_run(admin, dataset, name, steps, **extra):
    data = {"family": "pix2pix", "name": name, "dataset": dataset.pk, "device_class": "cpu", "precision": "fp32",
            "seed": 0, "start_now": "on", "preset": "tiny", "cfg:steps": str(steps), **extra}
    response = admin.post(reverse("admin:translator_trainingrun_add") + "?family=pix2pix", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    return TrainingRun.objects.get(name=name)


def wait_for_run(run, statuses, timeout=300):
    def reached():
        run.refresh_from_db()
        return run.status in statuses

    wait_for(reached, timeout, f"run {run} to reach {statuses} (it is {run.status}: {run.error})", interval=0.5)
    return run


def test_a_pix2pix_run_becomes_a_published_model_users_convert_with(
    celery_worker, training_worker, admin, paired_zip, data_dir
):
    dataset = upload_dataset(admin, paired_zip)
    run = wait_for_run(create_run(admin, dataset, "Edges to photos", steps=12),
                       {TrainingRun.Status.SUCCEEDED, TrainingRun.Status.FAILED})
    assert run.status == TrainingRun.Status.SUCCEEDED, run.error
    version = run.model_version
    assert version is not None and version.preview and not version.art_model.is_active

    live = admin.get(reverse("admin:translator_trainingrun_live", args=[run.pk])).content.decode()
    assert "step 12 of 12 (100%)" in live and "<polyline" in live, live

    # Hidden until published; then users see it, with the input it expects.
    user = get_user_model().objects.create_user("painter", password="painter-password-1")
    people = Client()
    people.force_login(user)
    assert "Edges to photos" not in people.get("/").content.decode()
    response = admin.post(reverse("admin:translator_modelversion_publish", args=[version.pk]),
                          {"name": "Edges to photos", "description": "Turns a line drawing into a photo.",
                           "input_hint": "an edge drawing", "card": "probes"})
    assert response.status_code == 302, response.content.decode()[-3000:]
    page = people.get("/").content.decode()
    assert "Edges to photos" in page and "an edge drawing" in page and "Turns a line drawing into a photo." in page
    assert ArtModel.objects.get(pk=version.art_model_id).preview  # the card, from the probe outputs

    with open(data_dir / "images" / "content" / "camera.png", "rb") as fh:
        response = people.post("/", {"image": fh, "art_model": version.art_model_id})
    assert response.status_code == 302
    conversion = Conversion.objects.get(owner=user)
    wait_for(lambda: Conversion.objects.get(pk=conversion.pk).is_finished, 120, "the conversion")
    conversion.refresh_from_db()
    assert conversion.status == Conversion.Status.SUCCEEDED, conversion.error
    assert conversion.model_version == version


def test_the_run_page_follows_a_run_live_and_stops_and_resumes_it(
    celery_worker, training_worker, admin, paired_zip, page
):
    """In a real browser: the admin's run page updates itself, its Stop button gives a cancelled
    run with a checkpoint, and Resume continues from that very step."""
    from playwright.sync_api import expect

    dataset = upload_dataset(admin, paired_zip)
    run = create_run(admin, dataset, "Long run", steps=2000)
    page.goto("/admin/login/")
    page.get_by_label("Username").fill("boss")
    page.get_by_label("Password").fill("boss-password-1")
    page.get_by_role("button", name="Log in").click()

    page.goto(reverse("admin:translator_trainingrun_change", args=[run.pk]))
    step_text = page.locator("[data-run-step]")
    expect(page.locator("[data-run-status]")).to_have_text("Running", timeout=120_000)
    first = step_text.inner_text()
    expect(step_text).not_to_have_text(first, timeout=60_000)  # the panel refreshes by itself
    expect(page.locator(".loss-chart svg polyline").first).to_be_attached(timeout=60_000)
    expect(page.locator("img.run-sample")).to_be_visible(timeout=120_000)

    page.get_by_role("button", name="Stop").click()
    expect(page.locator("[data-run-status]")).to_have_text("Cancelled", timeout=120_000)
    run.refresh_from_db()
    stopped_at = run.step
    assert 1 <= stopped_at < 2000
    checkpoints = sorted((run.run_dir / "checkpoints").glob("step_*.pt"))
    assert checkpoints and checkpoints[-1].name == f"step_{stopped_at:06d}.pt"

    page.get_by_role("button", name="Resume").click()
    expect(page.locator("[data-run-status]")).to_have_text("Running", timeout=120_000)
    wait_for(lambda: TrainingRun.objects.get(pk=run.pk).step > stopped_at, 120, "the resumed run to move on")
    page.get_by_role("button", name="Stop").click()
    expect(page.locator("[data-run-status]")).to_have_text("Cancelled", timeout=120_000)
    log = (run.run_dir / "train.log").read_text()
    assert f"from step_{stopped_at:06d}.pt (step {stopped_at})" in log
