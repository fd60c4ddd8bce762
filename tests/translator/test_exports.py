"""A version's network exported to ONNX or TorchScript from the admin: asked for (refused in words
for a family without one network pass, a bad size or a duplicate), made by the export task on a
real random-weights checkpoint, checked against eager PyTorch before it is kept, and delivered
like every job (claim, lease, fenced writes, the sweeper)."""
import datetime as dt

import numpy as np
import pytest
import torch
from django.utils import timezone

from mlcore.inference import Inferer
from translator.models import EXPORT_FAMILIES, Family, ModelExport
from translator.services import ServiceError, delivery
from translator.services import exports as export_services
from translator.sweeper import sweep_once
from translator.tasks import export_model_version

pytestmark = pytest.mark.django_db

Status = ModelExport.Status


@pytest.fixture
def version(art_model):
    return art_model.current_version


@pytest.fixture
def run_exports():
    """Run every queued export's task in this process (as a worker would), oldest first."""

    def run():
        for pk in ModelExport.objects.filter(status=Status.QUEUED).order_by("created_at").values_list("pk", flat=True):
            export_model_version(pk)

    return run


def stored_exports(media_root):
    folder = media_root / "versions"
    return sorted(p.relative_to(media_root).as_posix() for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def probe(height, width):
    return torch.rand(1, 3, height, width, generator=torch.Generator().manual_seed(7))


def eager(tiny_checkpoint, x):
    return Inferer.load(tiny_checkpoint, backend="torch").translate_tensor(x)


def expire_lease(export):
    ModelExport.objects.filter(pk=export.pk).update(lease_expires_at=timezone.now() - dt.timedelta(seconds=1))


# --- what can be exported ---------------------------------------------------------------------


def test_the_families_offered_an_export_are_the_ones_mlcore_exports():
    from mlcore.registry import get_family

    exportable = {f for f in Family.values if not get_family(f).generator and get_family(f).checkpoint}
    assert set(EXPORT_FAMILIES) == exportable == {"fast_style", "pix2pix", "ugatit"}


def test_a_gatys_or_stylegan2_version_is_refused_in_words(gatys_model, stylegan2_model):
    with pytest.raises(ServiceError, match="cannot be exported: it has no network"):
        export_services.request_export(version=gatys_model.current_version, format="onnx", height=64, width=64)
    with pytest.raises(ServiceError, match="cannot be exported: its generator makes images from seeds"):
        export_services.request_export(version=stylegan2_model.current_version, format="onnx", height=64, width=64)
    assert not ModelExport.objects.exists()


@pytest.mark.parametrize("field, value, words", [
    ("height", 8, "out of range: exports take 16 to 2048 px"),
    ("width", 4096, "out of range"),
    ("width", "wide", "whole number of pixels"),
    ("format", "tflite", "ONNX or TorchScript"),
])
def test_a_bad_size_or_format_is_refused_naming_the_field(version, field, value, words):
    asked = {"format": "onnx", "height": 64, "width": 64, field: value}
    with pytest.raises(Exception) as refused:
        export_services.request_export(version=version, **asked)
    assert refused.value.field == field and words in " ".join(refused.value.messages)
    assert not ModelExport.objects.exists()


def test_an_identical_export_is_refused_while_one_waits_and_allowed_once_it_is_done(version, run_exports):
    first = export_services.request_export(version=version, format="torchscript", height=32, width=48)
    assert first.queue == "conversions.cpu" and first.status == Status.QUEUED
    with pytest.raises(ServiceError, match="already queued or running"):
        export_services.request_export(version=version, format="torchscript", height=32, width=48)
    # Another size or format is another export.
    export_services.request_export(version=version, format="torchscript", height=48, width=32)
    run_exports()
    again = export_services.request_export(version=version, format="torchscript", height=32, width=48)
    assert again.pk != first.pk and ModelExport.objects.count() == 3


def test_the_database_itself_refuses_two_identical_active_exports(version):
    """The check before the insert can race; the conditional unique constraint cannot."""
    from django.db import IntegrityError, transaction

    ModelExport.objects.create(version=version, format="onnx", height=32, width=32)
    with pytest.raises(IntegrityError), transaction.atomic():
        ModelExport.objects.create(version=version, format="onnx", height=32, width=32, status=Status.RUNNING)
    ModelExport.objects.create(version=version, format="onnx", height=32, width=32, status=Status.FAILED)


def test_a_gpu_version_exports_on_the_gpu_conversions_queue(version):
    version.device_class = "gpu"
    version.save()
    assert export_services.request_export(version=version, format="onnx", height=32, width=32).queue == "conversions.gpu"


# --- the worker makes the file ----------------------------------------------------------------


def test_an_onnx_export_is_stored_and_onnx_runtime_runs_it_as_pytorch_does(version, tiny_checkpoint, media_root, run_exports):
    import onnxruntime

    asked = export_services.request_export(version=version, format="onnx", height=40, width=56)
    run_exports()
    done = ModelExport.objects.get(pk=asked.pk)
    assert done.status == Status.SUCCEEDED, done.error
    assert done.file.name == f"versions/{version.pk}/exports/tiny-v1-56x40.onnx"
    assert stored_exports(media_root) == [done.file.name]
    assert done.size_bytes == (media_root / done.file.name).stat().st_size > 1000
    assert 0 <= done.mae <= done.max_abs < 1 / 255 and done.seconds > 0
    assert (done.attempts, done.lease_expires_at, done.finished_at is not None) == (1, None, True)

    session = onnxruntime.InferenceSession(str(media_root / done.file.name), providers=["CPUExecutionProvider"])
    x = probe(40, 56)
    [got] = session.run(None, {"x": x.numpy()})
    want = eager(tiny_checkpoint, x).numpy()
    assert got.shape == want.shape == (1, 3, 40, 56)
    assert np.abs(got - want).mean() < 1 / 255
    assert np.abs(want - want.mean()).mean() > 1e-3  # the picture is not flat: the match says something
    # The graph takes the exported size only, as the page says.
    from onnxruntime.capi.onnxruntime_pybind11_state import InvalidArgument

    with pytest.raises(InvalidArgument, match="dimensions"):
        session.run(None, {"x": probe(56, 40).numpy()})


def test_a_torchscript_export_loads_with_torch_jit_and_matches_pytorch(version, tiny_checkpoint, media_root, run_exports):
    asked = export_services.request_export(version=version, format="torchscript", height=33, width=47)
    run_exports()
    done = ModelExport.objects.get(pk=asked.pk)
    assert done.status == Status.SUCCEEDED, done.error
    assert done.file.name.endswith("/tiny-v1-47x33.pt")
    module = torch.jit.load(str(media_root / done.file.name), map_location="cpu")
    x = probe(33, 47)
    with torch.inference_mode():
        got = module(x)
    assert (got - eager(tiny_checkpoint, x)).abs().mean().item() < 1 / 255


@pytest.mark.parametrize("format", ["onnx", "torchscript"])
def test_an_export_that_differs_from_pytorch_keeps_no_file_and_says_the_parity_check_failed(
    version, media_root, run_exports, monkeypatch, format
):
    """Fault injection: the graph that gets exported adds 0.1 to every pixel (26/255); eager
    PyTorch, which the check compares with, does not."""
    from mlcore.runtime import graph

    honest = graph.TranslatePath.forward
    monkeypatch.setattr(graph.TranslatePath, "forward", lambda self, x: honest(self, x) + 0.1)
    asked = export_services.request_export(version=version, format=format, height=32, width=32)
    run_exports()
    failed = ModelExport.objects.get(pk=asked.pk)
    assert failed.status == Status.FAILED
    assert failed.error.startswith("Parity check failed, nothing was kept:")
    assert "differs from eager torch by MAE 25.5" in failed.error and "allowed 1/255" in failed.error
    assert (failed.file.name, failed.size_bytes, failed.mae) == ("", None, None)
    assert stored_exports(media_root) == []


def test_a_checkpoint_that_does_not_load_fails_in_words(version, media_root, run_exports):
    (media_root / version.checkpoint.name).write_bytes(b"not a checkpoint")
    asked = export_services.request_export(version=version, format="torchscript", height=32, width=32)
    run_exports()
    failed = ModelExport.objects.get(pk=asked.pk)
    assert failed.status == Status.FAILED
    assert failed.error == "This version's checkpoint could not be loaded, so nothing was exported."
    assert stored_exports(media_root) == []


# --- delivery: claim, lease, fenced writes, the sweeper ---------------------------------------


def test_a_second_message_for_a_claimed_export_does_nothing(version, media_root):
    asked = export_services.request_export(version=version, format="torchscript", height=32, width=32)
    claim = export_services.claim_export(export_id=asked.pk, worker="w1")
    export_model_version(asked.pk)  # the duplicate message
    held = ModelExport.objects.get(pk=asked.pk)
    assert (held.status, held.worker, held.claim_token, held.attempts) == (Status.RUNNING, "w1", claim.token, 1)
    assert stored_exports(media_root) == []


def test_a_worker_that_lost_its_lease_stores_nothing_and_the_export_ends_with_one_file(version, media_root, tmp_path):
    asked = export_services.request_export(version=version, format="torchscript", height=32, width=32)
    first = export_services.claim_export(export_id=asked.pk, worker="w1")
    expire_lease(asked)
    assert export_services.sweep_exports()["requeued"] == 1
    second = export_services.claim_export(export_id=asked.pk, worker="w2")
    assert second.attempt == 2

    made = tmp_path / "made.pt"
    made.write_bytes(b"stale")
    assert export_services.finish_export(claim=first, path=made, mae=0, max_abs=0, seconds=1) is None
    assert not export_services.renew_export_lease(claim=first)
    export_services.fail_export(claim=first, reason="late")
    assert ModelExport.objects.get(pk=asked.pk).status == Status.RUNNING
    assert stored_exports(media_root) == []

    made.write_bytes(b"fresh")
    done = export_services.finish_export(claim=second, path=made, mae=0.001, max_abs=0.002, seconds=1)
    assert (done.status, done.worker, done.size_bytes) == (Status.SUCCEEDED, "w2", 5)
    assert stored_exports(media_root) == [done.file.name]
    assert (media_root / done.file.name).read_bytes() == b"fresh"


@pytest.mark.django_db(transaction=True)  # sweep_once closes its database connection, as the sweeper process does
def test_the_sweeper_requeues_an_expired_lease_then_fails_after_the_last_attempt(version, settings):
    settings.RESTYLE_JOB_MAX_ATTEMPTS = 2
    asked = export_services.request_export(version=version, format="onnx", height=32, width=32)
    assert export_services.claim_export(export_id=asked.pk)
    expire_lease(asked)
    assert sweep_once()["exports"]["requeued"] == 1  # the sweeper process's one call settles exports too
    assert ModelExport.objects.get(pk=asked.pk).status == Status.QUEUED
    assert export_services.claim_export(export_id=asked.pk)
    expire_lease(asked)
    assert sweep_once()["exports"]["failed"] == 1
    failed = ModelExport.objects.get(pk=asked.pk)
    assert failed.status == Status.FAILED and "stopped 2 times" in failed.error


def test_a_live_lease_is_left_alone(version):
    asked = export_services.request_export(version=version, format="onnx", height=32, width=32)
    export_services.claim_export(export_id=asked.pk)
    assert export_services.sweep_exports() == {"requeued": 0, "failed": 0, "expired": 0, "resent": 0}
    assert ModelExport.objects.get(pk=asked.pk).status == Status.RUNNING


def test_a_lost_message_is_sent_again_to_the_versions_queue(version, settings, monkeypatch):
    sent = []
    monkeypatch.setattr(delivery, "_send_message", lambda model, pk, queue: sent.append((model, pk, queue)) or True)
    asked = export_services.request_export(version=version, format="onnx", height=32, width=32)
    ModelExport.objects.filter(pk=asked.pk).update(queued_at=timezone.now() - dt.timedelta(seconds=settings.RESTYLE_SWEEP_SECONDS + 1))
    assert export_services.sweep_exports()["resent"] == 1
    assert sent == [(ModelExport, asked.pk, "conversions.cpu")]
    assert delivery.TASKS["modelexport"] == "translator.tasks.export_model_version"


def test_an_export_no_worker_takes_fails_after_the_queue_timeout(version, settings):
    settings.RESTYLE_QUEUE_TIMEOUT_MINUTES = 30
    asked = export_services.request_export(version=version, format="onnx", height=32, width=32)
    ModelExport.objects.filter(pk=asked.pk).update(queued_at=timezone.now() - dt.timedelta(minutes=31))
    assert export_services.sweep_exports()["expired"] == 1
    assert "No worker of its queue took this export within 30 minutes" in ModelExport.objects.get(pk=asked.pk).error


def test_deleting_an_export_or_its_version_removes_the_files_after_commit(
    version, media_root, run_exports, django_capture_on_commit_callbacks
):
    for format in ("torchscript", "onnx"):
        export_services.request_export(version=version, format=format, height=32, width=32)
    run_exports()
    assert len(stored_exports(media_root)) == 2
    with django_capture_on_commit_callbacks(execute=True):
        ModelExport.objects.filter(format="torchscript").get().delete()
    assert [name.rsplit(".", 1)[-1] for name in stored_exports(media_root)] == ["onnx"]
    with django_capture_on_commit_callbacks(execute=True):
        version.delete()
    assert stored_exports(media_root) == [] and not ModelExport.objects.exists()
