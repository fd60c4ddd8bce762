import pytest

from translator import services
from translator.models import ArtModel, Family


@pytest.fixture
def second_model(db, tiny_checkpoint):
    """Another fast-style model, so a batch can ask for two."""
    model = ArtModel.objects.create(slug="tiny-two", name="Tiny Two", family=Family.FAST_STYLE,
                                    description="Another random test network.")
    services.add_model_version(art_model=model, checkpoint_path=tiny_checkpoint, source="tests")
    model.refresh_from_db()
    return model


@pytest.fixture
def photos(upload_file):
    """Three good photos of different sizes and formats."""
    def make():
        return [upload_file("one.jpg", size=(64, 48)), upload_file("two.png", "PNG", size=(40, 60)),
                upload_file("three.webp", "WEBP", size=(50, 50))]
    return make


@pytest.fixture
def broken_file():
    from django.core.files.uploadedfile import SimpleUploadedFile

    def make(name="broken.jpg"):
        return SimpleUploadedFile(name, b"a text file, not a photo")
    return make


@pytest.fixture
def assert_error():
    """The API's one error shape (tests/translator/api/conftest.py)."""
    from tests.translator.api.conftest import _assert_error

    return _assert_error


@pytest.fixture(autouse=True)
def rate_limits_answer():
    """A test before may have left the rate-limit cache's breaker open (the unreachable-cache
    test does), which lets every request in for a few seconds: these tests count on the limits."""
    from translator.api.throttles import cache_breaker

    cache_breaker.reset()
