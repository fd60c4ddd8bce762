from django.db import migrations, models


class Migration(migrations.Migration):
    """The output-size choice of a conversion, and the size of its result.

    Rows already stored get null, the photo's own size, which is how they were converted; only
    new rows default to a long side of 1024 (translator.output_sizes), hence the field is added
    without a default first and given it after.
    """

    dependencies = [
        ("translator", "0013_generation_cancelling"),
    ]

    operations = [
        migrations.AddField(
            model_name="conversion",
            name="output_long_side",
            field=models.PositiveIntegerField(null=True, blank=True),
        ),
        migrations.AlterField(
            model_name="conversion",
            name="output_long_side",
            field=models.PositiveIntegerField(
                blank=True, default=1024, null=True,
                help_text="The long side in pixels the result may have (never more than the photo's); empty: the "
                "photo's own size. StyleGAN2 projections ignore it: they are the model's resolution.",
            ),
        ),
        migrations.AddField(
            model_name="conversion",
            name="result_width",
            field=models.PositiveIntegerField(blank=True, help_text="The result's size, once stored.", null=True),
        ),
        migrations.AddField(
            model_name="conversion",
            name="result_height",
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
    ]
