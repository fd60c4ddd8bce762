"""The catalogue of models users can choose, their photos, and the conversion jobs."""
import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse


def _checkpoint_path(version, filename):
    return f"models/{version.art_model.slug}/v{version.number}-{uuid.uuid4().hex[:8]}.safetensors"


def _preview_path(art_model, filename):
    return f"models/{art_model.slug}/preview-{uuid.uuid4().hex[:8]}.jpg"


def _photo_path(photo, filename):
    return f"photos/{photo.owner_id}/{uuid.uuid4().hex}.{photo.format.lower()}"


def _result_path(conversion, filename):
    return f"results/{conversion.owner_id}/{conversion.id.hex}-{filename}"


class Family(models.TextChoices):
    """Model families that mlcore knows; the value is mlcore's registry name."""

    FAST_STYLE = "fast_style", "Fast style transfer (Johnson et al.)"
    GATYS = "gatys", "Style of your own image (Gatys et al.)"
    PIX2PIX = "pix2pix", "Paired translation (Pix2Pix, Isola et al.)"
    UGATIT = "ugatit", "Unpaired translation (U-GAT-IT, Kim et al.)"


# Families that paint with a style image the user uploads next to the photo.
STYLE_IMAGE_FAMILIES = {Family.GATYS}
# Families that run a slow optimisation per image, on a queue of their own.
SLOW_FAMILIES = {Family.GATYS}


class ArtModel(models.Model):
    """An entry of the catalogue: what a user picks on the upload page.

    The network itself lives in a ModelVersion; the catalogue entry points at the version that
    new conversions use, so a model can be retrained and rolled back without users noticing.
    """

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=100)
    family = models.CharField(max_length=32, choices=Family.choices)
    description = models.TextField(blank=True)
    input_hint = models.CharField(
        max_length=200, blank=True, help_text="What input works best, shown on the model card."
    )
    preview = models.ImageField(upload_to=_preview_path, blank=True)
    is_active = models.BooleanField(default=True, help_text="Shown to users and accepts new jobs.")
    current_version = models.ForeignKey(
        "ModelVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sort_order = models.PositiveIntegerField(default=100)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["sort_order", "name"]

    def __str__(self):
        return self.name

    @property
    def expects(self):
        """What input this model wants, in words for the model card and the API."""
        if self.input_hint:
            return self.input_hint
        if self.needs_style_image:
            return "Any photo, plus a style image (a painting) of your own"
        return "Any photo"

    @property
    def needs_style_image(self):
        return self.family in STYLE_IMAGE_FAMILIES


class ModelVersion(models.Model):
    """One trained or imported network (an mlcore checkpoint) of a catalogue entry."""

    art_model = models.ForeignKey(ArtModel, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    checkpoint = models.FileField(
        upload_to=_checkpoint_path, blank=True, help_text="The mlcore checkpoint (not for Gatys)."
    )
    config = models.JSONField(
        default=dict, blank=True, help_text="Settings of families without a checkpoint (Gatys)."
    )
    source = models.CharField(max_length=200, blank=True, help_text="Where the weights came from.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["art_model", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["art_model", "number"], name="unique_version_number")
        ]

    def __str__(self):
        return f"{self.art_model} v{self.number}"


class Photo(models.Model):
    """An image a user uploaded, already validated."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="photos")
    image = models.FileField(upload_to=_photo_path)
    original_name = models.CharField(max_length=255, blank=True)
    format = models.CharField(max_length=8)  # JPEG, PNG or WEBP, sniffed from the bytes
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    size_bytes = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.original_name or f"photo {self.pk}"


class Conversion(models.Model):
    """A job: one photo through one model version. The gallery lists these."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Done"
        FAILED = "failed", "Failed"
        CANCELLING = "cancelling", "Cancelling"
        CANCELLED = "cancelled", "Cancelled"

    FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conversions"
    )
    photo = models.ForeignKey(Photo, on_delete=models.CASCADE, related_name="conversions")
    style_image = models.ForeignKey(
        Photo, null=True, blank=True, on_delete=models.CASCADE, related_name="styled_conversions",
        help_text="The user's style image, for families that paint with one.",
    )
    art_model = models.ForeignKey(ArtModel, on_delete=models.PROTECT, related_name="conversions")
    model_version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    progress = models.FloatField(default=0.0, help_text="0 to 1; 1 once it succeeded.")
    progress_detail = models.CharField(max_length=200, blank=True, help_text="e.g. step 40 of 300")
    error = models.TextField(blank=True, help_text="Why it failed, in words a user can read.")
    result = models.FileField(upload_to=_result_path, blank=True)
    thumbnail = models.FileField(upload_to=_result_path, blank=True)
    intermediate = models.FileField(
        upload_to=_result_path, blank=True, help_text="The latest image of a slow job while it runs."
    )
    label = models.CharField(
        max_length=200, blank=True, help_text="A caveat shown with the result, e.g. a test-only loss network."
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Seconds spent loading the network and running it, recorded by the worker.
    load_seconds = models.FloatField(null=True, blank=True)
    run_seconds = models.FloatField(null=True, blank=True)
    worker = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner", "-created_at"])]

    def __str__(self):
        return f"{self.photo} with {self.art_model}"

    def get_absolute_url(self):
        return reverse("translator:detail", args=[self.id])

    @property
    def is_finished(self):
        return self.status in self.FINISHED

    @property
    def queue_seconds(self):
        if self.started_at:
            return (self.started_at - self.created_at).total_seconds()
        return None
