import tempfile
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from translator import services
from translator.demo_models import ATTRIBUTION, ML5_STYLES, OWN_STYLE, OWN_STYLE_CONFIG
from translator.models import ArtModel, Family, ModelVersion
from translator.worker import catalogue, inference

PREVIEW_IMAGE = "images/content/chelsea.png"  # CC0, from scikit-image


class Command(BaseCommand):
    help = (
        "Install the demo fast-style models into the catalogue: from a local folder of ml5.js "
        "checkpoints (RESTYLE_DEMO_MODELS_DIR) or, with --online, from the ml5 public repository."
    )

    def add_arguments(self, parser):
        parser.add_argument("--source", help="Folder holding one ml5.js checkpoint folder per style.")
        parser.add_argument(
            "--online",
            action="store_true",
            help="Download from GitHub even if a local folder exists (the default without one).",
        )
        parser.add_argument("--styles", help="Comma-separated style slugs (default: all nine).")
        parser.add_argument("--force", action="store_true", help="Add a new version even if installed.")
        parser.add_argument("--no-gatys", action="store_true", help="Leave out the “Your own style” model.")

    def handle(self, *args, source=None, online=False, styles=None, force=False, no_gatys=False, **options):
        self._install_styles(source=source, online=online, styles=styles, force=force)
        if not no_gatys and not styles:
            self._install_own_style()

    def _install_own_style(self):
        """The Gatys entry. It runs only where the VGG19 loss network is: it stays inactive
        (hidden from users) until an admin provides the weights and switches it on."""
        art_model, created = ArtModel.objects.get_or_create(
            slug=OWN_STYLE.slug,
            defaults={
                "name": OWN_STYLE.name,
                "family": Family.GATYS,
                "description": OWN_STYLE.description,
                "sort_order": len(ML5_STYLES),
            },
        )
        if art_model.current_version is None:
            version = ModelVersion.objects.create(
                art_model=art_model, number=1, config=OWN_STYLE_CONFIG, source="Gatys et al. 2016"
            )
            art_model.current_version = version
        ready = inference.loss_network_ready()
        if created:
            art_model.is_active = bool(ready)
        art_model.save()
        if ready:
            self.stdout.write(self.style.SUCCESS(f"  {OWN_STYLE.slug}: installed (Gatys, VGG19 found)"))
        else:
            self.stdout.write(
                f"  {OWN_STYLE.slug}: installed but inactive: no VGG19 ImageNet weights on this machine. "
                "Set RESTYLE_VGG19_WEIGHTS to vgg19-dcbb9e9d.pth "
                "(https://download.pytorch.org/models/vgg19-dcbb9e9d.pth), then activate it in the admin."
            )

    def _install_styles(self, *, source, online, styles, force):
        wanted = [s for s in ML5_STYLES if not styles or s.slug in styles.split(",")]
        if styles and len(wanted) != len(styles.split(",")):
            known = ", ".join(s.slug for s in ML5_STYLES)
            raise CommandError(f"Unknown style in {styles!r}. Known styles: {known}.")
        source_dir = Path(source) if source else settings.RESTYLE_DEMO_MODELS_DIR
        if source and not Path(source).is_dir():
            raise CommandError(f"{source} is not a folder.")
        if source_dir is None or not Path(source_dir).is_dir():
            online = True
        if online:
            self.stdout.write("Fetching the demo models from the ml5.js repository on GitHub")
        preview_input = self._preview_input()

        for index, style in enumerate(wanted):
            art_model = ArtModel.objects.filter(slug=style.slug).select_related("current_version").first()
            current = art_model and art_model.current_version
            if current and not force:
                if _checkpoint_stored(current):
                    self.stdout.write(f"  {style.slug}: already installed")
                    continue
                # A media folder (or bucket) emptied under a kept database: conversions with
                # this model would fail, so it gets its file again, as a new version.
                self.stdout.write(f"  {style.slug}: {current}'s checkpoint file is missing from the storage; "
                                  "installing it again")
            with tempfile.TemporaryDirectory() as tmp:
                folder = Path(tmp if online else source_dir) / style.slug
                if online:
                    try:
                        catalogue.fetch_ml5_style(style.slug, tmp)
                    except catalogue.CheckpointImportError as exc:
                        raise CommandError(
                            f"Could not download {style.slug} ({exc}). Without internet access, "
                            "point RESTYLE_DEMO_MODELS_DIR at a folder of ml5.js checkpoints."
                        ) from exc
                elif not folder.is_dir():
                    self.stderr.write(f"  {style.slug}: not found in {source_dir}, skipped")
                    continue
                checkpoint = Path(tmp) / f"{style.slug}.safetensors"
                catalogue.import_ml5(
                    folder,
                    checkpoint,
                    name=style.name,
                    meta={"description": style.description, "attribution": ATTRIBUTION},
                )
                with transaction.atomic():
                    art_model, _ = ArtModel.objects.update_or_create(
                        slug=style.slug,
                        defaults={
                            "name": style.name,
                            "family": Family.FAST_STYLE,
                            "description": style.description,
                            "sort_order": index,
                        },
                    )
                    version = services.add_model_version(
                        art_model=art_model, checkpoint_path=checkpoint, source="ml5.js demo models"
                    )
                if preview_input is not None:
                    services.render_model_preview(version=version, image=preview_input)
            self.stdout.write(self.style.SUCCESS(f"  {style.slug}: installed as {version}"))

    def _preview_input(self):
        path = settings.RESTYLE_DATA_DIR and Path(settings.RESTYLE_DATA_DIR) / PREVIEW_IMAGE
        if not path or not path.exists():
            self.stderr.write("  no preview image found; models will show without previews")
            return None
        image = catalogue.open_image(path)
        image.thumbnail((320, 320))
        return image


def _checkpoint_stored(version):
    return bool(version.checkpoint) and version.checkpoint.storage.exists(version.checkpoint.name)
