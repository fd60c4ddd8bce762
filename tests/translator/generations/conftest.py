"""A StyleGAN2 model with random weights (tiny32: 32 px, made in a fraction of a second on a CPU)
installed as a real ModelVersion, and helpers to run generation tasks in this process."""
import pytest
import torch
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from mlcore.checkpoint import save_model
from mlcore.stylegan2 import networks
from mlcore.stylegan2.config import StyleGAN2Config
from translator import services
from translator.models import ArtModel, Family, Generation


def random_tiny32(seed=0):
    """A tiny32 generator with random weights; w_avg tracked from random z and noise strengths
    non-zero (a fresh network's are zero, which would hide truncation and the noise mode)."""
    torch.manual_seed(seed)
    config = StyleGAN2Config.preset("tiny32")
    G = networks.build(config)
    with torch.no_grad():
        for _ in range(50):
            G.mapping(torch.randn(64, G.z_dim), None, update_emas=True)
        for name, param in G.named_parameters():
            if name.endswith("noise_strength"):
                param.fill_(0.2)
    return config, G.eval()


@pytest.fixture(scope="session")
def sg2_checkpoint(tmp_path_factory):
    config, G = random_tiny32()
    path = tmp_path_factory.mktemp("sg2") / "tiny32.safetensors"
    save_model(path, family="stylegan2", config=config, state_dict=G.state_dict(),
               meta={"name": "tiny32, random weights (tests only)"})
    return path


@pytest.fixture
def sg2_model(db, sg2_checkpoint):
    model = ArtModel.objects.create(slug="tiny-sg2", name="Tiny StyleGAN2", family=Family.STYLEGAN2,
                                    description="Random weights: noise-like images, for tests.")
    services.add_model_version(art_model=model, checkpoint_path=sg2_checkpoint, source="random weights")
    model.refresh_from_db()
    return model


@pytest.fixture
def run_all():
    """Run every queued generation's task in this process (as a worker would), in creation order."""
    from translator.tasks import run_generation

    def run():
        for pk in Generation.objects.filter(status=Generation.Status.QUEUED).order_by("created_at").values_list("pk", flat=True):
            run_generation(str(pk))

    return run


@pytest.fixture
def alice_api(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


@pytest.fixture
def bob_api(other_user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=other_user).key}")
    return client
