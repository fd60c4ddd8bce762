"""0014_conversion_output_size: conversions stored before the output-size choice keep the meaning
they were converted with, the photo's own size (null); new rows default to a long side of 1024."""

BEFORE = [("translator", "0013_generation_cancelling")]
AFTER = [("translator", "0014_conversion_output_size")]


def a_conversion(apps):
    User = apps.get_model("auth", "User")
    ArtModel = apps.get_model("translator", "ArtModel")
    ModelVersion = apps.get_model("translator", "ModelVersion")
    Photo = apps.get_model("translator", "Photo")
    Conversion = apps.get_model("translator", "Conversion")
    owner, _ = User.objects.get_or_create(username="migrated")
    art_model, _ = ArtModel.objects.get_or_create(slug="wave", name="Wave", family="fast_style")
    version, _ = ModelVersion.objects.get_or_create(art_model=art_model, number=1)
    photo = Photo.objects.create(owner=owner, image="photos/1/a.jpg", format="JPEG", width=4032, height=3024,
                                 size_bytes=1)
    return Conversion.objects.create(owner=owner, art_model=art_model, model_version=version, photo=photo,
                                     status="succeeded", result="results/1/a-result.jpg").pk


def test_old_conversions_keep_the_photos_own_size_and_new_ones_default_to_1024(migrator):
    old = a_conversion(migrator(BEFORE))

    apps = migrator(AFTER)
    Conversion = apps.get_model("translator", "Conversion")
    assert Conversion.objects.values_list("output_long_side", "result_width", "result_height").get(pk=old) == (
        None, None, None)
    new = a_conversion(apps)
    assert Conversion.objects.get(pk=new).output_long_side == 1024

    Conversion = migrator(BEFORE).get_model("translator", "Conversion")  # and it can be undone
    assert Conversion.objects.filter(pk__in=[old, new]).count() == 2
