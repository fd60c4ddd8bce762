"""Photos, results and checkpoints in an S3-compatible store (moto's server, a real HTTP endpoint
started by this test session): nothing lands on this machine's disk, nothing is public, and the
owner-only guarantees of the local folder hold on S3 too."""
import hashlib
import io
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from PIL import Image

from translator import services
from translator.models import Conversion
from translator.tasks import run_conversion

from test_views import finish, owner_urls

pytestmark = pytest.mark.django_db

PUBLIC_GROUPS = ("http://acs.amazonaws.com/groups/global/AllUsers",
                 "http://acs.amazonaws.com/groups/global/AuthenticatedUsers")


def test_an_upload_is_stored_in_the_bucket_and_nowhere_on_this_machine(s3_storage, alice, art_model, upload_file,
                                                                        media_root):
    response = alice.post(reverse("translator:upload"), {"image": upload_file(), "art_model": art_model.pk})
    assert response.status_code == 302
    conversion = Conversion.objects.get()
    assert conversion.photo.image.name in s3_storage.keys()
    assert art_model.current_version.checkpoint.name in s3_storage.keys()
    assert not media_root.exists() or not any(p.is_file() for p in media_root.rglob("*"))


def test_stored_objects_are_private(s3_storage, conversion):
    finish(conversion)
    conversion.refresh_from_db()
    for name in (conversion.photo.image.name, conversion.result.name, conversion.thumbnail.name):
        grants = s3_storage.acl(name)["Grants"]
        grantees = {g["Grantee"].get("URI") for g in grants}
        assert not grantees & set(PUBLIC_GROUPS), (name, grants)


def test_the_owner_gets_every_file_streamed_from_the_bucket(s3_storage, alice, conversion):
    finish(conversion, result=b"result-bytes-from-s3")
    for url in owner_urls(conversion):
        assert alice.get(url).status_code == 200, url
    response = alice.get(reverse("translator:file", args=[conversion.id, "result"]))
    assert b"".join(response.streaming_content) == b"result-bytes-from-s3"
    assert response["Content-Type"] == "image/jpeg" and response["X-Content-Type-Options"] == "nosniff"
    # The page links to the site's own owner-checked view, never to the bucket.
    page = alice.get(reverse("translator:detail", args=[conversion.id])).content.decode()
    assert s3_storage.server.endpoint_url not in page and s3_storage.server.bucket not in page


def test_another_user_gets_a_404_for_every_file_on_s3(s3_storage, client, other_user, conversion):
    finish(conversion)
    client.force_login(other_user)
    for url in owner_urls(conversion):
        assert client.get(url).status_code == 404, url
    api = client.get(reverse("api:conversion-detail", args=[conversion.id]))
    assert api.status_code == 404


@pytest.mark.parametrize("kind", ["original", "result", "thumbnail"])
def test_a_file_lost_from_the_bucket_is_a_404_in_words(s3_storage, alice, conversion, kind):
    finish(conversion)
    conversion.refresh_from_db()
    field = {"original": conversion.photo.image, "result": conversion.result, "thumbnail": conversion.thumbnail}[kind]
    s3_storage.delete(field.name)
    response = alice.get(reverse("translator:file", args=[conversion.id, kind]))
    assert response.status_code == 404
    api = alice.get(reverse(f"api:conversion-{kind}", args=[conversion.id]))
    assert api.status_code == 404
    assert api.json()["message"] == f"The {kind} file is missing: it is no longer in storage."


def test_deleting_a_conversion_removes_its_objects(s3_storage, alice, conversion, django_capture_on_commit_callbacks):
    finish(conversion)
    conversion.refresh_from_db()
    names = {conversion.photo.image.name, conversion.result.name, conversion.thumbnail.name}
    assert names <= set(s3_storage.keys())
    with django_capture_on_commit_callbacks(execute=True):
        assert alice.post(reverse("translator:delete", args=[conversion.id])).status_code == 302
    assert not names & set(s3_storage.keys())


def test_a_conversion_reads_its_photo_and_checkpoint_from_s3_and_writes_its_result_there(
    s3_storage, settings, tmp_path, user, art_model, upload_file
):
    settings.RESTYLE_WORKER_CACHE_DIR = tmp_path / "worker-cache"
    conversion = services.create_conversion(owner=user, upload=upload_file(size=(40, 30)), art_model=art_model)
    run_conversion(str(conversion.id))
    conversion.refresh_from_db()
    assert conversion.status == Conversion.Status.SUCCEEDED, conversion.error
    keys = s3_storage.keys()
    assert conversion.result.name in keys and conversion.thumbnail.name in keys
    with conversion.result.open("rb") as fh:
        assert Image.open(io.BytesIO(fh.read())).size == (40, 30)


def test_the_api_streams_the_result_from_s3_to_its_owner_only(s3_storage, client, user, other_user, conversion):
    finish(conversion, result=b"api-result")
    client.force_login(user)
    response = client.get(reverse("api:conversion-result", args=[conversion.id]))
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"api-result"
    client.force_login(get_user_model().objects.get(pk=other_user.pk))
    assert client.get(reverse("api:conversion-result", args=[conversion.id])).status_code == 404


# --- the worker's checkpoint cache ---------------------------------------------------------------


def convert_afresh(conversion):
    """Run the conversion as a freshly started worker process would: no network loaded yet."""
    from translator.worker import inference

    inference.release_memory()
    run_conversion(str(conversion.id))
    conversion.refresh_from_db()
    return conversion


