"""Datasets: safe unpacking, every file checked like an upload, the family's layout checked, and
every problem said in words."""
import io
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from translator import services
from translator.models import Dataset

pytestmark = pytest.mark.django_db


@pytest.fixture
def make_zip(make_image_bytes):
    def make(entries, name="data.zip"):
        """entries: {path in the archive: bytes, or "IMG" for a real small JPEG}."""
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as archive:
            for path, data in entries.items():
                archive.writestr(path, make_image_bytes("JPEG", size=(40, 30)) if data == "IMG" else data)
        return SimpleUploadedFile(name, buf.getvalue(), content_type="application/zip")

    return make


GOOD_STYLE_SET = {"style.jpg": "IMG", "content/a.jpg": "IMG", "content/b/c.jpg": "IMG"}


def checked(dataset):
    return services.check_dataset(dataset_id=dataset.pk)


def test_an_uploaded_zip_is_unpacked_checked_and_ready(make_zip, media_root, worker_cache_dir):
    dataset = services.create_dataset(name="starry", family="fast_style", archive=make_zip(GOOD_STYLE_SET))
    assert dataset.status == Dataset.Status.CHECKING
    dataset = checked(dataset)
    assert dataset.status == Dataset.Status.READY, dataset.problems
    assert dataset.counts == {"style images": 1, "content photos": 2}
    assert dataset.file_count == 3 and dataset.samples[0] == "style.jpg"
    # Unpacked in the checking worker's scratch; the archive stays in the storage for the others.
    unpacked = services.datasets.scratch_folder(dataset)
    assert unpacked.parent == worker_cache_dir / "datasets" and dataset.folder == str(unpacked)
    assert (unpacked / "content" / "b" / "c.jpg").is_file()
    assert dataset.archive and (media_root / dataset.archive.name).is_file()
    assert not (media_root / "datasets" / str(dataset.pk) / "content").exists()


def test_a_worker_that_did_not_check_the_dataset_unpacks_it_from_the_storage(make_zip, settings, tmp_path):
    dataset = checked(services.create_dataset(name="starry", family="fast_style", archive=make_zip(GOOD_STYLE_SET)))
    settings.RESTYLE_WORKER_CACHE_DIR = tmp_path / "another-host"
    folder = services.datasets.local_dataset_folder(dataset)
    assert folder == tmp_path / "another-host" / "datasets" / services.datasets.scratch_folder(dataset).name
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.jpg")) == [
        "content/a.jpg", "content/b/c.jpg", "style.jpg"]


def test_the_admin_shows_sample_thumbnails_from_the_storage(admin_client, make_zip, media_root):
    from PIL import Image

    dataset = checked(services.create_dataset(name="starry", family="fast_style", archive=make_zip(GOOD_STYLE_SET)))
    url = reverse("admin:translator_dataset_sample", args=[dataset.pk, 0])
    response = admin_client.get(url)
    assert response.status_code == 200
    assert Image.open(io.BytesIO(b"".join(response.streaming_content))).format == "JPEG"
    (media_root / services.datasets.sample_thumbnail_name(dataset, 0)).unlink()
    assert admin_client.get(url).status_code == 404


def test_a_single_top_folder_in_the_archive_becomes_the_root(make_zip):
    entries = {f"starry/{k}": v for k, v in GOOD_STYLE_SET.items()} | {"__MACOSX/starry/._style.jpg": b"junk"}
    dataset = checked(services.create_dataset(name="starry", family="fast_style", archive=make_zip(entries)))
    assert dataset.status == Dataset.Status.READY, dataset.problems
    assert dataset.folder.endswith("/starry")


@pytest.mark.parametrize(
    "bad_path, words",
    [
        ("../escape.jpg", "a path outside itself (../escape.jpg); refused"),
        ("content/../../escape.jpg", "a path outside itself"),
        ("/etc/evil.jpg", "an absolute path (/etc/evil.jpg); refused"),
    ],
)
def test_an_archive_with_paths_outside_itself_is_refused_and_nothing_written(make_zip, media_root, tmp_path, bad_path, words):
    dataset = checked(services.create_dataset(
        name="evil", family="fast_style", archive=make_zip({**GOOD_STYLE_SET, bad_path: "IMG"})
    ))
    assert dataset.status == Dataset.Status.INVALID
    assert any(words in p for p in dataset.problems), dataset.problems
    assert not (media_root / "datasets" / str(dataset.pk)).exists()
    assert not (media_root / "escape.jpg").exists() and not (media_root / "datasets" / "escape.jpg").exists()


def test_an_archive_with_a_symbolic_link_is_refused(make_zip):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        link = zipfile.ZipInfo("content/passwd.jpg")
        link.external_attr = (0o120777 << 16)  # a symlink entry
        archive.writestr(link, "/etc/passwd")
    dataset = checked(services.create_dataset(name="link", family="fast_style", archive=SimpleUploadedFile("l.zip", buf.getvalue())))
    assert "symbolic link (content/passwd.jpg)" in dataset.problems[0]


