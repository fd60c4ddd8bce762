"""`manage.py install_demo_models` and `ensure_demo_user`, on the real ml5.js checkpoints."""
import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from PIL import Image

from mlcore.checkpoint import read_header
from translator import selectors
from translator.models import ArtModel

pytestmark = pytest.mark.django_db


@pytest.fixture
def ml5_dir(data_dir, settings):
    settings.RESTYLE_DATA_DIR = data_dir
    settings.RESTYLE_DEMO_MODELS_DIR = data_dir / "pretrained" / "fast-style-ml5"
    return settings.RESTYLE_DEMO_MODELS_DIR


def test_installs_the_chosen_styles_with_a_rendered_preview(ml5_dir):
    out = io.StringIO()
    call_command("install_demo_models", styles="wave,udnie", stdout=out, stderr=io.StringIO())
    assert sorted(ArtModel.objects.values_list("slug", flat=True)) == ["udnie", "wave"]
    wave = ArtModel.objects.get(slug="wave")
    assert wave.name == "The Great Wave" and "Hokusai" in wave.description
    header = read_header(wave.current_version.checkpoint.path)
    assert (header.family, header.config.variant, header.meta["name"]) == (
        "fast_style", "engstrom", "The Great Wave"
    )
    with wave.preview.open("rb") as fh:
        preview = Image.open(io.BytesIO(fh.read()))
    assert preview.format == "JPEG" and max(preview.size) == 320


def test_running_it_again_keeps_what_is_installed(ml5_dir):
    call_command("install_demo_models", styles="wave", stdout=io.StringIO(), stderr=io.StringIO())
    out = io.StringIO()
    call_command("install_demo_models", styles="wave", stdout=out, stderr=io.StringIO())
    assert "already installed" in out.getvalue()
    assert ArtModel.objects.get(slug="wave").versions.count() == 1
    call_command("install_demo_models", styles="wave", force=True, stdout=io.StringIO(), stderr=io.StringIO())
    assert ArtModel.objects.get(slug="wave").current_version.number == 2


def test_an_installed_model_whose_file_is_gone_from_the_storage_is_installed_again(ml5_dir):
    """The database kept, the media folder emptied (a new host, a wiped volume): conversions with
    the model would fail on the missing file, so running the command again restores it."""
    call_command("install_demo_models", styles="wave,udnie", stdout=io.StringIO(), stderr=io.StringIO())
    wave = ArtModel.objects.get(slug="wave").current_version
    wave.checkpoint.storage.delete(wave.checkpoint.name)
    out = io.StringIO()
    call_command("install_demo_models", styles="wave,udnie", stdout=out, stderr=io.StringIO())
    assert "wave: The Great Wave v1's checkpoint file is missing from the storage; installing it again" in out.getvalue()
    assert "udnie: already installed" in out.getvalue()
    again = ArtModel.objects.get(slug="wave").current_version
    assert again.number == 2 and again.checkpoint.storage.exists(again.checkpoint.name)
    assert read_header(again.checkpoint.path).family == "fast_style"
    assert ArtModel.objects.get(slug="udnie").current_version.number == 1


def test_an_unknown_style_is_a_clear_error(ml5_dir):
    with pytest.raises(CommandError, match="Known styles: wave"):
        call_command("install_demo_models", styles="wave,picasso")


def test_a_missing_source_folder_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="is not a folder"):
        call_command("install_demo_models", source=str(tmp_path / "nowhere"))


@pytest.fixture
def var_dir(settings, tmp_path):
    """The password files of a fresh installation: a var folder of the test's own."""
    settings.VAR_DIR = tmp_path
    return tmp_path


def test_the_demo_and_admin_accounts_get_their_own_passwords_made_once_and_printed(var_dir):
    out = io.StringIO()
    call_command("ensure_demo_user", stdout=out)
    demo_password = (var_dir / "demo_password").read_text().strip()
    admin_password = (var_dir / "admin_password").read_text().strip()
    assert demo_password != admin_password
    assert f"Demo account:  demo / {demo_password}" in out.getvalue()
    assert f"Admin account: admin / {admin_password}" in out.getvalue()
    for name in ("demo_password", "admin_password"):
        assert (var_dir / name).stat().st_mode & 0o777 == 0o600
    demo, admin = (get_user_model().objects.get(username=name) for name in ("demo", "admin"))
    assert demo.check_password(demo_password) and not demo.is_staff
    assert admin.check_password(admin_password) and admin.is_superuser
    assert not admin.check_password(demo_password)

    again = io.StringIO()
    call_command("ensure_demo_user", stdout=again)
    assert again.getvalue() == out.getvalue()
    assert (var_dir / "admin_password").read_text().strip() == admin_password
    assert get_user_model().objects.count() == 2


