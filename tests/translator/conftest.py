import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from mlcore.checkpoint import save_model
from mlcore.fast_style import FastStyleConfig
from mlcore.fast_style.networks import build as build_network
from translator import services
from translator.models import ArtModel, Family


@pytest.fixture(autouse=True)
def empty_cache():
    """Rate-limit counters live in the cache: each test starts with none."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Every test stores its files in a folder of its own, so leftovers can be counted."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def worker_cache_dir(settings, tmp_path):
    """The worker's own cache (checkpoints fetched from the storage, unpacked datasets): one per test."""
    settings.RESTYLE_WORKER_CACHE_DIR = tmp_path / "worker-cache"
    return settings.RESTYLE_WORKER_CACHE_DIR


def stored_files(root):
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


@pytest.fixture
def list_stored_files(media_root):
    """Users' files (photos, results) under the media root; model checkpoints are not counted."""

    def listing(*folders):
        folders = folders or ("photos", "results")
        return [f"{d}/{name}" for d in folders if (media_root / d).exists() for name in stored_files(media_root / d)]

    return listing


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory):
    """A real fast-style checkpoint with random weights: small, so tests run it quickly."""
    config = FastStyleConfig(variant="engstrom", channels=(4, 8, 8), num_residual_blocks=1)
    path = tmp_path_factory.mktemp("ckpt") / "tiny.safetensors"
    save_model(
        path,
        family="fast_style",
        config=config,
        state_dict=build_network(config).state_dict(),
        meta={"name": "tiny random network (tests only)"},
    )
    return path


@pytest.fixture
def art_model(db, tiny_checkpoint):
    model = ArtModel.objects.create(
        slug="tiny", name="Tiny", family=Family.FAST_STYLE, description="A random test network."
    )
    services.add_model_version(art_model=model, checkpoint_path=tiny_checkpoint, source="tests")
    model.refresh_from_db()
    return model


@pytest.fixture
def user(db):
    return get_user_model().objects.create_user("alice", password="alice-password-1")


@pytest.fixture
def other_user(db):
    return get_user_model().objects.create_user("bob", password="bob-password-1")


@pytest.fixture
def alice(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def upload_file(make_image_bytes):
    def make(name="photo.jpg", fmt="JPEG", **kwargs):
        return SimpleUploadedFile(name, make_image_bytes(fmt, **kwargs))

    return make


@pytest.fixture
def conversion(user, art_model, upload_file):
    return services.create_conversion(owner=user, upload=upload_file(), art_model=art_model)


@pytest.fixture
def gatys_model(db):
    """A Gatys catalogue entry: no checkpoint, a tiny configuration (it paints at 48 px)."""
    from translator.models import ModelVersion

    model = ArtModel.objects.create(slug="own-style", name="Your own style", family=Family.GATYS)
    version = ModelVersion.objects.create(
        art_model=model, number=1, config={"steps": 4, "size": 48, "optimizer": "adam"}
    )
    model.current_version = version
    model.save()
    return model


@pytest.fixture
def gatys_conversion(settings, user, gatys_model, upload_file):
    """A queued Gatys job on a 60x40 photo and a 50x50 style image, on the random loss network (no
    ImageNet VGG19 on these machines; the network labels what it makes), reporting progress every
    2 of its 4 steps."""
    settings.RESTYLE_LOSS_NETWORK = "random"
    settings.RESTYLE_GATYS_PROGRESS_EVERY = 2
    return services.create_conversion(
        owner=user, upload=upload_file(size=(60, 40)), art_model=gatys_model,
        style_upload=upload_file("style.png", "PNG", noise=True, size=(50, 50)),
    )


@pytest.fixture(scope="session")
def stylegan2_checkpoint(tmp_path_factory):
    """A real StyleGAN2 checkpoint (the tiny32 preset, 32 px) with RANDOM WEIGHTS: its images are
    noise-like, but every step from the file to pixels and latents is the real one. Its w_avg is
    tracked and its noise strengths are non-zero (tests/mlcore/stylegan2_tiny.py), and its meta
    names a training set, as a trained model's does."""
    from mlcore.stylegan2 import StyleGAN2Config
    from tests.mlcore.stylegan2_tiny import random_generator

    path = tmp_path_factory.mktemp("sg2") / "tiny32.safetensors"
    save_model(path, family="stylegan2", config=StyleGAN2Config.preset("tiny32"),
               state_dict=random_generator("tiny32").state_dict(),
               meta={"name": "tiny32, random weights (tests only)", "dataset": "test paintings"})
    return path


@pytest.fixture
def stylegan2_model(db, stylegan2_checkpoint):
    """A StyleGAN2 catalogue entry whose version is the random-weights tiny32 checkpoint."""
    model = ArtModel.objects.create(slug="tiny-gan", name="Tiny GAN", family=Family.STYLEGAN2,
                                    description="A random StyleGAN2 (tests only).")
    services.add_model_version(art_model=model, checkpoint_path=stylegan2_checkpoint, source="tests")
    model.refresh_from_db()
    return model


@pytest.fixture
def projection_settings(settings):
    """Projections small enough for a unit test: a few steps, the image every second one, and
    the labelled fallback distance (these machines have no LPIPS-VGG16 weights)."""
    settings.RESTYLE_PROJECTION_DISTANCE = "fallback"
    settings.RESTYLE_PROJECTION_STEPS = 6
    settings.RESTYLE_PROJECTION_PROGRESS_EVERY = 2
    return settings


@pytest.fixture
def alice_api(user):
    """An API client with alice's token."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


@pytest.fixture
def bob_api(other_user):
    """An API client with bob's token."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=other_user).key}")
    return client


@pytest.fixture
def migrator(transactional_db):
    """migrate(targets) -> the historical apps at `targets` (for the tests of migrations that
    change stored values); the database is migrated to the latest state again afterwards, for
    the tests that follow."""

    def migrate(targets):
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(targets)
        return executor.loader.project_state(targets).apps

    yield migrate
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
