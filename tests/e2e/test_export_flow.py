"""An admin exports a real model version to ONNX in a real browser: the version's page posts the
form, a real Celery worker (over a real Redis) makes and checks the file, a reload shows it done
with its parity, and the downloaded file runs in ONNX Runtime as PyTorch runs the network."""
import time

import numpy as np
import pytest
import torch
from django.contrib.auth import get_user_model
from django.urls import reverse

pytestmark = pytest.mark.e2e


def test_an_admin_exports_the_wave_network_to_onnx_and_downloads_a_file_that_matches_pytorch(
    celery_worker, wave_model, page, tmp_path
):
    import onnxruntime
    from playwright.sync_api import expect

    from mlcore.inference import Inferer
    from translator.models import ModelExport

    get_user_model().objects.create_superuser("boss", password="boss-password-1")
    version = wave_model.current_version
    page.goto("/admin/login/")
    page.get_by_label("Username").fill("boss")
    page.get_by_label("Password").fill("boss-password-1")
    page.get_by_role("button", name="Log in").click()

    page.goto(reverse("admin:translator_modelversion_change", args=[version.pk]))
    form = page.locator("#export-form")
    form.get_by_label("Format").select_option("onnx")
    form.get_by_label("Width").fill("96")
    form.get_by_label("Height").fill("64")
    form.get_by_role("button", name="Export").click()
    expect(page.locator(".messagelist")).to_contain_text("The ONNX export at 96x64 is queued")

    row = page.locator("#export-table tbody tr").first
    deadline = time.monotonic() + 240
    while "Queued" in row.inner_text() or "Running" in row.inner_text():  # the page refreshes on reload
        assert time.monotonic() < deadline, f"the export is still {row.inner_text()!r} after 240 s"
        time.sleep(2)
        page.reload()
    export = ModelExport.objects.get()
    assert export.status == ModelExport.Status.SUCCEEDED, export.error
    assert export.worker.startswith("e2e-conversions")
    expect(row).to_contain_text("96×64")
    expect(row).to_contain_text("/255, max ")

    with page.expect_download() as downloading:
        row.get_by_role("link", name="Download wave-v1-96x64.onnx").click()
    download = downloading.value
    assert download.suggested_filename == "wave-v1-96x64.onnx"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)

    x = torch.rand(1, 3, 64, 96, generator=torch.Generator().manual_seed(3))
    session = onnxruntime.InferenceSession(str(saved), providers=["CPUExecutionProvider"])
    [got] = session.run(None, {"x": x.numpy()})
    want = Inferer.load(version.checkpoint.path, backend="torch").translate_tensor(x).numpy()
    assert np.abs(got - want).mean() < 1 / 255
