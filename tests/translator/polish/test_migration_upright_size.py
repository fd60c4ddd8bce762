"""0020_photo_upright_size: a photo stored before uploads were re-encoded (its uploaded bytes,
EXIF orientation 6, labelled with its stored 400x600) gets its upright size, 600x400; an
upright photo and one whose file is gone keep theirs."""
import io

from django.core.files.base import ContentFile
from PIL import Image

BEFORE = [("translator", "0019_webhooks")]
AFTER = [("translator", "0020_photo_upright_size")]


def jpeg(size, orientation=None):
    buffer = io.BytesIO()
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    Image.new("RGB", size, (10, 200, 90)).save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


def test_old_sideways_photos_get_their_upright_size_and_others_keep_theirs(migrator):
    apps = migrator(BEFORE)
    User, Photo = apps.get_model("auth", "User"), apps.get_model("translator", "Photo")
    owner = User.objects.create(username="old")
    made = {}
    for name, data, size in [("sideways", jpeg((400, 600), 6), (400, 600)), ("upright", jpeg((400, 600)), (400, 600)),
                             ("mirrored-turn", jpeg((300, 200), 7), (300, 200)), ("upside-down", jpeg((400, 600), 3), (400, 600))]:
        photo = Photo(owner=owner, format="JPEG", width=size[0], height=size[1], size_bytes=len(data))
        photo.image.save(f"{name}.jpg", ContentFile(data), save=True)
        made[name] = photo.pk
    made["lost"] = Photo.objects.create(owner=owner, image="photos/gone.jpg", format="JPEG", width=400, height=600,
                                        size_bytes=1).pk

    apps = migrator(AFTER)
    Photo = apps.get_model("translator", "Photo")
    sizes = {name: tuple(Photo.objects.filter(pk=pk).values_list("width", "height").get()) for name, pk in made.items()}
    assert sizes == {"sideways": (600, 400), "upright": (400, 600), "mirrored-turn": (200, 300),
                     "upside-down": (400, 600), "lost": (400, 600)}
