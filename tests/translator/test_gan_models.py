"""Community Pix2Pix and U-GAT-IT checkpoints become catalogue models users convert with."""
import io

import pytest
import torch
from django.core.management import call_command
from PIL import Image

from mlcore.pix2pix import Pix2PixConfig
from mlcore.pix2pix.networks import build as build_unet
from mlcore.ugatit import UGATITConfig
from mlcore.ugatit.networks import build as build_ugatit
from translator import services
from translator.models import ArtModel, Conversion
from translator.tasks import run_conversion

pytestmark = pytest.mark.django_db


def convert(user, art_model, upload):
    conversion = services.create_conversion(owner=user, upload=upload, art_model=art_model)
    run_conversion(str(conversion.id))
    conversion.refresh_from_db()
    assert conversion.status == Conversion.Status.SUCCEEDED, conversion.error
    with conversion.result.open("rb") as fh:
        return Image.open(io.BytesIO(fh.read()))


def test_a_junyanz_pix2pix_generator_is_imported_and_converts_any_size(tmp_path, user, upload_file):
    torch.manual_seed(0)
    generator = build_unet(Pix2PixConfig(generator="unet_128", ngf=4))  # random weights, junyanz's layout
    pth = tmp_path / "latest_net_G.pth"
    torch.save(generator.state_dict(), pth)
    call_command("import_model", "junyanz", str(pth), "--slug", "facades", "--name", "Facades",
                 "--arch", "unet_128", "--input-hint", "facade label map", stdout=io.StringIO())
    model = ArtModel.objects.get(slug="facades")
    assert (model.family, model.expects) == ("pix2pix", "facade label map")
    assert convert(user, model, upload_file(size=(150, 97))).size == (150, 97)


def test_a_ugatit_checkpoint_is_imported_in_the_chosen_direction_and_converts(tmp_path, user, upload_file):
    torch.manual_seed(0)
    config = UGATITConfig(light=True, ngf=4, n_res=1, img_size=64)
    a2b, b2a = build_ugatit(config), build_ugatit(config)
    pt = tmp_path / "selfie2anime_params_latest.pt"
    torch.save({"genA2B": a2b.state_dict(), "genB2A": b2a.state_dict()}, pt)
    call_command("import_model", "ugatit", str(pt), "--slug", "anime2selfie", "--direction", "B2A",
                 "--input-hint", "an anime face, cropped", stdout=io.StringIO())
    model = ArtModel.objects.get(slug="anime2selfie")
    assert model.family == "ugatit"
    from mlcore.checkpoint import read_header

    assert read_header(model.current_version.checkpoint.path).meta["direction"] == "B2A"
    assert convert(user, model, upload_file(size=(70, 45))).size == (70, 45)
