"""services.create_batch: a job per (photo, model), every file checked before anything is stored,
all jobs in one transaction or none, caps refused in words."""
import pytest
from django.core.exceptions import ValidationError

from translator import selectors, services
from translator.models import Conversion, Photo

pytestmark = pytest.mark.django_db


def test_two_photos_with_two_models_make_four_jobs_sharing_each_stored_photo(
    user, art_model, second_model, upload_file, list_stored_files, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as sent:
        jobs = services.create_batch(owner=user, uploads=[upload_file("a.jpg"), upload_file("b.jpg")],
                                     art_models=[art_model, second_model])
    assert [(j.photo.original_name, j.art_model.slug) for j in jobs] == [
        ("a.jpg", "tiny"), ("a.jpg", "tiny-two"), ("b.jpg", "tiny"), ("b.jpg", "tiny-two")]
    assert Conversion.objects.filter(owner=user, status="queued").count() == 4
    # One stored photo per upload, whatever the number of models.
    assert Photo.objects.count() == 2 and len(list_stored_files("photos")) == 2
    assert len(sent) == 4  # a message per job, once committed
    assert all(j.model_version == j.art_model.current_version for j in jobs)


def test_one_bad_file_among_three_stores_nothing_and_names_it(
    user, art_model, upload_file, broken_file, list_stored_files
):
    uploads = [upload_file("good.jpg"), broken_file("holiday.jpg"), upload_file("fine.png", "PNG")]
    with pytest.raises(ValidationError) as refused:
        services.create_batch(owner=user, uploads=uploads, art_models=[art_model])
    words = " ".join(refused.value.messages)
    assert refused.value.field == "image"
    assert "1 of the 3 photos cannot be used, so none was stored" in words
    assert "“holiday.jpg”: This file is not an image we can read" in words
    assert "good.jpg" not in words and "fine.png" not in words
    assert Conversion.objects.count() == 0 and Photo.objects.count() == 0
    assert list_stored_files() == []


def test_every_bad_file_is_named(user, art_model, upload_file, broken_file):
    empty = upload_file("empty.jpg")
    empty.size = 0
    with pytest.raises(ValidationError) as refused:
        services.create_batch(owner=user, uploads=[broken_file("x.jpg"), upload_file("ok.jpg"),
                                                   upload_file("tiny.png", "PNG", size=(4, 4))],
                              art_models=[art_model])
    words = refused.value.messages
    assert words[0].startswith("2 of the 3 photos")
    assert any(w.startswith("“x.jpg”: ") for w in words)
    assert any(w.startswith("“tiny.png”: ") and "at least" in w for w in words)


def test_a_single_photo_keeps_the_words_of_a_single_upload(user, art_model, broken_file):
    with pytest.raises(ValidationError) as refused:
        services.create_batch(owner=user, uploads=[broken_file()], art_models=[art_model])
    assert refused.value.messages == ["This file is not an image we can read. Upload a JPEG, PNG or WebP image."]


def test_caps_are_refused_in_words_before_any_file_is_read(user, art_model, second_model, upload_file, settings):
    settings.RESTYLE_BATCH_MAX_PHOTOS = 2
    with pytest.raises(ValidationError, match="That is 3 photos; one batch may hold at most 2") as refused:
        services.create_batch(owner=user, uploads=[upload_file()] * 3, art_models=[art_model])
    assert refused.value.field == "image"
    settings.RESTYLE_BATCH_MAX_PHOTOS, settings.RESTYLE_BATCH_MAX_JOBS = 20, 3
    with pytest.raises(ValidationError, match="2 photos with 2 models make 4 conversions; one batch may make at most 3"):
        services.create_batch(owner=user, uploads=[upload_file("a.jpg"), upload_file("b.jpg")],
                              art_models=[art_model, second_model])
    assert Conversion.objects.count() == 0 and Photo.objects.count() == 0


def test_nothing_chosen_is_refused(user, art_model, upload_file):
    with pytest.raises(ValidationError, match="Choose at least one photo"):
        services.create_batch(owner=user, uploads=[], art_models=[art_model])
    with pytest.raises(ValidationError, match="Choose at least one model"):
        services.create_batch(owner=user, uploads=[upload_file()], art_models=[])


def test_the_same_model_twice_is_one_job_per_photo(user, art_model, upload_file):
    jobs = services.create_batch(owner=user, uploads=[upload_file()], art_models=[art_model, art_model])
    assert len(jobs) == 1


def test_a_gatys_model_needs_one_style_image_for_the_whole_batch(
    user, art_model, gatys_model, upload_file, list_stored_files
):
    with pytest.raises(ValidationError, match="“Your own style” paints with a style image of yours") as refused:
        services.create_batch(owner=user, uploads=[upload_file("a.jpg"), upload_file("b.jpg")],
                              art_models=[art_model, gatys_model])
    assert refused.value.field == "style_image" and Conversion.objects.count() == 0
    jobs = services.create_batch(owner=user, uploads=[upload_file("a.jpg"), upload_file("b.jpg")],
                                 art_models=[art_model, gatys_model], style_upload=upload_file("style.png", "PNG"))
    gatys_jobs = [j for j in jobs if j.art_model == gatys_model]
    assert len(gatys_jobs) == 2 and gatys_jobs[0].style_image_id == gatys_jobs[1].style_image_id is not None
    assert all(j.style_image_id is None for j in jobs if j.art_model == art_model)
    assert Photo.objects.count() == 3  # two photos, one style image
    assert gatys_jobs[0].queue.startswith("slow.")


def test_a_bad_style_image_stores_nothing(user, gatys_model, upload_file, broken_file, list_stored_files):
    with pytest.raises(ValidationError) as refused:
        services.create_batch(owner=user, uploads=[upload_file()], art_models=[gatys_model],
                              style_upload=broken_file("style.jpg"))
    assert refused.value.field == "style_image"
    assert Photo.objects.count() == 0 and list_stored_files() == []


def test_an_inactive_model_is_refused(user, art_model, second_model, upload_file):
    second_model.is_active = False
    second_model.save()
    with pytest.raises(services.ServiceError, match="“Tiny Two” is not available"):
        services.create_batch(owner=user, uploads=[upload_file()], art_models=[art_model, second_model])
    assert Conversion.objects.count() == 0


def test_a_failure_while_storing_removes_the_files_already_stored(
    user, art_model, upload_file, list_stored_files, monkeypatch
):
    from translator.services import batches

    real = batches._store_photo
    calls = []

    def store_then_fail(owner, upload, checked):
        calls.append(upload.name)
        if len(calls) == 2:
            raise OSError("disk full")  # the storage failing half-way through the batch
        return real(owner, upload, checked)

    monkeypatch.setattr(batches, "_store_photo", store_then_fail)
    with pytest.raises(OSError):
        services.create_batch(owner=user, uploads=[upload_file("a.jpg"), upload_file("b.jpg")], art_models=[art_model])
    assert Conversion.objects.count() == 0 and Photo.objects.count() == 0
    assert list_stored_files() == []


def test_queue_position_counts_jobs_on_the_same_queue_that_waited_longer(
    user, other_user, art_model, gatys_model, upload_file
):
    first, second, third = services.create_batch(
        owner=user, uploads=[upload_file("a.jpg"), upload_file("b.jpg"), upload_file("c.jpg")], art_models=[art_model])
    # Another user's job waits on the same queue; a Gatys job on another.
    [bob] = services.create_batch(owner=other_user, uploads=[upload_file()], art_models=[art_model])
    [gatys] = services.create_batch(owner=user, uploads=[upload_file()], art_models=[gatys_model],
                                    style_upload=upload_file("s.png", "PNG"))
    positions = [selectors.queue_position(conversion=c) for c in (first, second, third, bob, gatys)]
    assert positions == [1, 2, 3, 4, 1]
    # The first one is taken by a worker: it has no place, the others move up.
    Conversion.objects.filter(pk=first.pk).update(status="running")
    first.refresh_from_db()
    assert selectors.queue_position(conversion=first) is None
    assert [selectors.queue_position(conversion=c) for c in (second, third, bob)] == [1, 2, 3]
    services.cancel_conversion(conversion=second)
    assert selectors.queue_position(conversion=second) is None
    assert selectors.queue_position(conversion=third) == 1


def test_a_page_of_tiles_gets_every_place_in_its_one_query(
    user, other_user, art_model, gatys_model, upload_file, django_assert_num_queries
):
    jobs = services.create_batch(owner=user, uploads=[upload_file(f"{i}.jpg") for i in range(4)], art_models=[art_model])
    services.create_batch(owner=other_user, uploads=[upload_file()], art_models=[art_model])
    services.create_batch(owner=user, uploads=[upload_file()], art_models=[gatys_model],
                          style_upload=upload_file("s.png", "PNG"))
    Conversion.objects.filter(pk=jobs[0].pk).update(status="running")
    expected = {c.pk: selectors.queue_position(conversion=c) for c in Conversion.objects.filter(owner=user)}
    assert sorted(expected.values(), key=str) == [1, 1, 2, 3, None]
    with django_assert_num_queries(1):
        rows = list(selectors.filter_conversions(user=user))
        got = {c.pk: selectors.queue_position(conversion=c) for c in rows}
    assert got == expected

