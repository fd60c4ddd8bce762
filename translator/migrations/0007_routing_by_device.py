# Routing by capability: queues named after the kind of work and the device class it needs.

from django.db import migrations, models


def name_queues_by_device_class(apps, schema_editor):
    """Every waiting job keeps its place under the new queue names (config/queues.py); a queued
    job's old message is sent again by the sweeper under the new name. Runs that asked for a CUDA
    device now ask for a GPU."""
    Conversion = apps.get_model("translator", "Conversion")
    Dataset = apps.get_model("translator", "Dataset")
    TrainingRun = apps.get_model("translator", "TrainingRun")
    for old in ("conversions", "slow"):
        Conversion.objects.filter(queue=old).update(queue=f"{old}.cpu")
    Dataset.objects.filter(queue="slow").update(queue="slow.cpu")
    TrainingRun.objects.filter(device_class__startswith="cuda").update(device_class="gpu")
    TrainingRun.objects.exclude(device_class="gpu").update(device_class="cpu")
    for device_class in ("cpu", "gpu"):
        TrainingRun.objects.filter(device_class=device_class).update(queue=f"training.{device_class}")
    _check_foreign_keys_now(schema_editor)


def name_queues_as_before(apps, schema_editor):
    Conversion = apps.get_model("translator", "Conversion")
    Dataset = apps.get_model("translator", "Dataset")
    TrainingRun = apps.get_model("translator", "TrainingRun")
    for kind in ("conversions", "slow"):
        Conversion.objects.filter(queue__startswith=f"{kind}.").update(queue=kind)
    Dataset.objects.filter(queue__startswith="slow.").update(queue="slow")
    TrainingRun.objects.update(queue="training")
    TrainingRun.objects.filter(device_class="gpu").update(device_class="cuda")
    _check_foreign_keys_now(schema_editor)


def _check_foreign_keys_now(schema_editor):
    """PostgreSQL queues the deferred foreign-key checks of the rows updated above until the
    transaction ends, and refuses to ALTER one of those tables later in this migration's
    transaction while they wait ("pending trigger events"). SET CONSTRAINTS ... IMMEDIATE runs
    them now, so the schema changes that follow can go ahead."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


class Migration(migrations.Migration):

    dependencies = [
        ("translator", "0006_delivery_guarantees"),
    ]

    operations = [
        migrations.RenameField(model_name="trainingrun", old_name="device", new_name="device_class"),
        migrations.RunPython(name_queues_by_device_class, name_queues_as_before),
        migrations.AlterField(
            model_name="trainingrun",
            name="device_class",
            field=models.CharField(
                choices=[("cpu", "CPU is enough (any worker)"), ("gpu", "Needs a GPU")], default="cpu",
                help_text="Which workers may train it; the worker trains on its own device (RESTYLE_WORKER_DEVICE).",
                max_length=8,
            ),
        ),
        migrations.AddField(
            model_name="modelversion",
            name="device_class",
            field=models.CharField(
                blank=True, choices=[("cpu", "CPU is enough (any worker)"), ("gpu", "Needs a GPU")],
                help_text="Which workers may convert with it. Empty: its family's default "
                "(RESTYLE_FAMILY_DEVICE_CLASSES; CPU when the family is not named there).",
                max_length=8,
            ),
        ),
        migrations.AddField(
            model_name="conversion",
            name="worker_device",
            field=models.CharField(
                blank=True, help_text="What that worker ran it on, e.g. cpu or cuda:0 (its GPU's name).", max_length=100
            ),
        ),
        migrations.AddField(
            model_name="trainingrun",
            name="worker_device",
            field=models.CharField(
                blank=True, help_text="What that worker trains on, e.g. cpu or cuda:0 (its GPU's name).", max_length=100
            ),
        ),
        migrations.AlterField(
            model_name="conversion",
            name="worker",
            field=models.CharField(blank=True, help_text="The Celery worker that took it last.", max_length=200),
        ),
        migrations.AlterField(
            model_name="trainingrun",
            name="worker",
            field=models.CharField(blank=True, help_text="The Celery worker that took it last.", max_length=200),
        ),
        migrations.AlterField(
            model_name="conversion",
            name="queue",
            field=models.CharField(default="conversions.cpu", help_text="The Celery queue its messages go to.", max_length=64),
        ),
        migrations.AlterField(
            model_name="dataset",
            name="queue",
            field=models.CharField(default="slow.cpu", help_text="The Celery queue its checks go to.", max_length=64),
        ),
        migrations.AlterField(
            model_name="trainingrun",
            name="queue",
            field=models.CharField(default="training.cpu", help_text="The Celery queue its messages go to.", max_length=64),
        ),
    ]
