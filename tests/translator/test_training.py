"""Training runs through their state machine, with real (tiny) mlcore training in this process.

The loss network is the random VGG16 (no ImageNet weights here), so every version these runs
make says it is not a real style model; the machinery is the same."""
import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from mlcore.fast_style import FastStyleTrainConfig
from translator import selectors, services
from translator.worker import training_runs
from translator.models import ArtModel, Dataset, TrainingRun
from translator.tasks import run_training

pytestmark = pytest.mark.django_db

Status = TrainingRun.Status


@pytest.fixture(autouse=True)
def runs_root(settings, tmp_path):
    settings.RESTYLE_RUNS_ROOT = tmp_path / "runs"
    settings.RESTYLE_TRAINING_DATA_WORKERS = 0


@pytest.fixture
def style_dataset(tmp_path, make_image_bytes, settings):
    root = tmp_path / "datasets" / "starry"
    (root / "content").mkdir(parents=True)
    (root / "style.jpg").write_bytes(make_image_bytes("JPEG", size=(64, 64), noise=True))
    for n in range(4):
        (root / "content" / f"{n}.jpg").write_bytes(make_image_bytes("JPEG", size=(80, 72), noise=True))
    settings.RESTYLE_DATASET_ROOTS = [tmp_path / "datasets"]
    dataset = services.create_dataset(name="starry", family="fast_style", server_path=str(root))
    return services.check_dataset(dataset_id=dataset.pk)


def tiny_config(**overrides):
    """Smaller still than the "tiny" preset: these tests run many runs on two CPU cores."""
    return FastStyleTrainConfig.preset(
        "tiny", loss_network="random", image_size=32, style_size=32, batch_size=1,
        **{"arch": {"channels": [4, 8, 8], "num_residual_blocks": 1}, **overrides},
    )


def make_run(dataset, steps=6, **kwargs):
    return services.create_run(name="Starry night", family="fast_style", dataset=dataset,
                               config=tiny_config(steps=steps), **kwargs)


def stop_after_step(monkeypatch, stop_at):
    """Runs trained from now on are stopped by their admin after step `stop_at`; the returned
    function ends that."""
    real = training_runs.report_progress

    def stopping(claim):
        report = real(claim)

        def on_progress(progress):
            report(progress)
            if progress.step == stop_at and progress.status == "running":
                services.stop_run(run=TrainingRun.objects.get(pk=claim.pk))

        return on_progress

    monkeypatch.setattr(training_runs, "report_progress", stopping)
    monkeypatch.setattr(training_runs, "STOP_POLL_SECONDS", 0)
    return lambda: monkeypatch.setattr(training_runs, "report_progress", real)


def test_a_run_trains_and_its_model_becomes_an_unpublished_version(style_dataset):
    run = services.start_run(run=make_run(style_dataset))
    assert run.status == Status.QUEUED
    run_training(run.pk)
    run.refresh_from_db()
    assert run.status == Status.SUCCEEDED, run.error
    assert (run.step, run.total_steps) == (6, 6)
    version = run.model_version
    assert version.art_model.name == "Starry night" and version.art_model.family == "fast_style"
    assert not version.art_model.is_active and version.art_model.current_version is None  # not published yet
    assert version.preview and version.checkpoint
    assert any("random VGG" in label for label in version.labels)
    assert (run.run_dir / "train.log").read_text().count("step ") >= 1
    assert "metrics.jsonl" in {p.name for p in run.run_dir.iterdir()}


def test_publishing_makes_the_version_selectable_and_an_older_one_can_be_rolled_back_to(style_dataset, user, upload_file):
    first = make_run(style_dataset)
    services.start_run(run=first)
    run_training(first.pk)
    first.refresh_from_db()
    # Publishing asks for what users see of it; the card comes from the outputs on the probe images.
    services.publish_version(version=first.model_version, description="Painted swirls.",
                             input_hint="a landscape", card=services.CARD_PROBES)
    art_model = ArtModel.objects.get(pk=first.art_model_id)
    assert art_model in selectors.available_models()

    second = services.create_run(name="again", family="fast_style", dataset=style_dataset,
                                 config=tiny_config(steps=3), art_model=art_model)
    services.start_run(run=second)
    run_training(second.pk)
    second.refresh_from_db()
    assert second.model_version.number == 2 and art_model.versions.count() == 2
    services.publish_version(version=second.model_version)
    services.publish_version(version=first.model_version)  # roll back
    art_model.refresh_from_db()
    assert art_model.current_version == first.model_version

    conversion = services.create_conversion(owner=user, upload=upload_file(), art_model=art_model)
    assert conversion.model_version == first.model_version


