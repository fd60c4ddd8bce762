"""Routing by capability: a job goes to the queue of its kind and the device class it asks for,
a worker's device decides which queues it serves and which jobs it may claim, and where a job ran
is recorded and shown. (tests/e2e/test_routing.py runs it with real worker processes.)"""
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.urls import reverse
from django.utils import timezone

from config import queues
from translator import routing, services
from translator.models import ArtModel, Conversion, DeviceClass, ModelVersion, TrainingRun
from translator.worker import device

from test_training import make_run, style_dataset  # noqa: F401  (a fixture)

REPO = Path(__file__).resolve().parents[2]
Status = Conversion.Status
pytestmark = pytest.mark.django_db


# --- queue names and a worker's queues --------------------------------------------------------


def test_the_queues_carry_the_kind_of_work_and_the_device_class():
    assert set(queues.QUEUES) == {"conversions.cpu", "slow.cpu", "training.cpu",
                                  "conversions.gpu", "slow.gpu", "training.gpu"}
    assert queues.device_class_of_queue("slow.gpu") == "gpu"
    with pytest.raises(ValueError, match="not a Restyle queue"):
        queues.device_class_of_queue("conversions")  # the name before device classes


def test_a_cpu_worker_serves_the_cpu_queues_and_a_gpu_worker_every_queue():
    assert queues.worker_queues("", "cpu") == ("conversions.cpu", "slow.cpu", "training.cpu")
    assert set(queues.worker_queues("", "cuda:1")) == set(queues.QUEUES)


def test_a_kind_means_its_queues_of_every_class_the_device_can_serve():
    assert queues.worker_queues("conversions", "cpu") == ("conversions.cpu",)
    assert queues.worker_queues("conversions", "cuda") == ("conversions.cpu", "conversions.gpu")
    assert queues.worker_queues("training.gpu, conversions", "cuda") == (
        "training.gpu", "conversions.cpu", "conversions.gpu")


def test_a_cpu_worker_cannot_be_given_a_gpu_queue_nor_a_name_that_is_no_queue():
    with pytest.raises(ValueError, match="conversions.gpu holds jobs that need a GPU"):
        queues.worker_queues("conversions.cpu,conversions.gpu", "cpu")
    with pytest.raises(ValueError, match="'gpu-jobs' is not a queue"):
        queues.worker_queues("gpu-jobs", "cuda")


@pytest.mark.parametrize("value, parsed", [("cpu", "cpu"), ("CUDA", "cuda"), (" cuda:1 ", "cuda:1")])
def test_a_worker_device_is_cpu_cuda_or_cuda_with_an_index(value, parsed):
    assert queues.parse_device(value) == parsed


@pytest.mark.parametrize("value", ["gpu", "cuda:", "cuda:x", "mps", ""])
def test_any_other_device_is_refused(value):
    with pytest.raises(ValueError, match="must be cpu, cuda or cuda:N"):
        queues.parse_device(value)


def settings_of(env, *names):
    """The settings a fresh process makes of `env` (or the error that stops its start-up)."""
    code = ("import json, django; django.setup(); from django.conf import settings as s; "
            f"print(json.dumps({{n: getattr(s, n) for n in {list(names)!r}}}))")
    clean = {k: v for k, v in os.environ.items() if not k.startswith("RESTYLE_")}
    return subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120,
                          env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings_test", **env})


def test_the_worker_settings_come_from_the_environment_and_bad_values_stop_start_up(tmp_path):
    var = {"RESTYLE_VAR_DIR": str(tmp_path)}
    done = settings_of({**var, "RESTYLE_WORKER_DEVICE": "cuda:1", "RESTYLE_WORKER_QUEUES": "conversions"},
                       "RESTYLE_WORKER_DEVICE", "RESTYLE_INFERENCE_DEVICE", "RESTYLE_WORKER_QUEUES")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == (
        '{"RESTYLE_WORKER_DEVICE": "cuda:1", "RESTYLE_INFERENCE_DEVICE": "cuda:1", '
        '"RESTYLE_WORKER_QUEUES": ["conversions.cpu", "conversions.gpu"]}')
    bad_device = settings_of({**var, "RESTYLE_WORKER_DEVICE": "gpu"}, "RESTYLE_WORKER_DEVICE")
    assert bad_device.returncode != 0
    assert "RESTYLE_WORKER_DEVICE must be cpu, cuda or cuda:N" in bad_device.stderr
    bad_queue = settings_of({**var, "RESTYLE_WORKER_QUEUES": "training.gpu"}, "RESTYLE_WORKER_QUEUES")
    assert bad_queue.returncode != 0
    assert "RESTYLE_WORKER_QUEUES: training.gpu holds jobs that need a GPU" in bad_queue.stderr
    bad_family = settings_of({**var, "RESTYLE_FAMILY_DEVICE_CLASSES": "ugatit=tpu"}, "RESTYLE_FAMILY_DEVICE_CLASSES")
    assert bad_family.returncode != 0 and "RESTYLE_FAMILY_DEVICE_CLASSES: 'ugatit=tpu'" in bad_family.stderr


