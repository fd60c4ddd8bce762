"""`manage.py import_model`: checkpoints of every format become catalogue versions."""
import io

import pytest
from django.core.management import CommandError, call_command

from translator.models import ArtModel

pytestmark = pytest.mark.django_db


def run(*args):
    out = io.StringIO()
    call_command("import_model", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_an_mlcore_checkpoint_becomes_a_published_model(tiny_checkpoint):
    out = run("restyle", str(tiny_checkpoint), "--slug", "tiny-net", "--input-hint", "a photo of a cat")
    model = ArtModel.objects.get(slug="tiny-net")
    assert model.family == "fast_style" and model.name == "tiny random network (tests only)"
    assert model.expects == "a photo of a cat"
    assert model.current_version.number == 1
    assert "published" in out


def test_a_second_import_adds_a_version_unpublished_when_asked(tiny_checkpoint):
    run("restyle", str(tiny_checkpoint), "--slug", "tiny-net")
    out = run("restyle", str(tiny_checkpoint), "--slug", "tiny-net", "--no-publish")
    model = ArtModel.objects.get(slug="tiny-net")
    assert model.versions.count() == 2 and model.current_version.number == 1
    assert "not published" in out


def test_an_ml5_folder_imports_with_a_preview(data_dir):
    run("ml5", str(data_dir / "pretrained" / "fast-style-ml5" / "udnie"), "--slug", "udnie",
        "--name", "Udnie", "--preview", str(data_dir / "images" / "content" / "coffee.png"))
    model = ArtModel.objects.get(slug="udnie")
    assert model.name == "Udnie" and model.preview


def test_a_checkpoint_of_another_family_is_refused(tiny_checkpoint, gatys_model):
    with pytest.raises(CommandError, match="is a Style of your own image .* model; this checkpoint is of the fast_style family"):
        run("restyle", str(tiny_checkpoint), "--slug", gatys_model.slug)


def test_a_file_that_is_no_checkpoint_is_refused(tmp_path):
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(CommandError, match="not a Restyle checkpoint"):
        run("restyle", str(junk), "--slug", "junk")
    with pytest.raises(CommandError, match="Could not import"):
        run("ml5", str(tmp_path), "--slug", "junk")
    assert not ArtModel.objects.exists()
