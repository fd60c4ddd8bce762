"""A run that asks for N GPUs of one worker trains under torchrun, N processes, through the
same task, lease and fenced writes as a one-process run; and the admin's form refuses N that
cannot work, in words.

There is no GPU here: RESTYLE_TRAINING_ALLOW_CPU_PROCESSES (a setting for tests only) lets a
CPU run use several processes, so the same torchrun subprocess path runs with gloo."""
import os
from pathlib import Path

import pytest
from django.urls import reverse

from mlcore import engine
from translator import services
from translator.models import ArtModel, TrainingRun
from translator.tasks import run_training
from translator.worker import torchrun, training_runs

from mlcore.fast_style import FastStyleTrainConfig
from test_training import runs_root, style_dataset  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db

Status = TrainingRun.Status


@pytest.fixture
def cpu_processes(settings):
    settings.RESTYLE_TRAINING_ALLOW_CPU_PROCESSES = True


def make_run(dataset, *, steps, processes=2, batch_size=2):
    config = FastStyleTrainConfig.preset(  # as test_training's tiny config, at a batch of 2
        "tiny", loss_network="random", image_size=32, style_size=32, batch_size=batch_size, steps=steps,
        arch={"channels": [4, 8, 8], "num_residual_blocks": 1},
    )
    return services.create_run(name="Two processes", family="fast_style", dataset=dataset, config=config,
                               processes=processes)


def test_a_two_process_run_trains_under_torchrun_and_its_model_is_published(style_dataset, cpu_processes, admin_client):
    run = services.start_run(run=make_run(style_dataset, steps=4))
    run_training(run.pk)
    run.refresh_from_db()
    assert run.status == Status.SUCCEEDED, run.error
    assert run.step == 4 and run.metrics  # progress came from rank 0's metrics.jsonl
    state = engine.read_run(run.run_dir)
    assert state["world_size"] == 2 and state["status"] == "completed"  # trained by two ranks
    log = (run.run_dir / "train.log").read_text()
    assert "torch.distributed.run --standalone --nproc-per-node 2" in log
    assert "rank 1 of 2 (gloo" in log

    version = run.model_version
    assert version.checkpoint and version.preview
    services.publish_version(version=version, description="Trained by two ranks.", input_hint="any photo",
                             card=services.CARD_PROBES)
    assert ArtModel.objects.get(pk=version.art_model_id).current_version == version
    page = admin_client.get(reverse("admin:translator_trainingrun_change", args=[run.pk])).content.decode()
    assert "2 processes (torchrun" in page


def test_a_stop_ends_every_process_and_leaves_the_run_resumable(style_dataset, cpu_processes, monkeypatch):
    run = services.start_run(run=make_run(style_dataset, steps=400))
    real = training_runs.report_progress
    groups = []

    def stop_once_it_trains(claim):
        report = real(claim)

        def on_progress(progress):
            report(progress)
            if progress.step >= 2 and TrainingRun.objects.filter(pk=claim.pk, status=Status.RUNNING).exists():
                services.stop_run(run=TrainingRun.objects.get(pk=claim.pk))

        return on_progress

    popen = torchrun.subprocess.Popen

    def remember_group(*args, **kwargs):
        proc = popen(*args, **kwargs)
        groups.append(proc.pid)
        return proc

    monkeypatch.setattr(training_runs, "report_progress", stop_once_it_trains)
    monkeypatch.setattr(training_runs, "STOP_POLL_SECONDS", 0)
    monkeypatch.setattr(torchrun.subprocess, "Popen", remember_group)
    run_training(run.pk)
    run.refresh_from_db()
    assert run.status == Status.CANCELLED and run.step < 400
    with pytest.raises(ProcessLookupError):  # no rank outlived the stop
        os.killpg(groups[0], 0)
    assert run.step == engine.read_run(run.run_dir)["step"]  # the step of its last checkpoint (0 before the first)
    assert services.start_run(run=run).status == Status.QUEUED  # and it can be resumed from there


def test_a_crashed_subprocess_fails_the_attempt_with_its_output(style_dataset, cpu_processes, monkeypatch):
    run = services.start_run(run=make_run(style_dataset, steps=4))
    real = training_runs.trainer_for

    def style_image_lost_after_the_folder_is_made(run):
        trainer = real(run)
        (Path(style_dataset.server_path) / "style.jpg").unlink()  # every rank then fails to read it
        return trainer

    monkeypatch.setattr(training_runs, "trainer_for", style_image_lost_after_the_folder_is_made)
    run_training(run.pk)
    run.refresh_from_db()
    assert run.status == Status.FAILED
    assert "TrainingProcessesFailed: the 2 training processes exited with code 1:" in run.error
    assert "style.jpg" in run.error  # the ranks' own error, from the output's tail


# --- the form ---------------------------------------------------------------------------------


def form_data(dataset, **overrides):
    return {"family": "fast_style", "name": "gpus", "dataset": dataset.pk, "device_class": "gpu", "processes": "2",
            "precision": "fp32", "seed": 0, "preset": "tiny", "cfg:batch_size": "8", "cfg:loss_network": "random",
            "cfg:style_layers": ["relu1_2", "relu2_2"],
            **overrides}


@pytest.fixture
def gpu_site(settings):
    settings.RESTYLE_TRAINING_DEVICE_CLASSES = ["cpu", "gpu"]
    settings.RESTYLE_TRAINING_MAX_GPUS = 4


def post(admin_client, data):
    return admin_client.post(reverse("admin:translator_trainingrun_add") + "?family=fast_style", data)


def test_the_form_asks_for_gpus_one_by_default_and_makes_a_run_on_several(admin_client, style_dataset, gpu_site):
    page = admin_client.get(reverse("admin:translator_trainingrun_add") + "?family=fast_style").content.decode()
    assert 'name="processes" value="1"' in page
    response = post(admin_client, form_data(style_dataset))
    assert response.status_code == 302, response.context["form"].errors
    run = TrainingRun.objects.get()
    assert run.processes == 2 and run.device_class == "gpu" and run.queue == "training.gpu"
    assert services.clone_run(run=run).processes == 2


@pytest.mark.parametrize("overrides, error", [
    ({"device_class": "cpu"}, "Only a GPU run can train in several processes (one per GPU); a CPU run uses one."),
    ({"processes": "8"}, "A run can use at most 4 GPUs of one worker (RESTYLE_TRAINING_MAX_GPUS)."),
    ({"processes": "3"}, "The batch size (8) must divide by the number of GPUs (3): "
                         "each process trains on an equal share of every batch."),
    ({"processes": "0"}, "Ensure this value is greater than or equal to 1."),
])
def test_the_form_refuses_gpus_that_cannot_work_in_words(admin_client, style_dataset, gpu_site, overrides, error):
    response = post(admin_client, form_data(style_dataset, **overrides))
    assert response.status_code == 200 and not TrainingRun.objects.exists()
    assert response.context["form"].errors["processes"] == [error]


def test_the_service_refuses_them_too(style_dataset, gpu_site):
    with pytest.raises(services.ServiceError, match="must divide by the number of GPUs"):
        services.create_run(name="x", family="fast_style", dataset=style_dataset, device_class="gpu", processes=2,
                            config=FastStyleTrainConfig.preset("tiny", batch_size=3))
