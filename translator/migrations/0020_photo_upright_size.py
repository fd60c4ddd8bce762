"""Photos stored before uploads were re-encoded upright kept their uploaded bytes, EXIF
orientation included, and the size of their stored pixels: a 400x600 file with orientation 6
was labelled 400x600 while shown and converted at 600x400. Give those rows their upright size.

Cheap: only the file's header is read (Pillow decodes no pixels here), and only photos whose
file still carries an orientation that turns it (5 to 8) change. Photos stored since are
upright and carry no EXIF, so they are left as they are. A file that cannot be read is left
alone and logged."""
import logging

from django.db import migrations

log = logging.getLogger(__name__)

ORIENTATION = 0x0112
TURNED = {5, 6, 7, 8}  # a quarter turn (with or without a mirror): width and height swap


def upright_sizes(apps, schema_editor):
    from PIL import Image

    Photo = apps.get_model("translator", "Photo")
    for photo in Photo.objects.filter(format__in=["JPEG", "WEBP", "PNG"]).only("id", "image", "width", "height").iterator():
        try:
            with photo.image.open("rb") as fh, Image.open(fh) as image:
                orientation = int(image.getexif().get(ORIENTATION, 1))
                stored = image.size
        except Exception:  # a lost or unreadable file: its row keeps what it says
            log.warning("photo %s: could not read its header; its size is left as it is", photo.pk, exc_info=True)
            continue
        if orientation in TURNED and (photo.width, photo.height) == stored:
            Photo.objects.filter(pk=photo.pk).update(width=stored[1], height=stored[0])


class Migration(migrations.Migration):
    dependencies = [("translator", "0019_webhooks")]

    operations = [migrations.RunPython(upright_sizes, migrations.RunPython.noop)]
