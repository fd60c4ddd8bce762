"""Migrations that change stored values, run by Django's migration executor on rows made through
the historical models of the migration before: the values after, and back again where the
migration can be undone.

0007_routing_by_device: waiting jobs keep their place under the queue names of config/queues.py
(the kind and the device class), and runs that asked for a CUDA device ask for a GPU."""

BEFORE = [("translator", "0006_delivery_guarantees")]
AFTER = [("translator", "0007_routing_by_device")]


def jobs_at_0006(apps):
    """A conversion on each old queue, a dataset check, and a training run per old device."""
    User = apps.get_model("auth", "User")
    ArtModel = apps.get_model("translator", "ArtModel")
    ModelVersion = apps.get_model("translator", "ModelVersion")
    Photo = apps.get_model("translator", "Photo")
    Conversion = apps.get_model("translator", "Conversion")
    Dataset = apps.get_model("translator", "Dataset")
    TrainingRun = apps.get_model("translator", "TrainingRun")
    owner = User.objects.create(username="migrated")
    art_model = ArtModel.objects.create(slug="wave", name="Wave", family="fast_style")
    version = ModelVersion.objects.create(art_model=art_model, number=1)
    photo = Photo.objects.create(owner=owner, image="photos/1/a.jpg", format="JPEG", width=8, height=8, size_bytes=1)
    conversions = {
        queue: Conversion.objects.create(owner=owner, art_model=art_model, model_version=version, photo=photo,
                                         queue=queue).pk
        for queue in ("conversions", "slow")
    }
    dataset = Dataset.objects.create(name="starry", family="fast_style", queue="slow")
    runs = {
        device: TrainingRun.objects.create(name=f"on {device}", family="fast_style", config={}, dataset=dataset,
                                           device=device, queue="training").pk
        for device in ("cpu", "cuda", "cuda:1")
    }
    return conversions, dataset.pk, runs


def test_0007_renames_the_queues_of_stored_jobs_and_undoing_it_restores_them(migrator):
    conversions, dataset, runs = jobs_at_0006(migrator(BEFORE))

    apps = migrator(AFTER)
    Conversion = apps.get_model("translator", "Conversion")
    Dataset = apps.get_model("translator", "Dataset")
    TrainingRun = apps.get_model("translator", "TrainingRun")
    assert {old: Conversion.objects.get(pk=pk).queue for old, pk in conversions.items()} == {
        "conversions": "conversions.cpu", "slow": "slow.cpu"}
    assert Dataset.objects.get(pk=dataset).queue == "slow.cpu"
    assert {old: TrainingRun.objects.values_list("device_class", "queue").get(pk=pk) for old, pk in runs.items()} == {
        "cpu": ("cpu", "training.cpu"), "cuda": ("gpu", "training.gpu"), "cuda:1": ("gpu", "training.gpu")}

    apps = migrator(BEFORE)
    Conversion = apps.get_model("translator", "Conversion")
    Dataset = apps.get_model("translator", "Dataset")
    TrainingRun = apps.get_model("translator", "TrainingRun")
    assert {old: Conversion.objects.get(pk=pk).queue for old, pk in conversions.items()} == {
        "conversions": "conversions", "slow": "slow"}
    assert Dataset.objects.get(pk=dataset).queue == "slow"
    # A run's exact CUDA device was not kept: every GPU run asks for "cuda" again.
    assert {old: TrainingRun.objects.values_list("device", "queue").get(pk=pk) for old, pk in runs.items()} == {
        "cpu": ("cpu", "training"), "cuda": ("cuda", "training"), "cuda:1": ("cuda", "training")}
