"""A batch in a real browser (Debian's Chromium driven by Playwright), at desktop size and at a
phone's 390x844: two photos chosen with the file input and one dropped onto the drop zone (a drop
event carrying a DataTransfer with a File, as a browser sends it), one more dropped and removed
again, two models ticked -> six jobs, shown in the gallery with their places in the queue; one
queued job is cancelled from its tile; a real worker converts the other five.

The worker is told to stop taking conversions while the queue is looked at (Celery's
cancel_consumer), so the places and the cancel meet queued jobs on any machine, however fast;
it is told to take them again (add_consumer) and converts them for real."""
import base64
import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from config.celery import app as celery_app
from translator.models import ArtModel, Conversion, Photo

from .test_browser import login

pytestmark = pytest.mark.e2e

QUEUE = "conversions.cpu"

DROP = """([name, type, b64]) => {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const transfer = new DataTransfer();
  transfer.items.add(new File([bytes], name, {type}));
  const zone = document.querySelector("[data-drop-zone]");
  zone.dispatchEvent(new DragEvent("dragover", {dataTransfer: transfer, bubbles: true, cancelable: true}));
  zone.dispatchEvent(new DragEvent("drop", {dataTransfer: transfer, bubbles: true, cancelable: true}));
}"""


@pytest.fixture
def two_models(transactional_db, data_dir):
    call_command("install_demo_models", source=str(data_dir / "pretrained" / "fast-style-ml5"),
                 styles="wave,udnie", stdout=io.StringIO(), stderr=io.StringIO())
    return ArtModel.objects.get(slug="wave"), ArtModel.objects.get(slug="udnie")


@pytest.fixture
def paused_conversions(celery_worker):
    """The worker takes no conversion until `resume()`; resumed at the end whatever happens."""
    celery_app.control.cancel_consumer(QUEUE, reply=True, timeout=5)
    state = {"paused": True}

    def resume():
        if state["paused"]:
            celery_app.control.add_consumer(QUEUE, reply=True, timeout=5)
            state["paused"] = False

    yield resume
    resume()


def test_a_person_sends_three_photos_with_two_models_watches_the_queue_and_cancels_one(
    paused_conversions, two_models, sized_page, data_dir
):
    from playwright.sync_api import expect

    page = sized_page
    wave, udnie = two_models
    content = data_dir / "images" / "content"
    user = get_user_model().objects.create_user("batcher", password="batcher-password-1")
    login(page, "batcher", "batcher-password-1")
    page.goto("/")

    page.set_input_files("input[name=image]", [str(content / "amber.jpg"), str(content / "chelsea.png")])
    page.evaluate(DROP, ["rocket.jpg", "image/jpeg", base64.b64encode((content / "rocket.jpg").read_bytes()).decode()])
    page.evaluate(DROP, ["coffee.png", "image/png", base64.b64encode((content / "coffee.png").read_bytes()).decode()])
    chosen = page.locator("[data-batch-files] li")
    expect(chosen).to_have_count(4)
    expect(chosen.filter(has_text="rocket.jpg")).to_contain_text("KB")
    page.get_by_role("button", name="Remove coffee.png").click()
    expect(chosen).to_have_count(3)
    expect(chosen).to_have_text([
        re.compile(r"amber\.jpg.*KB"), re.compile(r"chelsea\.png.*KB"),
        re.compile(r"rocket\.jpg.*KB")])
    # What the form will send is what the list shows.
    assert page.locator("input[name=image]").evaluate("i => Array.from(i.files).map(f => f.name)") == [
        "amber.jpg", "chelsea.png", "rocket.jpg"]

    page.get_by_text("The Great Wave").click()
    page.get_by_text(udnie.name, exact=True).click()
    expect(page.locator("[data-batch-count]")).to_have_text("3 photos × 2 models = 6 conversions")
    page.get_by_role("button", name="Convert").click()

    expect(page).to_have_url("/gallery/")
    expect(page.get_by_text("6 conversions queued: 3 photos × 2 models.")).to_be_visible()
    jobs = list(Conversion.objects.filter(owner=user).order_by("queued_at"))
    assert [(j.photo.original_name, j.art_model.slug) for j in jobs] == [
        ("amber.jpg", "wave"), ("amber.jpg", "udnie"), ("chelsea.png", "wave"), ("chelsea.png", "udnie"),
        ("rocket.jpg", "wave"), ("rocket.jpg", "udnie")]
    assert Photo.objects.filter(owner=user).count() == 3 and all(j.status == "queued" for j in jobs)
    tiles = page.locator(".organise-tile")
    expect(tiles).to_have_count(6)
    # Newest first: the last job sent waits 6th, the first is next.
    last, first = page.locator(f'[data-tile="{jobs[-1].id}"]'), page.locator(f'[data-tile="{jobs[0].id}"]')
    expect(last.locator("[data-job-note]")).to_have_text("6th in the queue")
    expect(first.locator("[data-job-note]")).to_have_text("Next in the queue, waiting for a worker")
    expect(first.locator("[data-progress]")).to_be_hidden()  # no empty bar while it waits

    # Cancel the 4th (chelsea as udnie) from its tile; the others move up, in place.
    page.evaluate("window.__sameDocument = true")
    cancelled = page.locator(f'[data-tile="{jobs[3].id}"]')
    cancelled.get_by_role("button", name="Cancel chelsea.png as").click()
    expect(cancelled.locator("[data-status]")).to_have_text("Cancelled")
    expect(cancelled.get_by_role("button", name="Cancel chelsea.png as")).to_be_hidden()
    expect(last.locator("[data-job-note]")).to_have_text("5th in the queue")
    assert Conversion.objects.get(pk=jobs[3].pk).status == "cancelled"

    paused_conversions()  # the worker takes conversions again
    for job in jobs[:3] + jobs[4:]:
        expect(page.locator(f'[data-tile="{job.id}"] [data-status]')).to_have_text("Done", timeout=240_000)
        expect(page.locator(f'[data-tile="{job.id}"] img[data-thumbnail]')).to_be_visible()
    assert page.evaluate("window.__sameDocument") is True
    done = Conversion.objects.filter(owner=user, status="succeeded")
    assert done.count() == 5 and all(c.result and c.result.storage.exists(c.result.name) for c in done)
    assert Conversion.objects.get(pk=jobs[3].pk).status == "cancelled" and not Conversion.objects.get(pk=jobs[3].pk).result
