import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    """Albums of a user's conversions (through AlbumItem, which records when each was added) and
    the favourite star on a conversion. Only adds tables and a column with a default."""

    dependencies = [
        ('translator', '0015_model_exports'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Album',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=100)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
            ],
            options={
                'ordering': ['name', 'id'],
            },
        ),
        migrations.CreateModel(
            name='AlbumItem',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('added_at', models.DateTimeField(auto_now_add=True)),
            ],
            options={
                'ordering': ['-added_at', '-id'],
            },
        ),
        migrations.AddField(
            model_name='conversion',
            name='favourite',
            field=models.BooleanField(default=False, help_text="Starred by its owner (the gallery's favourites filter)."),
        ),
        migrations.AddIndex(
            model_name='conversion',
            index=models.Index(fields=['owner', 'favourite'], name='conversion_owner_favourite'),
        ),
        migrations.AddField(
            model_name='album',
            name='owner',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='albums', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='albumitem',
            name='album',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='album_items', to='translator.album'),
        ),
        migrations.AddField(
            model_name='albumitem',
            name='conversion',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='album_items', to='translator.conversion'),
        ),
        migrations.AddField(
            model_name='album',
            name='items',
            field=models.ManyToManyField(blank=True, related_name='albums', through='translator.AlbumItem', to='translator.conversion'),
        ),
        migrations.AddConstraint(
            model_name='albumitem',
            constraint=models.UniqueConstraint(fields=('album', 'conversion'), name='unique_album_item'),
        ),
        migrations.AddConstraint(
            model_name='album',
            constraint=models.UniqueConstraint(fields=('owner', 'name'), name='unique_album_name_per_owner'),
        ),
    ]