def test_a_password_the_user_changed_is_left_alone_and_not_printed(var_dir):
    call_command("ensure_demo_user", stdout=io.StringIO())
    demo = get_user_model().objects.get(username="demo")
    demo.set_password("changed-by-the-user")
    demo.save()
    out = io.StringIO()
    call_command("ensure_demo_user", stdout=out)
    demo.refresh_from_db()
    assert demo.check_password("changed-by-the-user")
    old = (var_dir / "demo_password").read_text().strip()
    assert old not in out.getvalue()
    assert "demo / (its password was changed" in out.getvalue()


def test_an_admin_made_with_the_demo_password_before_the_split_gets_its_own(var_dir):
    """Older installations printed one password for both accounts."""
    (var_dir / "demo_password").write_text("shared-old-password")
    get_user_model().objects.create_user("demo", password="shared-old-password")
    get_user_model().objects.create_user("admin", password="shared-old-password", is_staff=True, is_superuser=True)
    call_command("ensure_demo_user", stdout=io.StringIO())
    admin = get_user_model().objects.get(username="admin")
    assert not admin.check_password("shared-old-password")
    assert admin.check_password((var_dir / "admin_password").read_text().strip())
    assert get_user_model().objects.get(username="demo").check_password("shared-old-password")


def test_without_a_local_folder_the_models_come_from_the_ml5_repository(data_dir, settings, monkeypatch):
    """GitHub is outside the project: a fake urlopen serves the same files from disk."""
    settings.RESTYLE_DEMO_MODELS_DIR = None
    local = data_dir / "pretrained" / "fast-style-ml5"
    asked = []

    def fake_urlopen(url, timeout=None):
        asked.append(url)
        style, name = url.split("/")[-2:]
        return open(local / style / name, "rb")

    monkeypatch.setattr("urllib.request.urlopen", fake_urlopen)
    call_command("install_demo_models", styles="scream", stdout=io.StringIO(), stderr=io.StringIO())
    assert asked[0].startswith("https://raw.githubusercontent.com/ml5js/ml5-data-and-models/")
    assert asked[0].endswith("/models/style-transfer/scream/manifest.json")
    assert ArtModel.objects.get(slug="scream").current_version is not None


def test_offline_without_a_local_folder_is_a_clear_error(settings, monkeypatch):
    settings.RESTYLE_DEMO_MODELS_DIR = None

    def offline(url, timeout=None):
        raise OSError("Network is unreachable")

    monkeypatch.setattr("urllib.request.urlopen", offline)
    with pytest.raises(CommandError, match="Without internet access, point RESTYLE_DEMO_MODELS_DIR"):
        call_command("install_demo_models", styles="wave", stdout=io.StringIO(), stderr=io.StringIO())
    assert not ArtModel.objects.exists()


def test_the_own_style_model_waits_for_vgg19_weights_before_users_see_it(ml5_dir, settings, monkeypatch, tmp_path):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    settings.RESTYLE_VGG19_WEIGHTS = None
    out = io.StringIO()
    call_command("install_demo_models", stdout=out, stderr=io.StringIO())
    assert ArtModel.objects.filter(family="fast_style").count() == 9
    own = ArtModel.objects.get(slug="own-style")
    assert own.family == "gatys" and not own.is_active
    assert own.current_version.config == {"size": 384, "steps": 150}
    assert "inactive: no VGG19 ImageNet weights" in out.getvalue()
    assert "own-style" not in [m.slug for m in selectors.available_models()]


def test_the_own_style_model_is_active_when_the_weights_are_there(ml5_dir, settings, tmp_path):
    weights = tmp_path / "vgg19-dcbb9e9d.pth"
    weights.write_bytes(b"stand-in: only its presence is checked here")
    settings.RESTYLE_VGG19_WEIGHTS = str(weights)
    call_command("install_demo_models", source=str(ml5_dir), no_gatys=False, stdout=io.StringIO(), stderr=io.StringIO())
    assert ArtModel.objects.get(slug="own-style").is_active
