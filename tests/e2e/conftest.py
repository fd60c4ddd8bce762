"""Real moving parts for the integration tests: a redis-server process, a `celery worker`
process and the test database they share with this process (pytest-django's file database)."""
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlparse

import pytest
import redis
from django.conf import settings
from django.db import transaction
from django.core.management import call_command

from config.celery import app as celery_app

from .stack import database_env, wait_for  # noqa: F401  (the tests import wait_for from here too)

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.e2e


class RedisServer:
    """A redis-server of the test run's own, on the port the test settings name."""

    def __init__(self, url, workdir):
        self.url = url
        self.port = urlparse(url).port
        self.workdir = workdir
        self.process = None

    def start(self):
        exe = shutil.which("redis-server")
        if exe is None:
            pytest.fail("redis-server is not installed; `make test` installs it (apt-get install redis-server)")
        log = open(self.workdir / "redis.log", "ab")
        self.process = subprocess.Popen(
            [exe, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.workdir)],
            stdout=log, stderr=subprocess.STDOUT,
        )
        wait_for(self.ping, 15, f"redis-server on port {self.port}")

    def ping(self):
        try:
            return redis.Redis.from_url(self.url, socket_connect_timeout=0.5).ping()
        except redis.ConnectionError:
            return False

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    server = RedisServer(settings.REDIS_URL, tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def clean_media():
    """The worker writes under the test settings' media folder: start each run with it empty."""
    shutil.rmtree(settings.MEDIA_ROOT, ignore_errors=True)
    settings.MEDIA_ROOT.mkdir(parents=True)
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def fresh_run_folders():
    """Run folders are named by the run's id, which starts again at 1 in each test's emptied
    database: each test starts with none, so a run never resumes another test's."""
    shutil.rmtree(settings.RESTYLE_RUNS_ROOT, ignore_errors=True)
    Path(settings.RESTYLE_RUNS_ROOT).mkdir(parents=True)


def start_worker(name, queues, log_path, test_database_env, extra_args=()):
    """A real `celery worker` process sharing this run's test database, media and Redis."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        **test_database_env,
        "RESTYLE_MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "RESTYLE_RUNS_ROOT": str(settings.RESTYLE_RUNS_ROOT),
        "PYTHONUNBUFFERED": "1",
        # These machines have no ImageNet VGG19: Gatys jobs use the random loss network,
        # which labels everything it makes.
        "RESTYLE_LOSS_NETWORK": "random",
        "RESTYLE_GATYS_PROGRESS_EVERY": "5",
        # Nor LPIPS-VGG16: StyleGAN2 projections use the labelled fallback distance.
        "RESTYLE_PROJECTION_DISTANCE": "fallback",
        "RESTYLE_PROJECTION_PROGRESS_EVERY": "5",
        # Webhook receivers of the tests listen on 127.0.0.1 over http; a retry waits a second.
        "RESTYLE_WEBHOOKS_ALLOW_PRIVATE": "1",
        "RESTYLE_WEBHOOKS_ALLOW_HTTP": "1",
        "RESTYLE_WEBHOOK_RETRY_SECONDS": "1,1",
        # As site/Procfile names them: kinds, or full queue names (config/queues.py).
        "RESTYLE_WORKER_QUEUES": queues,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", *extra_args,
         "-n", name, "--without-gossip", "--without-mingle", "--loglevel", "INFO"],
        cwd=REPO, env=env, stdout=open(log_path, "wb"), stderr=subprocess.STDOUT,
    )
    hostname = name.replace("%h", os.uname().nodename)

    def answers():
        if process.poll() is not None:
            pytest.fail(f"the celery worker exited:\n{log_path.read_text()}")
        return celery_app.control.ping(destination=[hostname], timeout=0.5)

    wait_for(answers, 60, f"the celery worker {hostname} to answer")
    return process


def stop_worker(process, log_path):
    process.terminate()
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()
    if os.environ.get("RESTYLE_SHOW_WORKER_LOG"):
        sys.stderr.write(log_path.read_text())


@pytest.fixture(scope="session")
def test_database_env(django_db_setup, django_db_blocker):
    """The variables that give a process of the tests' own (a worker, gunicorn) the test database,
    SQLite or PostgreSQL (the `make test` pass with DATABASE_URL)."""
    with django_db_blocker.unblock():
        from django.db import connection

        return database_env(connection.settings_dict)


@pytest.fixture(scope="session")
def celery_worker(redis_server, test_database_env, clean_media, tmp_path_factory):
    """The conversions and slow queues, in a prefork worker as in production."""
    log_path = tmp_path_factory.mktemp("worker") / "worker.log"
    process = start_worker(f"e2e-conversions-{uuid.uuid4().hex[:6]}@%h", "conversions,slow", log_path,
                           test_database_env, ["--concurrency", "1"])
    yield process
    stop_worker(process, log_path)


@pytest.fixture(scope="session")
def training_worker(redis_server, test_database_env, clean_media, tmp_path_factory):
    """The training queue, in a threads-pool worker as site/Procfile runs it."""
    log_path = tmp_path_factory.mktemp("trainer") / "trainer.log"
    process = start_worker(f"e2e-training-{uuid.uuid4().hex[:6]}@%h", "training", log_path, test_database_env,
                           ["--pool", "threads", "--concurrency", "1"])
    yield process
    stop_worker(process, log_path)


@pytest.fixture
def wave_model(transactional_db, data_dir):
    """The real ml5.js 'wave' network, installed the way `make run` installs it."""
    import io

    from translator.models import ArtModel

    call_command(
        "install_demo_models",
        source=str(data_dir / "pretrained" / "fast-style-ml5"),
        styles="wave",
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    return ArtModel.objects.get(slug="wave")


@pytest.fixture
def own_style_model(transactional_db):
    """A Gatys model painting small and long enough to be watched and cancelled."""
    from translator.models import ArtModel, Family, ModelVersion

    model = ArtModel.objects.create(slug="own-style", name="Your own style", family=Family.GATYS)
    model.current_version = ModelVersion.objects.create(
        art_model=model, number=1, config={"size": 64, "steps": 5000, "optimizer": "adam"}
    )
    model.save()
    return model


@pytest.fixture
def sg2_model(transactional_db, tmp_path):
    """A tiny32 StyleGAN2 with random weights, installed as a model version."""
    import torch

    from mlcore.checkpoint import save_model
    from mlcore.stylegan2 import networks
    from mlcore.stylegan2.config import StyleGAN2Config
    from translator import services
    from translator.models import ArtModel, Family

    torch.manual_seed(0)
    config = StyleGAN2Config.preset("tiny32")
    path = save_model(tmp_path / "tiny32.safetensors", family="stylegan2", config=config,
                      state_dict=networks.build(config).state_dict(), meta={"name": "random weights"})
    model = ArtModel.objects.create(slug="tiny-sg2", name="Tiny StyleGAN2", family=Family.STYLEGAN2)
    services.add_model_version(art_model=model, checkpoint_path=path, source="random weights")
    return model


# --- a real browser ---------------------------------------------------------------------------

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.fail("chromium is not installed; `make test` installs it (apt-get install chromium)")
    # Playwright runs an event loop in this thread; the Django ORM calls the tests make here
    # are ordinary synchronous calls.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(30_000)
    page = context.new_page()
    yield page
    context.close()


VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(params=list(VIEWPORTS))
def sized_page(request, browser, live_server):
    """A page at desktop size, then at a phone's (390x844, touch): the journeys run at both.
    `page.viewport` is its size, `page.phone` whether it is the phone."""
    phone = request.param == "phone"
    context = browser.new_context(base_url=live_server.url, viewport=VIEWPORTS[request.param], has_touch=phone,
                                  accept_downloads=True)
    context.set_default_timeout(30_000)
    page = context.new_page()
    page.viewport, page.phone = VIEWPORTS[request.param], phone
    yield page
    context.close()


def finished_conversion(*, owner, upload, art_model, result_jpeg, thumbnail_jpeg):
    """A conversion stored as done with the given result, that no worker converts: it is made
    and claimed in one transaction, so its message, sent on commit, finds it taken (a real
    worker that an earlier test of the session started listens on the same queue)."""
    from translator import services
    from translator.models import Conversion

    with transaction.atomic():
        conversion = services.create_conversion(owner=owner, upload=upload, art_model=art_model)
        claim = services.claim_conversion(conversion_id=conversion.id, worker="e2e")
    services.finish_conversion(claim=claim, result_bytes=result_jpeg, result_ext="jpg", thumbnail_bytes=thumbnail_jpeg,
                               load_seconds=0, run_seconds=0)
    return Conversion.objects.get(pk=conversion.pk)