# --- which queue a job goes to ----------------------------------------------------------------


def gpu_version_of(art_model):
    """A second catalogue entry whose version (the same network) asks for a GPU."""
    model = ArtModel.objects.create(slug="tiny-gpu", name="Tiny on a GPU", family=art_model.family)
    model.current_version = ModelVersion.objects.create(
        art_model=model, number=1, checkpoint=art_model.current_version.checkpoint.name, device_class="gpu"
    )
    model.save()
    return model


def test_a_conversion_goes_to_the_queue_its_version_asks_for(user, art_model, upload_file):
    cpu_job = services.create_conversion(owner=user, upload=upload_file(), art_model=art_model)
    gpu_job = services.create_conversion(owner=user, upload=upload_file(), art_model=gpu_version_of(art_model))
    assert (cpu_job.queue, gpu_job.queue) == ("conversions.cpu", "conversions.gpu")


def test_a_version_that_names_no_class_asks_for_its_familys_default(user, art_model, gatys_model, upload_file, settings):
    settings.RESTYLE_FAMILY_DEVICE_CLASSES = {"gatys": "gpu"}
    painted = services.create_conversion(owner=user, upload=upload_file(), art_model=gatys_model,
                                         style_upload=upload_file("style.png", fmt="PNG"))
    plain = services.create_conversion(owner=user, upload=upload_file(), art_model=art_model)
    assert (painted.queue, plain.queue) == ("slow.gpu", "conversions.cpu")
    services.set_version_device_class(version=gatys_model.current_version, device_class="cpu")
    gatys_model.refresh_from_db()
    assert routing.conversion_queue(art_model=gatys_model, version=gatys_model.current_version) == "slow.cpu"


def test_a_training_run_goes_to_the_training_queue_of_its_class(style_dataset, settings):  # noqa: F811
    settings.RESTYLE_TRAINING_DEVICE_CLASSES = ["cpu", "gpu"]
    run = make_run(style_dataset, device_class="gpu")
    assert (run.device_class, run.queue) == ("gpu", "training.gpu")
    assert services.clone_run(run=run).queue == "training.gpu"
    settings.RESTYLE_TRAINING_DEVICE_CLASSES = ["cpu"]
    with pytest.raises(services.ServiceError, match="Device 'gpu' is not one of cpu"):
        make_run(style_dataset, device_class="gpu")


def test_the_admin_asks_for_a_device_class_per_run_and_per_version(admin_client, art_model, style_dataset, settings):  # noqa: F811
    settings.RESTYLE_TRAINING_DEVICE_CLASSES = ["cpu", "gpu"]
    form = admin_client.get(reverse("admin:translator_trainingrun_add") + "?family=fast_style").content.decode()
    assert '<option value="gpu">Needs a GPU</option>' in form
    version = art_model.current_version
    url = reverse("admin:translator_modelversion_change", args=[version.pk])
    assert "the conversions.cpu queue" in admin_client.get(url).content.decode()
    assert admin_client.post(url, {"device_class": "gpu"}).status_code == 302
    version.refresh_from_db()
    assert version.device_class == "gpu" and version.source == "tests"  # nothing else changed
    assert "the conversions.gpu queue: needs a gpu" in admin_client.get(url).content.decode()


# --- which jobs a worker may claim ------------------------------------------------------------


def test_a_cpu_worker_never_claims_a_job_that_asked_for_a_gpu(user, art_model, upload_file, settings):
    job = services.create_conversion(owner=user, upload=upload_file(), art_model=gpu_version_of(art_model))
    settings.RESTYLE_WORKER_DEVICE = "cpu"
    assert services.claim_conversion(conversion_id=job.pk, worker="cpu@host", worker_device="cpu") is None
    row = Conversion.objects.get(pk=job.pk)
    assert (row.status, row.attempts, row.worker) == (Status.QUEUED, 0, "")
    settings.RESTYLE_WORKER_DEVICE = "cuda:0"
    assert services.claim_conversion(conversion_id=job.pk, worker="gpu@host", worker_device="cuda:0 (Some GPU)")
    row = Conversion.objects.get(pk=job.pk)
    assert (row.status, row.worker, row.worker_device) == (Status.RUNNING, "gpu@host", "cuda:0 (Some GPU)")


def test_a_gpu_worker_takes_jobs_a_cpu_is_enough_for(conversion, settings):
    settings.RESTYLE_WORKER_DEVICE = "cuda"
    assert services.claim_conversion(conversion_id=conversion.pk, worker="gpu@host", worker_device="cuda:0")