def test_starting_twice_starts_one_run(style_dataset):
    run = make_run(style_dataset)
    services.start_run(run=run)
    with pytest.raises(services.ServiceError, match="is queued; it cannot be started now"):
        services.start_run(run=run)
    assert services.claim_run(run_id=run.pk)
    assert not services.claim_run(run_id=run.pk)  # a second worker gets nothing


def test_a_run_stopped_midway_is_cancelled_with_a_checkpoint_and_resumes_from_that_step(style_dataset, monkeypatch):
    run = services.start_run(run=make_run(style_dataset, steps=8))
    restore = stop_after_step(monkeypatch, 3)
    run_training(run.pk)
    run.refresh_from_db()
    assert run.status == Status.CANCELLED
    stopped_at = run.step
    assert 3 <= stopped_at < 8
    assert list((run.run_dir / "checkpoints").glob("*.pt"))

    restore()
    services.start_run(run=run)  # "resume"
    run_training(run.pk)
    run.refresh_from_db()
    assert run.status == Status.SUCCEEDED and run.step == 8
    log = (run.run_dir / "train.log").read_text()
    assert f"(step {stopped_at})" in log  # mlcore says which checkpoint it resumed from


def test_stopping_a_queued_run_cancels_it_and_a_finished_one_cannot_be_stopped(style_dataset):
    run = services.start_run(run=make_run(style_dataset))
    assert services.stop_run(run=run).status == Status.CANCELLED
    run_training(run.pk)  # the message still arrives: nothing happens
    assert TrainingRun.objects.get(pk=run.pk).status == Status.CANCELLED
    with pytest.raises(services.ServiceError, match="nothing to stop"):
        services.stop_run(run=run)


def test_a_run_whose_worker_went_silent_is_failed_and_resumable(style_dataset, settings):
    run = services.start_run(run=make_run(style_dataset))
    claim = services.claim_run(run_id=run.pk)
    assert services.beat(claim=claim)  # alive: nothing to settle
    assert services.sweep_runs()["failed"] == 0
    TrainingRun.objects.filter(pk=run.pk).update(lease_expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert services.sweep_runs()["failed"] == 1
    run.refresh_from_db()
    assert run.status == Status.FAILED and "Resume the run" in run.error
    assert services.start_run(run=run).status == Status.QUEUED


def test_a_run_that_cannot_train_fails_with_the_reason(style_dataset, monkeypatch, tmp_path):
    monkeypatch.setenv("RESTYLE_OFFLINE", "1")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "no-torch-home"))
    run = services.create_run(name="real vgg", family="fast_style", dataset=style_dataset,
                              config=FastStyleTrainConfig.preset("tiny"))  # ImageNet VGG16: not here
    services.start_run(run=run)
    run_training(run.pk)
    run.refresh_from_db()
    assert run.status == Status.FAILED
    assert "vgg16-397923af.pth" in run.error and "RESTYLE_VGG16_WEIGHTS" in run.error


def test_a_run_needs_a_ready_dataset_of_its_family(style_dataset):
    Dataset.objects.filter(pk=style_dataset.pk).update(status=Dataset.Status.INVALID)
    style_dataset.refresh_from_db()
    with pytest.raises(services.ServiceError, match="is not ready"):
        make_run(style_dataset)
    with pytest.raises(services.ServiceError, match="not this family"):
        services.create_run(name="x", family="pix2pix", dataset=style_dataset, config=tiny_config())


# --- the admin ------------------------------------------------------------------------------


def test_the_admin_asks_for_the_family_then_shows_its_settings_as_a_form(admin_client, style_dataset):
    chooser = admin_client.get(reverse("admin:translator_trainingrun_add")).content.decode()
    assert "?family=fast_style" in chooser and "?family=pix2pix" in chooser
    page = admin_client.get(reverse("admin:translator_trainingrun_add") + "?family=fast_style").content.decode()
    for words in ('name="cfg:arch.channels"', 'name="cfg:style_weight"', 'name="cfg:content_layer"',
                  "weight of the Gram-matrix style loss", '<option value="johnson2016">', "starry"):
        assert words in page