@pytest.fixture
def worker_cache(settings, tmp_path):
    settings.RESTYLE_WORKER_CACHE_DIR = tmp_path / "worker-cache"
    return settings.RESTYLE_WORKER_CACHE_DIR / "sha256"


def test_a_checkpoint_is_fetched_once_named_by_its_hash_and_reused_by_later_jobs(
    s3_storage, worker_cache, user, art_model, upload_file, tiny_checkpoint
):
    sha256 = hashlib.sha256(tiny_checkpoint.read_bytes()).hexdigest()
    assert art_model.current_version.checkpoint_sha256 == sha256  # recorded when it was stored
    first = services.create_conversion(owner=user, upload=upload_file(), art_model=art_model)
    assert convert_afresh(first).status == Conversion.Status.SUCCEEDED, first.error
    assert [p.name for p in worker_cache.iterdir()] == [f"{sha256}.safetensors"]
    # With the object gone from the store, a later job still loads the network: from the cache.
    s3_storage.delete(art_model.current_version.checkpoint.name)
    second = services.create_conversion(owner=user, upload=upload_file(), art_model=art_model)
    assert convert_afresh(second).status == Conversion.Status.SUCCEEDED, second.error


def test_a_checkpoint_changed_in_the_store_is_refused_and_not_cached(
    s3_storage, worker_cache, user, art_model, upload_file, tiny_checkpoint
):
    checkpoint = art_model.current_version.checkpoint
    s3_storage.server.client().put_object(
        Bucket=s3_storage.server.bucket, Key=f"{s3_storage.prefix}/{checkpoint.name}",
        Body=tiny_checkpoint.read_bytes()[:-1] + b"\0",
    )
    conversion = convert_afresh(services.create_conversion(owner=user, upload=upload_file(), art_model=art_model))
    assert conversion.status == Conversion.Status.FAILED
    assert "network file could not be loaded" in conversion.error
    assert list(worker_cache.iterdir()) == []


def test_a_version_stored_before_hashes_were_recorded_gets_its_hash_from_the_first_fetch(
    s3_storage, worker_cache, user, art_model, upload_file, tiny_checkpoint
):
    version = art_model.current_version
    type(version).objects.filter(pk=version.pk).update(checkpoint_sha256="")
    conversion = convert_afresh(services.create_conversion(owner=user, upload=upload_file(), art_model=art_model))
    assert conversion.status == Conversion.Status.SUCCEEDED, conversion.error
    version.refresh_from_db()
    assert version.checkpoint_sha256 == hashlib.sha256(tiny_checkpoint.read_bytes()).hexdigest()


def test_with_the_local_folder_a_worker_loads_the_stored_file_itself(worker_cache, user, art_model, upload_file):
    from translator.worker.checkpoints import local_checkpoint

    with local_checkpoint(art_model.current_version) as path:
        assert path == Path(art_model.current_version.checkpoint.path)
    conversion = convert_afresh(services.create_conversion(owner=user, upload=upload_file(), art_model=art_model))
    assert conversion.status == Conversion.Status.SUCCEEDED, conversion.error
    assert not worker_cache.exists()


def test_the_admin_gets_a_versions_preview_from_s3_and_a_404_once_it_is_lost(s3_storage, admin_client, art_model):
    from django.core.files.base import ContentFile

    version = art_model.current_version
    version.preview.save("preview.jpg", ContentFile(b"\xff\xd8preview"), save=True)
    url = reverse("admin:translator_modelversion_preview", args=[version.pk])
    response = admin_client.get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"\xff\xd8preview"
    s3_storage.delete(version.preview.name)
    assert admin_client.get(url).status_code == 404


def test_an_uploaded_dataset_stays_in_the_bucket_and_its_thumbnails_are_stored_there(
    s3_storage, admin_client, media_root, worker_cache_dir, make_image_bytes
):
    import zipfile

    from django.core.files.uploadedfile import SimpleUploadedFile

    from translator.models import Dataset

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for name in ("style.jpg", "content/a.jpg", "content/b.jpg"):
            archive.writestr(name, make_image_bytes("JPEG", size=(40, 30)))
    dataset = services.create_dataset(name="starry", family="fast_style",
                                      archive=SimpleUploadedFile("d.zip", buf.getvalue()))
    dataset = services.check_dataset(dataset_id=dataset.pk)
    assert dataset.status == Dataset.Status.READY, dataset.problems
    keys = s3_storage.keys()
    assert dataset.archive.name in keys
    assert services.datasets.sample_thumbnail_name(dataset, 0) in keys
    response = admin_client.get(reverse("admin:translator_dataset_sample", args=[dataset.pk, 0]))
    assert response.status_code == 200
    assert not media_root.exists() or not any(p.is_file() for p in media_root.rglob("*"))
    scratch = services.datasets.scratch_folder(dataset)
    assert scratch.is_dir() and scratch.parent.parent == worker_cache_dir
    services.delete_dataset_files(dataset=dataset)
    assert not any(k.startswith("datasets/") for k in s3_storage.keys())
    assert not scratch.exists()


def test_a_gatys_job_reads_both_images_from_s3_and_writes_its_images_there(s3_storage, gatys_conversion):
    conversion = gatys_conversion
    run_conversion(str(conversion.id))
    conversion.refresh_from_db()
    assert conversion.status == Conversion.Status.SUCCEEDED, conversion.error
    results = [k for k in s3_storage.keys() if k.startswith("results/")]
    assert sorted(results) == sorted([conversion.result.name, conversion.thumbnail.name, conversion.intermediate.name])
    assert {conversion.photo.image.name, conversion.style_image.image.name} <= set(s3_storage.keys())
