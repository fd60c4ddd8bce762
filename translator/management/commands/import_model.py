from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from translator import services
from translator.worker import catalogue


class Command(BaseCommand):
    help = (
        "Add a checkpoint to the catalogue as a new version of a model (created if needed): "
        "restyle (mlcore's own .safetensors) or one of mlcore's importers' formats."
    )

    def add_arguments(self, parser):
        formats = catalogue.import_formats()
        parser.add_argument("format", choices=sorted(formats))
        parser.add_argument("path", help="the checkpoint file or folder")
        parser.add_argument("--slug", required=True, help="catalogue entry, e.g. facades")
        parser.add_argument("--name", default="", help="name shown to users (new entries)")
        parser.add_argument("--description", default="")
        parser.add_argument("--input-hint", default="", help='what input it expects, e.g. "facade label map"')
        parser.add_argument("--no-publish", action="store_true", help="keep the new version unpublished")
        parser.add_argument("--preview", help="an input image to render the model's preview from "
                            "(a StyleGAN2 model's preview is a grid of fixed seeds without one)")
        self.option_names = catalogue.add_import_options(parser)

    def handle(self, *args, **o):
        options = {k: o[k] for k in self.option_names if o.get(k) not in (None, False)}
        try:
            version = services.import_model(
                fmt=o["format"], path=o["path"], slug=o["slug"], name=o["name"], description=o["description"],
                input_hint=o["input_hint"], publish=not o["no_publish"], options=options,
            )
            if o["preview"]:
                services.render_model_preview(version=version, image=catalogue.open_image(Path(o["preview"])))
            elif version.art_model.is_generator:  # a grid of fixed seeds: no input image needed
                services.render_model_preview(version=version)
        except services.ServiceError as exc:
            raise CommandError(str(exc)) from exc
        state = "published" if version.art_model.current_version_id == version.pk else "not published"
        self.stdout.write(self.style.SUCCESS(f"{version} ({version.art_model.get_family_display()}), {state}"))
