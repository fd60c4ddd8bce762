"""Running generation tasks in this process. The StyleGAN2 model they use, ``stylegan2_model``
(tiny32 with random weights, as a real ModelVersion), is in tests/translator/conftest.py."""
import pytest

from translator.models import Generation


@pytest.fixture
def run_all():
    """Run every queued generation's task in this process (as a worker would), in creation order."""
    from translator.tasks import run_generation

    def run():
        for pk in Generation.objects.filter(status=Generation.Status.QUEUED).order_by("created_at").values_list("pk", flat=True):
            run_generation(str(pk))

    return run
