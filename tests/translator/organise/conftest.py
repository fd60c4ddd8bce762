import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from translator import services
from translator.models import ArtModel, Conversion, Family


@pytest.fixture
def second_model(db, tiny_checkpoint):
    """A second catalogue entry ("Aqua"), so sorting and filtering by model mean something."""
    model = ArtModel.objects.create(slug="aqua", name="Aqua", family=Family.FAST_STYLE)
    services.add_model_version(art_model=model, checkpoint_path=tiny_checkpoint, source="tests")
    model.refresh_from_db()
    return model


def finish(conversion, result=b"result-bytes", ext="jpg"):
    """What a worker does: claim the job, then store its result."""
    claim = services.claim_conversion(conversion_id=conversion.id, worker="test")
    assert claim
    return services.finish_conversion(claim=claim, result_bytes=result, result_ext=ext, thumbnail_bytes=b"thumb",
                                      load_seconds=0.1, run_seconds=0.2)


@pytest.fixture
def make_conversion(user, art_model, make_image_bytes):
    """make_conversion("beach.jpg", owner=..., model=..., created_at=..., result=bytes|None): a real
    upload through the service; with `result` it is finished as a worker would finish it."""

    def make(name="photo.jpg", *, owner=None, model=None, created_at=None, result=b"result-bytes", favourite=False):
        conversion = services.create_conversion(
            owner=owner or user, upload=SimpleUploadedFile(name, make_image_bytes("JPEG")), art_model=model or art_model
        )
        if result is not None:
            finish(conversion, result=result)
        updates = {"favourite": favourite}
        if created_at is not None:
            updates["created_at"] = created_at
        Conversion.objects.filter(pk=conversion.pk).update(**updates)
        conversion.refresh_from_db()
        return conversion

    return make