def test_the_admin_creates_and_starts_a_run_from_the_form(admin_client, style_dataset, django_capture_on_commit_callbacks):
    data = {"family": "fast_style", "name": "from the form", "dataset": style_dataset.pk, "device_class": "cpu",
            "precision": "fp32", "seed": 3, "start_now": "on", "preset": "tiny", "cfg:steps": "4",
            "cfg:loss_network": "random", "cfg:style_layers": ["relu1_2", "relu2_2"]}
    with django_capture_on_commit_callbacks() as callbacks:
        response = admin_client.post(reverse("admin:translator_trainingrun_add") + "?family=fast_style", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    run = TrainingRun.objects.get()
    assert run.status == Status.QUEUED and len(callbacks) == 1
    config = FastStyleTrainConfig.from_dict(run.config)
    assert config.steps == 4 and config.style_layers == ("relu1_2", "relu2_2")
    assert config.arch.channels == (8, 16, 32)  # from the preset: untouched fields keep it
    assert run.seed == 3 and run.total_steps == 4


def test_bad_settings_are_refused_with_mlcore_s_own_words(admin_client, style_dataset):
    data = {"family": "fast_style", "name": "bad", "dataset": style_dataset.pk, "device_class": "cpu",
            "precision": "fp32", "seed": 0, "cfg:arch.channels": "8, 16", "cfg:lr": "-1"}
    response = admin_client.post(reverse("admin:translator_trainingrun_add") + "?family=fast_style", data)
    page = response.content.decode()
    assert response.status_code == 200 and not TrainingRun.objects.exists()
    assert "Ensure this value is greater than or equal to 0.0." in page
    data["cfg:lr"] = "0.001"
    response = admin_client.post(reverse("admin:translator_trainingrun_add") + "?family=fast_style", data)
    assert response.context["form"].errors["cfg:arch.channels"] == ["item 3: Field required; got [8, 16]"]
    assert "item 3: Field required; got [8, 16]" in response.content.decode()
    assert not TrainingRun.objects.exists()


def test_the_run_page_shows_progress_charts_samples_and_log_and_acts(admin_client, style_dataset):
    run = services.start_run(run=make_run(style_dataset))
    run_training(run.pk)
    run.refresh_from_db()
    page = admin_client.get(reverse("admin:translator_trainingrun_change", args=[run.pk])).content.decode()
    assert "step 6 of 6 (100%)" in page
    assert "<svg" in page and "<polyline" in page  # a plot, not a table
    assert reverse("admin:translator_trainingrun_sample", args=[run.pk]) in page
    assert "step 6/6" in page  # the log tail
    assert admin_client.get(reverse("admin:translator_trainingrun_sample", args=[run.pk])).status_code == 200
    live = admin_client.get(reverse("admin:translator_trainingrun_live", args=[run.pk])).content.decode()
    assert 'data-refresh="0"' in live  # finished: the page stops refreshing

    clone = admin_client.post(reverse("admin:translator_trainingrun_act", args=[run.pk, "clone"]))
    assert "clone=" in clone.url
    form = admin_client.get(clone.url).content.decode()
    assert "Starry night (copy)" in form

    version = run.model_version
    page = admin_client.get(reverse("admin:translator_modelversion_change", args=[version.pk])).content.decode()
    assert "Publish this version" in page and "random VGG" in page
    admin_client.post(reverse("admin:translator_modelversion_publish", args=[version.pk]),
                      {"name": "Starry night", "description": "Swirls.", "input_hint": "a landscape", "card": "probes"})
    assert ArtModel.objects.get(pk=version.art_model_id).current_version == version


def test_stop_and_resume_buttons_go_through_the_state_machine(admin_client, style_dataset, django_capture_on_commit_callbacks):
    run = services.start_run(run=make_run(style_dataset))
    admin_client.post(reverse("admin:translator_trainingrun_act", args=[run.pk, "stop"]))
    assert TrainingRun.objects.get(pk=run.pk).status == Status.CANCELLED
    with django_capture_on_commit_callbacks() as callbacks:
        admin_client.post(reverse("admin:translator_trainingrun_act", args=[run.pk, "resume"]))
    assert TrainingRun.objects.get(pk=run.pk).status == Status.QUEUED and len(callbacks) == 1
    response = admin_client.post(reverse("admin:translator_trainingrun_act", args=[run.pk, "start"]), follow=True)
    assert "it cannot be started now" in response.content.decode()
