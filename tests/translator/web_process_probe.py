"""Serve pages as the web process does, in a process of its own, and print (JSON) each page's
status and which of torch and mlcore got imported. Run by test_boundary.py, which gives it an
empty RESTYLE_VAR_DIR; the argument says what to visit: "ordinary" (the pages a user and an
admin browse, after importing every module of translator.worker and the Celery tasks, as a web
process may through Celery's autodiscovery) or "training-form" (the admin's form for a new
training run)."""
import importlib
import io
import json
import os
import pkgutil
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")

import django  # noqa: E402

django.setup()

from django.contrib import admin  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.files.base import ContentFile  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.urls import reverse  # noqa: E402
from PIL import Image  # noqa: E402

from translator.models import ArtModel, Conversion, Dataset, ModelVersion, Photo, TrainingRun  # noqa: E402


def png_bytes():
    buf = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 120, 40)).save(buf, "PNG")
    return buf.getvalue()


def make_site():
    """A catalogue entry, a finished conversion in a user's gallery, a dataset and a run: rows
    only, as a web process finds them (the workers made the files)."""
    users = get_user_model().objects
    alice = users.create_user("alice", password="pw-alice-1")
    boss = users.create_superuser("boss", "boss@example.com", "pw-boss-1")
    model = ArtModel.objects.create(slug="wave", name="Wave", family="fast_style")
    version = ModelVersion.objects.create(art_model=model, number=1, checkpoint="models/wave/v1.safetensors")
    model.current_version = version
    model.save()
    photo = Photo(owner=alice, format="PNG", width=32, height=24, size_bytes=100)
    photo.image.save("p.png", ContentFile(png_bytes()), save=False)
    photo.save()
    conversion = Conversion.objects.create(
        owner=alice, photo=photo, art_model=model, model_version=version, status=Conversion.Status.SUCCEEDED,
        progress=1.0,
    )
    conversion.result.save("result.jpg", ContentFile(png_bytes()))
    conversion.thumbnail.save("thumb.jpg", ContentFile(png_bytes()))
    dataset = Dataset.objects.create(name="starry", family="fast_style", status=Dataset.Status.READY, folder="/nowhere")
    run = TrainingRun.objects.create(name="starry", family="fast_style", dataset=dataset, config={}, total_steps=10)
    return alice, boss, conversion, run


def ordinary_pages(alice, boss, conversion, run):
    user_pages = [
        reverse("translator:upload"),
        reverse("translator:gallery"),
        reverse("translator:detail", args=[conversion.id]),
        "/api/v1/models/",
        "/api/v1/conversions/",
    ]
    changelists = [
        reverse(f"admin:{m._meta.app_label}_{m._meta.model_name}_changelist")
        for m in admin.site._registry if m._meta.app_label == "translator"
    ]
    admin_pages = [reverse("admin:index"), *changelists, reverse("admin:translator_trainingrun_change", args=[run.pk])]
    return [(alice, url) for url in user_pages] + [(boss, url) for url in admin_pages]


def main(what):
    setup_test_environment()
    call_command("migrate", verbosity=0)
    alice, boss, conversion, run = make_site()
    if what == "ordinary":
        import translator.worker

        for module in pkgutil.iter_modules(translator.worker.__path__, "translator.worker."):
            importlib.import_module(module.name)
        importlib.import_module("translator.tasks")
        visits = ordinary_pages(alice, boss, conversion, run)
    else:
        visits = [(boss, reverse("admin:translator_trainingrun_add") + "?family=fast_style")]
    statuses = {}
    for user, url in visits:
        client = Client()
        client.force_login(user)
        statuses[url] = client.get(url).status_code
    print(json.dumps({
        "statuses": statuses,
        "torch": "torch" in sys.modules,
        "mlcore": sorted(m for m in sys.modules if m == "mlcore" or m.startswith("mlcore.")),
    }))


if __name__ == "__main__":
    main(sys.argv[1])
