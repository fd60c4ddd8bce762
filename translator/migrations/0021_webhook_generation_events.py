"""Webhook events for generated images (StyleGAN2): three more event names and the delivery's
link to its Generation, kept (set to null) in the log when the image is deleted, as a
conversion's is. Schema only: no rows change."""
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('translator', '0020_photo_upright_size'),
    ]

    operations = [
        migrations.AddField(
            model_name='webhookdelivery',
            name='generation',
            field=models.ForeignKey(blank=True, help_text='The generated image it tells of (kept in the log after the image is deleted).', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='translator.generation'),
        ),
        migrations.AlterField(
            model_name='webhookdelivery',
            name='event',
            field=models.CharField(choices=[('conversion.succeeded', 'Conversion done'), ('conversion.failed', 'Conversion failed'), ('conversion.cancelled', 'Conversion cancelled'), ('generation.succeeded', 'Generated image done'), ('generation.failed', 'Generated image failed'), ('generation.cancelled', 'Generated image cancelled'), ('webhook.test', 'Test event')], max_length=40),
        ),
    ]