def test_archives_over_the_file_or_size_limit_are_refused(make_zip, settings):
    settings.RESTYLE_DATASET_MAX_FILES = 2
    dataset = checked(services.create_dataset(name="many", family="fast_style", archive=make_zip(GOOD_STYLE_SET)))
    assert dataset.problems == ["The archive holds 3 files; the limit is 2."]
    settings.RESTYLE_DATASET_MAX_FILES = 100
    settings.RESTYLE_DATASET_MAX_MB = 1
    big = make_zip({**GOOD_STYLE_SET, "content/big.bin": b"\0" * (2 * 2**20)})
    dataset = checked(services.create_dataset(name="big", family="fast_style", archive=big))
    assert dataset.problems == ["The archive unpacks to 2 MB; the limit is 1 MB."]


def test_a_non_image_or_broken_image_inside_is_named(make_zip):
    entries = {**GOOD_STYLE_SET, "content/notes.txt": b"hello", "content/broken.jpg": b"\xff\xd8\xff\xe0 nope"}
    dataset = checked(services.create_dataset(name="mixed", family="fast_style", archive=make_zip(entries)))
    assert dataset.status == Dataset.Status.INVALID
    assert "content/notes.txt: not an image (datasets hold JPEG, PNG or WebP files only)." in dataset.problems
    assert any(p.startswith("content/broken.jpg: The image is damaged or incomplete") for p in dataset.problems)


def test_a_wrong_layout_is_explained_by_the_family(make_zip):
    dataset = checked(services.create_dataset(name="flat", family="fast_style", archive=make_zip({"a.jpg": "IMG", "b.jpg": "IMG"})))
    assert "There is no content/ folder of photos." in dataset.problems
    assert any("several images at the top" in p for p in dataset.problems)


def test_a_file_that_is_no_zip_is_refused_at_once():
    with pytest.raises(ValidationError, match="not a .zip file"):
        services.create_dataset(name="x", family="fast_style", archive=SimpleUploadedFile("x.zip", b"PK? no"))
    assert not Dataset.objects.exists()


def test_a_server_folder_must_be_inside_an_allowed_root(tmp_path, settings):
    root = tmp_path / "datasets"
    (root / "empty").mkdir(parents=True)
    settings.RESTYLE_DATASET_ROOTS = [root]
    with pytest.raises(ValidationError, match="outside the folders datasets may come from"):
        services.create_dataset(name="x", family="fast_style", server_path=str(tmp_path))
    (root / "sneaky").symlink_to(tmp_path)
    with pytest.raises(ValidationError, match="outside the folders"):
        services.create_dataset(name="x", family="fast_style", server_path=str(root / "sneaky"))
    with pytest.raises(ValidationError, match="is not a folder"):
        services.create_dataset(name="x", family="fast_style", server_path=str(root / "missing"))
    dataset = checked(services.create_dataset(name="empty", family="fast_style", server_path=str(root / "empty")))
    assert "The dataset is empty: no files found." in dataset.problems


def test_a_server_folder_is_used_where_it_is(tmp_path, settings, make_image_bytes):
    root = tmp_path / "datasets"
    (root / "set" / "content").mkdir(parents=True)
    (root / "set" / "style.png").write_bytes(make_image_bytes("PNG", size=(40, 40)))
    (root / "set" / "content" / "a.jpg").write_bytes(make_image_bytes())
    settings.RESTYLE_DATASET_ROOTS = [root]
    dataset = checked(services.create_dataset(name="set", family="fast_style", server_path=str(root / "set")))
    assert dataset.status == Dataset.Status.READY and dataset.folder == str((root / "set").resolve())
    services.delete_dataset_files(dataset=dataset)
    assert (root / "set" / "style.png").exists()  # never deletes a server folder


def test_the_admin_adds_a_dataset_and_queues_its_check(admin_client, make_zip, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        response = admin_client.post(
            reverse("admin:translator_dataset_add"),
            {"name": "starry", "family": "fast_style", "archive": make_zip(GOOD_STYLE_SET), "server_path": ""},
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    dataset = Dataset.objects.get()
    assert dataset.status == Dataset.Status.CHECKING and len(callbacks) == 1
    checked(dataset)
    page = admin_client.get(reverse("admin:translator_dataset_change", args=[dataset.pk])).content.decode()
    assert "None: the dataset is ready to train on." in page
    assert reverse("admin:translator_dataset_sample", args=[dataset.pk, 0]) in page
    thumb = admin_client.get(reverse("admin:translator_dataset_sample", args=[dataset.pk, 0]))
    assert thumb.status_code == 200 and thumb["Content-Type"] == "image/jpeg"


def test_the_admin_form_says_what_is_wrong(admin_client, make_zip, settings, tmp_path):
    settings.RESTYLE_DATASET_ROOTS = [tmp_path / "allowed"]
    response = admin_client.post(reverse("admin:translator_dataset_add"), {"name": "x", "family": "fast_style", "server_path": ""})
    assert "Give either a .zip archive or a server folder, not both." in response.content.decode()
    response = admin_client.post(
        reverse("admin:translator_dataset_add"), {"name": "x", "family": "fast_style", "server_path": "/etc"}
    )
    assert "is outside the folders datasets may come from" in response.content.decode()
    assert not Dataset.objects.exists()