def test_a_training_run_that_asked_for_a_gpu_is_not_claimed_by_a_cpu_worker(style_dataset, settings):  # noqa: F811
    settings.RESTYLE_TRAINING_DEVICE_CLASSES = ["cpu", "gpu"]
    run = services.start_run(run=make_run(style_dataset, device_class="gpu"))
    settings.RESTYLE_WORKER_DEVICE = "cpu"
    assert services.claim_run(run_id=run.pk, worker="training@cpu-host", worker_device="cpu") is None
    settings.RESTYLE_WORKER_DEVICE = "cuda"
    assert services.claim_run(run_id=run.pk, worker="training@gpu-host", worker_device="cuda:0 (Some GPU)")
    run.refresh_from_db()
    assert (run.status, run.worker, run.worker_device) == ("running", "training@gpu-host", "cuda:0 (Some GPU)")


def test_a_gpu_job_no_gpu_worker_takes_fails_saying_so(user, art_model, upload_file, settings):
    settings.RESTYLE_QUEUE_TIMEOUT_MINUTES = 30
    gpu_job = services.create_conversion(owner=user, upload=upload_file(), art_model=gpu_version_of(art_model))
    cpu_job = services.create_conversion(owner=user, upload=upload_file(), art_model=art_model)
    Conversion.objects.update(queued_at=timezone.now() - dt.timedelta(minutes=31))
    assert services.sweep_conversions()["expired"] == 2
    gpu_error = Conversion.objects.get(pk=gpu_job.pk).error
    assert "needs a GPU, and no worker with a GPU took it within 30 minutes" in gpu_error
    assert "No worker was free" in Conversion.objects.get(pk=cpu_job.pk).error


# --- the worker's device ----------------------------------------------------------------------


class FakeCuda:
    def __init__(self, count):
        self.count = count

    def is_available(self):
        return self.count > 0

    def device_count(self):
        return self.count


def test_a_worker_told_cuda_without_a_gpu_or_with_a_gpu_it_lacks_is_refused():
    with pytest.raises(device.DeviceUnavailable, match="PyTorch sees no CUDA GPU on this machine"):
        device.check_device("cuda", cuda=FakeCuda(0))
    with pytest.raises(device.DeviceUnavailable, match=r"has 2 CUDA GPU\(s\) \(cuda:0 to cuda:1\)"):
        device.check_device("cuda:2", cuda=FakeCuda(2))
    device.check_device("cuda:1", cuda=FakeCuda(2))
    device.check_device("cpu", cuda=FakeCuda(0))


def test_a_worker_whose_queues_its_device_cannot_serve_is_refused():
    with pytest.raises(device.DeviceUnavailable, match="slow.gpu holds jobs that need a GPU"):
        device.check_queues(["conversions.cpu", "slow.gpu"], "cpu")
    with pytest.raises(device.DeviceUnavailable, match="'conversions', which is not a Restyle queue"):
        device.check_queues(["conversions"], "cuda")
    device.check_queues(["conversions.cpu", "slow.gpu"], "cuda")


def test_the_worker_start_up_check_exits_with_the_reason(settings):
    settings.RESTYLE_WORKER_DEVICE = "cpu"
    worker = SimpleNamespace(app=SimpleNamespace(amqp=SimpleNamespace(queues=SimpleNamespace(
        consume_from={"conversions.gpu": None}))))
    with pytest.raises(SystemExit, match="conversions.gpu holds jobs that need a GPU"):
        device.refuse_a_device_it_lacks(sender=worker)


# --- where a job ran --------------------------------------------------------------------------


def test_the_conversion_page_and_its_json_say_which_worker_ran_it_on_what(alice, conversion):
    detail = reverse("translator:detail", args=[conversion.id])
    assert "Worker:" not in alice.get(detail).content.decode()
    assert alice.get(f"/api/v1/conversions/{conversion.id}/").json()["worker"] == ""
    services.claim_conversion(conversion_id=conversion.pk, worker="conversions@host-7", worker_device="cpu")
    assert "Worker: conversions@host-7 on cpu." in alice.get(detail).content.decode()
    body = alice.get(f"/api/v1/conversions/{conversion.id}/").json()
    assert (body["worker"], body["worker_device"]) == ("conversions@host-7", "cpu")


def test_the_run_page_says_which_worker_trains_it_or_what_it_waits_for(admin_client, style_dataset, settings):  # noqa: F811
    settings.RESTYLE_TRAINING_DEVICE_CLASSES = ["cpu", "gpu"]
    run = services.start_run(run=make_run(style_dataset, device_class="gpu"))
    live = reverse("admin:translator_trainingrun_live", args=[run.pk])
    assert "Waiting on the training.gpu queue for a worker with a GPU." in admin_client.get(live).content.decode()
    settings.RESTYLE_WORKER_DEVICE = "cuda:1"
    services.claim_run(run_id=run.pk, worker="training@gpu-host", worker_device="cuda:1 (Some GPU)")
    assert "Worker: training@gpu-host on cuda:1 (Some GPU)." in admin_client.get(live).content.decode()


def test_the_device_classes_are_the_ones_the_queues_know():
    assert tuple(DeviceClass.values) == queues.DEVICE_CLASSES
    assert TrainingRun._meta.get_field("queue").default == "training.cpu"
