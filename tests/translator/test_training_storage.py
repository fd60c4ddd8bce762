"""Training runs with the files in an S3-compatible store (moto's server): the worker trains in
its own scratch folder and pushes what the live page shows and what a resume needs; the web host
reads it from the store; another host resumes from the pushed checkpoint."""
import io
import json
import shutil
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from test_training import make_run, runs_root, stop_after_step, style_dataset  # noqa: F401  (fixtures)
from translator import services
from translator.models import TrainingRun
from translator.tasks import run_training
from translator.worker import run_files, training_runs

pytestmark = pytest.mark.django_db

Status = TrainingRun.Status


def run_keys(s3_storage, run):
    prefix = f"runs/run-{run.pk}/"
    return sorted(k[len(prefix):] for k in s3_storage.keys() if k.startswith(prefix))


@pytest.fixture
def stopped_run(s3_storage, style_dataset, monkeypatch):  # noqa: F811
    """A run on host A, stopped by its admin after step 3 (a checkpoint then)."""
    run = services.start_run(run=make_run(style_dataset, steps=8))
    restore = stop_after_step(monkeypatch, 3)
    run_training(run.pk)
    restore()
    run.refresh_from_db()
    assert run.status == Status.CANCELLED, run.error
    return run


def test_a_stopped_run_leaves_its_live_files_and_newest_checkpoint_in_the_store(s3_storage, stopped_run):
    keys = run_keys(s3_storage, stopped_run)
    assert {"run.json", "metrics.jsonl", "train.log", "samples/latest.jpg"} <= set(keys)
    assert [k for k in keys if k.startswith("checkpoints/")] == [f"checkpoints/step_{stopped_run.step:06d}.pt"]


def test_the_live_page_reads_the_store_when_the_run_folder_is_on_another_host(
    s3_storage, stopped_run, admin_client, settings, tmp_path
):
    settings.RESTYLE_RUNS_ROOT = tmp_path / "web-host-has-no-runs"
    assert not stopped_run.run_dir.exists()
    assert len(training_runs.run_metrics(stopped_run)) == stopped_run.step
    assert "step " in training_runs.log_tail(stopped_run)
    live = admin_client.get(reverse("admin:translator_trainingrun_live", args=[stopped_run.pk])).content.decode()
    assert reverse("admin:translator_trainingrun_sample", args=[stopped_run.pk]) in live
    sample = admin_client.get(reverse("admin:translator_trainingrun_sample", args=[stopped_run.pk]))
    assert sample.status_code == 200 and Image.open(io.BytesIO(sample.content)).format == "JPEG"


def test_another_host_resumes_the_run_from_the_checkpoint_in_the_store(s3_storage, stopped_run, settings, tmp_path):
    stopped_at = stopped_run.step
    settings.RESTYLE_RUNS_ROOT = tmp_path / "host-b-runs"
    services.start_run(run=stopped_run)  # "resume"
    run_training(stopped_run.pk)
    stopped_run.refresh_from_db()
    assert stopped_run.status == Status.SUCCEEDED and stopped_run.step == 8, stopped_run.error
    assert f"(step {stopped_at})" in (stopped_run.run_dir / "train.log").read_text()  # resumed, not restarted
    assert [k for k in run_keys(s3_storage, stopped_run) if k.startswith("checkpoints/")] == ["checkpoints/step_000008.pt"]
    assert stopped_run.model_version.checkpoint.name in s3_storage.keys()


def test_deleting_a_run_removes_its_files_from_the_store(s3_storage, stopped_run):
    assert run_keys(s3_storage, stopped_run)
    services.delete_run_files(run=stopped_run)
    assert run_keys(s3_storage, stopped_run) == []


def test_with_the_local_storage_nothing_is_copied(media_root, style_dataset):  # noqa: F811
    run = services.start_run(run=make_run(style_dataset, steps=2))
    run_training(run.pk)
    assert run_files.storage_is_local()
    assert not (media_root / "runs").exists()


def test_a_worker_whose_run_was_claimed_again_pushes_nothing_over_the_new_attempts_files(s3_storage, stopped_run):
    from translator.services.delivery import Claim

    def stored_log():
        return s3_storage.server.client().get_object(
            Bucket=s3_storage.server.bucket, Key=f"{s3_storage.prefix}/runs/run-{stopped_run.pk}/train.log"
        )["Body"].read()

    (stopped_run.run_dir / "train.log").write_text("written after the run was taken over\n")
    run_files.push(Claim(pk=stopped_run.pk, token="an-earlier-attempt", attempt=1))
    assert b"taken over" not in stored_log()
    run_files.push(Claim(pk=stopped_run.pk, token=stopped_run.claim_token, attempt=stopped_run.attempts))
    assert stored_log() == b"written after the run was taken over\n"




def test_a_host_with_its_own_worker_cache_resumes_a_run_on_an_uploaded_dataset(
    s3_storage, settings, tmp_path, make_image_bytes, monkeypatch
):
    """run.json names the dataset where host A unpacked it; host B unpacks its own copy from the
    store into its own cache and resumes there (host A's cache is gone, so nothing reads it)."""
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("starry/style.jpg", make_image_bytes("JPEG", size=(64, 64), noise=True))
        for n in range(4):
            zf.writestr(f"starry/content/{n}.jpg", make_image_bytes("JPEG", size=(80, 72), noise=True))
    host_a, host_b = tmp_path / "host-a", tmp_path / "host-b"
    settings.RESTYLE_WORKER_CACHE_DIR, settings.RESTYLE_RUNS_ROOT = host_a / "cache", host_a / "runs"
    dataset = services.create_dataset(name="starry", family="fast_style",
                                      archive=SimpleUploadedFile("starry.zip", archive.getvalue()))
    dataset = services.check_dataset(dataset_id=dataset.pk)
    run = services.start_run(run=make_run(dataset, steps=8))
    restore = stop_after_step(monkeypatch, 3)
    run_training(run.pk)
    restore()
    run.refresh_from_db()
    assert run.status == Status.CANCELLED and run.step == 3, run.error
    assert str(host_a / "cache") in training_runs.run_files.read(run, "run.json").decode()
    shutil.rmtree(host_a)

    settings.RESTYLE_WORKER_CACHE_DIR, settings.RESTYLE_RUNS_ROOT = host_b / "cache", host_b / "runs"
    services.start_run(run=run)  # "resume"
    run_training(run.pk)
    run.refresh_from_db()

    assert run.status == Status.SUCCEEDED and run.step == 8, run.error
    assert "(step 3)" in (run.run_dir / "train.log").read_text()  # resumed, not restarted
    recorded = json.loads((run.run_dir / "run.json").read_text())["inputs"]
    assert set(recorded) == {"style", "content"}
    assert all(path.startswith(str(host_b / "cache" / "datasets")) for path in recorded.values()), recorded
    assert not host_a.exists()
