"""The catalogue of models users can choose, their photos, and the conversion jobs."""
import logging
import uuid

from django.conf import settings
from django.db import models, transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone

from . import output_sizes


def _checkpoint_path(version, filename):
    return f"models/{version.art_model.slug}/v{version.number}-{uuid.uuid4().hex[:8]}.safetensors"


def _preview_path(art_model, filename):
    return f"models/{art_model.slug}/preview-{uuid.uuid4().hex[:8]}.jpg"


def _version_preview_path(version, filename):
    return f"models/{version.art_model.slug}/v{version.number}-preview-{uuid.uuid4().hex[:8]}.jpg"


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
    STYLEGAN2 = "stylegan2", "Art from seeds, and your photo inside it (StyleGAN2, Karras et al.)"


# Families that make images from seeds and latents (the Generate page); a photo meets them only
# through projection ("put my photo into this model"), a slow conversion.
GENERATOR_FAMILIES = {Family.STYLEGAN2}
# Families that paint with a style image the user uploads next to the photo.
STYLE_IMAGE_FAMILIES = {Family.GATYS}
# Families that run a slow optimisation per image, on a queue of their own.
SLOW_FAMILIES = {Family.GATYS, Family.STYLEGAN2}
# Families whose conversions start from random numbers (Gatys' noise start, a StyleGAN2
# projection's noise): each conversion records its seed, so "Run again" makes the same pixels.
SEEDED_FAMILIES = {Family.GATYS, Family.STYLEGAN2}


class DeviceClass(models.TextChoices):
    """What a job needs of its worker (config/queues.py names the queues after it)."""

    CPU = "cpu", "CPU is enough (any worker)"
    GPU = "gpu", "Needs a GPU"


class DeliveredJob(models.Model):
    """What the delivery guarantees need on a job's row (README: "No job lost or done twice").

    The row, not the broker message, is the job: a message only wakes a worker up. A worker
    claims the row (one more attempt, a new claim token, a lease), keeps the lease fresh while it
    works, and every write it makes names its claim token, so a worker that lost its lease can
    change nothing. The
    sweeper (translator.sweeper) hands expired leases back to the queue and sends a new message
    for a queued row whose message may be lost.
    """

    queue = models.CharField(max_length=64, default="conversions.cpu", help_text="The Celery queue its messages go to.")
    attempts = models.PositiveSmallIntegerField(default=0, help_text="How many times a worker has taken it since it was started.")
    claim_token = models.CharField(
        max_length=32, blank=True, help_text="Names the worker's claim; writes that name an older claim change nothing."
    )
    queued_at = models.DateTimeField(default=timezone.now, help_text="When it last started waiting for a worker.")
    dispatched_at = models.DateTimeField(null=True, blank=True, help_text="When its last message was sent.")
    dispatches = models.PositiveSmallIntegerField(default=0, help_text="Messages sent while it waits.")
    lease_expires_at = models.DateTimeField(
        null=True, blank=True, help_text="Its worker must be heard of again before this, or it is taken back."
    )

    class Meta:
        abstract = True


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
        if self.is_generator:
            return "Put my photo into this model"
        return "Any photo"

    @property
    def needs_style_image(self):
        return self.family in STYLE_IMAGE_FAMILIES

    @property
    def is_generator(self):
        """Makes images from seeds; a photo meets it by projection into its latent space."""
        return self.family in GENERATOR_FAMILIES

    @property
    def resolution(self):
        """The side in pixels of what its current version makes (generator families; else None)."""
        return self.current_version.resolution if self.current_version else None

    @property
    def trained_on(self):
        """What its current version was trained on, in words ("" when unknown)."""
        return self.current_version.trained_on if self.current_version else ""


class ModelVersion(models.Model):
    """One trained or imported network (an mlcore checkpoint) of a catalogue entry."""

    art_model = models.ForeignKey(ArtModel, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    checkpoint = models.FileField(
        upload_to=_checkpoint_path, blank=True, help_text="The mlcore checkpoint (not for Gatys)."
    )
    # Workers keep checkpoints fetched from the storage in a local cache named by this hash, and
    # check what they fetched against it. Blank for rows stored before it: the first worker to
    # fetch one records it.
    checkpoint_sha256 = models.CharField(max_length=64, blank=True, editable=False)
    # For StyleGAN2 it holds what its checkpoint says (resolution, trained_on) and, optionally,
    # projection_space / projection_steps (translator.worker.projection).
    config = models.JSONField(
        default=dict, blank=True, help_text="Settings of families without a checkpoint (Gatys)."
    )
    source = models.CharField(max_length=200, blank=True, help_text="Where the weights came from.")
    preview = models.ImageField(
        upload_to=_version_preview_path, blank=True, help_text="Its outputs on the probe images."
    )
    labels = models.JSONField(default=list, blank=True, help_text="Caveats, e.g. a test-only loss network.")
    device_class = models.CharField(
        max_length=8, choices=DeviceClass.choices, blank=True,
        help_text="Which workers may convert with it. Empty: its family's default "
        "(RESTYLE_FAMILY_DEVICE_CLASSES; CPU when the family is not named there).",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["art_model", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["art_model", "number"], name="unique_version_number")
        ]

    def __str__(self):
        return f"{self.art_model} v{self.number}"

    # A generator's catalogue facts, read from its checkpoint's header when the version was added
    # (translator.worker.catalogue.catalogue_facts) and kept in `config`.
    @property
    def resolution(self):
        return (self.config or {}).get("resolution")

    @property
    def trained_on(self):
        return (self.config or {}).get("trained_on", "")


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


class Conversion(DeliveredJob):
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
    latent = models.FileField(
        upload_to=_result_path, blank=True,
        help_text="StyleGAN2 projection: the photo's latent in the model (.npz), for mixing it with other styles.",
    )
    label = models.CharField(
        max_length=200, blank=True, help_text="A caveat shown with the result, e.g. a test-only loss network."
    )
    # translator.output_sizes: rows made before the choice existed are null (the photo's own
    # size, as they were converted), so their results keep their meaning.
    output_long_side = models.PositiveIntegerField(
        null=True, blank=True, default=output_sizes.DEFAULT,
        help_text="The long side in pixels the result may have (never more than the photo's); empty: the photo's "
        "own size. StyleGAN2 projections ignore it: they are the model's resolution.",
    )
    result_width = models.PositiveIntegerField(null=True, blank=True, help_text="The result's size, once stored.")
    result_height = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Seconds spent loading the network and running it, recorded by the worker.
    load_seconds = models.FloatField(null=True, blank=True)
    run_seconds = models.FloatField(null=True, blank=True)
    worker = models.CharField(max_length=200, blank=True, help_text="The Celery worker that took it last.")
    worker_device = models.CharField(
        max_length=100, blank=True, help_text="What that worker ran it on, e.g. cpu or cuda:0 (its GPU's name)."
    )
    favourite = models.BooleanField(default=False, help_text="Starred by its owner (the gallery's favourites filter).")
    # --- reproduce (translator.reproduce): what "Run again" needs to make the same pixels ---
    seed = models.PositiveBigIntegerField(
        null=True, blank=True,
        help_text="The seed of its random start (Gatys' noise, a StyleGAN2 projection's noise); empty for "
        "families that use no randomness.",
    )
    checkpoint_sha256 = models.CharField(
        max_length=64, blank=True,
        help_text="The SHA-256 of the model version's checkpoint it ran with (recorded by the worker); for a run "
        "again, the one its worker must find.",
    )
    run_settings = models.JSONField(
        default=dict, blank=True, help_text="The settings it ran with, recorded by the worker (translator.reproduce)."
    )
    reproduces = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reproductions",
        help_text="The conversion this one runs again (same photo, version, settings and seed).",
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["owner", "-created_at"]),
            # "Favourites only" is one owner's starred rows.
            models.Index(fields=["owner", "favourite"], name="conversion_owner_favourite"),
            # The sweeper's two questions: whose lease ran out, which waiting job needs a message.
            models.Index(fields=["status", "lease_expires_at"]),
            models.Index(fields=["status", "dispatched_at"]),
        ]

    def __str__(self):
        return f"{self.photo} with {self.art_model}"

    def get_absolute_url(self):
        return reverse("translator:detail", args=[self.id])

    @property
    def is_finished(self):
        return self.status in self.FINISHED

    @property
    def output_size(self):
        """The output-size choice as the form and the API name it: "1024", or "original"."""
        return output_sizes.token(self.output_long_side)

    @property
    def output_size_words(self):
        return output_sizes.describe(self.output_long_side)

    @property
    def queue_seconds(self):
        if self.started_at:
            return (self.started_at - self.created_at).total_seconds()
        return None


# --- albums (organising a gallery) ----------------------------------------------------------


class Album(models.Model):
    """A named set of one user's conversions; deleting it leaves the conversions alone."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="albums")
    name = models.CharField(max_length=100)
    items = models.ManyToManyField(Conversion, through="AlbumItem", related_name="albums", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="unique_album_name_per_owner")]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("translator:album", args=[self.id])


class AlbumItem(models.Model):
    """One conversion in one album, and when it was put there (an album page lists by it)."""

    album = models.ForeignKey(Album, on_delete=models.CASCADE, related_name="album_items")
    conversion = models.ForeignKey(Conversion, on_delete=models.CASCADE, related_name="album_items")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-added_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["album", "conversion"], name="unique_album_item")]


# --- training -------------------------------------------------------------------------------


class TrainableFamily(models.TextChoices):
    """Families mlcore can train (the value is mlcore's registry name)."""

    FAST_STYLE = Family.FAST_STYLE.value, Family.FAST_STYLE.label
    PIX2PIX = Family.PIX2PIX.value, Family.PIX2PIX.label
    UGATIT = Family.UGATIT.value, Family.UGATIT.label
    STYLEGAN2 = Family.STYLEGAN2.value, Family.STYLEGAN2.label


def _archive_path(dataset, filename):
    return f"datasets/uploads/{uuid.uuid4().hex}.zip"


class Dataset(DeliveredJob):
    """Training data for one family: an uploaded zip (kept in the storage, unpacked on each worker
    that needs it) or a folder on the server inside an allowed root (used where it is)."""

    class Status(models.TextChoices):
        CHECKING = "checking", "Checking"
        READY = "ready", "Ready"
        INVALID = "invalid", "Has problems"

    name = models.CharField(max_length=100)
    queue = models.CharField(max_length=64, default="slow.cpu", help_text="The Celery queue its checks go to.")
    family = models.CharField(max_length=32, choices=TrainableFamily.choices)
    archive = models.FileField(
        upload_to=_archive_path, blank=True, help_text="A .zip of the dataset (kept; each worker unpacks it)."
    )
    server_path = models.CharField(
        max_length=500, blank=True, help_text="Or a folder on the server, inside RESTYLE_DATASET_ROOTS."
    )
    folder = models.CharField(max_length=500, blank=True, help_text="Where the data is, once checked (for an archive: on the worker that checked it).")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CHECKING)
    counts = models.JSONField(default=dict, blank=True)
    samples = models.JSONField(default=list, blank=True, help_text="Sample image paths, relative to the folder.")
    problems = models.JSONField(default=list, blank=True)
    notes = models.JSONField(
        default=list, blank=True,
        help_text="Findings worth a look that do not stop training (sizes, aspect ratio and crop, duplicates).",
    )
    file_count = models.PositiveIntegerField(default=0)
    size_bytes = models.PositiveBigIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.name


class TrainingRun(DeliveredJob):
    """One training of a family on a dataset, run by mlcore.engine on the training queue."""

    class Status(models.TextChoices):
        CREATED = "created", "Created"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLING = "cancelling", "Cancelling"
        CANCELLED = "cancelled", "Cancelled"

    ACTIVE = (Status.QUEUED, Status.RUNNING, Status.CANCELLING)

    name = models.CharField(max_length=100)
    queue = models.CharField(max_length=64, default="training.cpu", help_text="The Celery queue its messages go to.")
    family = models.CharField(max_length=32, choices=TrainableFamily.choices)
    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="runs")
    art_model = models.ForeignKey(
        ArtModel, null=True, blank=True, on_delete=models.SET_NULL, related_name="training_runs",
        help_text="The catalogue entry the trained network becomes a version of (made from the run's name if empty).",
    )
    config = models.JSONField(help_text="The family's training config (mlcore), as JSON.")
    device_class = models.CharField(
        max_length=8, choices=DeviceClass.choices, default=DeviceClass.CPU,
        help_text="Which workers may train it; the worker trains on its own device (RESTYLE_WORKER_DEVICE).",
    )
    processes = models.PositiveSmallIntegerField(
        default=1, help_text="Training processes (GPUs of one worker); more than 1 runs under torchrun (DDP).",
    )
    precision = models.CharField(max_length=8, default="fp32")
    seed = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CREATED)
    step = models.PositiveIntegerField(default=0)
    total_steps = models.PositiveIntegerField(default=0)
    images_per_second = models.FloatField(null=True, blank=True)
    eta_seconds = models.FloatField(null=True, blank=True)
    metrics = models.JSONField(default=dict, blank=True, help_text="The latest logged losses.")
    labels = models.JSONField(default=list, blank=True, help_text="Caveats of everything the run makes.")
    error = models.TextField(blank=True)
    worker = models.CharField(max_length=200, blank=True, help_text="The Celery worker that took it last.")
    worker_device = models.CharField(
        max_length=100, blank=True, help_text="What that worker trains on, e.g. cpu or cuda:0 (its GPU's name)."
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True, help_text="Last sign of life of its worker.")
    model_version = models.OneToOneField(
        ModelVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="training_run"
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.name

    @property
    def run_dir(self):
        """The mlcore run folder: run.json, metrics.jsonl, samples, checkpoints, the model."""
        from pathlib import Path

        return Path(settings.RESTYLE_RUNS_ROOT) / f"run-{self.pk}"


# --- generated images (StyleGAN2 seeds and style mixes) -----------------------------------------


def _generation_path(generation, filename):
    return f"generations/{generation.owner_id}/{generation.id.hex}-{filename}"


class Generation(DeliveredJob):
    """One image a generator model made from a seed, or from two sources' styles mixed.

    A grid (the Generate page) is a batch of these rows, one per seed, unsaved: the sweeper
    removes unsaved rows after RESTYLE_UNSAVED_GENERATIONS_HOURS; "Save to gallery" keeps one.
    Everything needed to make the same pixels again is recorded (model version, seed,
    truncation, noise mode; for a mix its sources and layers), and the image itself is the
    stored PNG, so opening a saved one always shows the same pixels.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        # Cancel asked while a worker makes it: the worker stores nothing and marks it cancelled.
        CANCELLING = "cancelling", "Cancelling"
        SUCCEEDED = "succeeded", "Done"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)

    class Kind(models.TextChoices):
        SEED = "seed", "From a seed"
        MIX = "mix", "Style mix"

    class NoiseMode(models.TextChoices):
        CONST = "const", "Fixed noise (the same pixels every time)"
        RANDOM = "random", "Random noise (fine details differ each time)"
        NONE = "none", "No noise (smoother details)"

    class Layers(models.TextChoices):
        # StyleGAN2's style ranges by the resolution they act at (mlcore.stylegan2.generate.layer_ranges).
        COARSE = "coarse", "Coarse (4–8 px: pose, shape, layout)"
        MIDDLE = "middle", "Middle (16–32 px: features, structure)"
        FINE = "fine", "Fine (64 px and up: colours, texture)"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="generations")
    art_model = models.ForeignKey(ArtModel, on_delete=models.PROTECT, related_name="generations")
    model_version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="+")
    batch = models.UUIDField(default=uuid.uuid4, db_index=True, help_text="The request that made it (one grid).")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.SEED)
    seed = models.PositiveBigIntegerField(null=True, blank=True, help_text="Its seed (kind seed); as NVlabs generate.py's.")
    truncation = models.FloatField(default=0.7, help_text="Truncation psi, 0 to 1 (for a mix: of its seed sources).")
    noise_mode = models.CharField(max_length=8, choices=NoiseMode.choices, default=NoiseMode.CONST)
    # A mix: source A's styles with the `layers` range taken from source B. Each source is a seed,
    # a generation or a projected photo (a Conversion with a latent); the row keeps its own latent,
    # so a source deleted later leaves the mix whole (the link is then empty; `mix_description` stays).
    source_a_seed = models.PositiveBigIntegerField(null=True, blank=True)
    source_a_generation = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    source_a_conversion = models.ForeignKey(Conversion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    source_b_seed = models.PositiveBigIntegerField(null=True, blank=True)
    source_b_generation = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    source_b_conversion = models.ForeignKey(Conversion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    layers = models.CharField(max_length=8, choices=Layers.choices, blank=True)
    mix_description = models.CharField(max_length=300, blank=True, help_text="What was mixed, in words.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    error = models.TextField(blank=True, help_text="Why it failed, in words a user can read.")
    image = models.FileField(upload_to=_generation_path, blank=True)
    thumbnail = models.FileField(upload_to=_generation_path, blank=True)
    latent = models.FileField(upload_to=_generation_path, blank=True, help_text="Its ws (.npz), for mixing.")
    side = models.PositiveIntegerField(null=True, blank=True, help_text="The image's width and height in pixels.")
    saved = models.BooleanField(default=False, help_text="Kept in the gallery; unsaved rows are swept after a while.")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    load_seconds = models.FloatField(null=True, blank=True)
    run_seconds = models.FloatField(null=True, blank=True)
    worker = models.CharField(max_length=200, blank=True, help_text="The Celery worker that took it last.")
    worker_device = models.CharField(max_length=100, blank=True, help_text="What that worker ran it on.")

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["owner", "saved", "-created_at"]),
            models.Index(fields=["status", "lease_expires_at"]),
            models.Index(fields=["status", "dispatched_at"]),
            models.Index(fields=["saved", "created_at"]),
        ]

    def __str__(self):
        return f"{self.art_model} {self.describe()}"

    def get_absolute_url(self):
        return reverse("translator:generation", args=[self.id])

    def describe(self):
        """What made it, in a few words."""
        if self.kind == self.Kind.MIX:
            return self.mix_description or "style mix"
        return f"seed {self.seed}"

    @property
    def is_finished(self):
        return self.status in self.FINISHED


# --- exports of a version's network (ONNX, TorchScript) -----------------------------------------


# Families whose versions export (mlcore.export): one network pass from photo to picture. Not
# Gatys (no network: an optimisation per photo) nor StyleGAN2 (a generator, not a translator).
# Kept here, torch-free, for the admin's page; tests/translator/test_exports.py holds it to
# mlcore's registry.
EXPORT_FAMILIES = (Family.FAST_STYLE, Family.PIX2PIX, Family.UGATIT)


def _export_path(export, filename):
    return f"versions/{export.version_id}/exports/{filename}"


class ModelExport(DeliveredJob):
    """A version's translate path written as ONNX or TorchScript by a worker, for other runtimes.

    Delivered as a conversion is (DeliveredJob): claimed once with a lease, every write fenced by
    the claim token. The file takes one input size only (height x width), the one asked for:
    sizes the family computes in Python are baked into the graph. The worker checks the file
    against eager PyTorch before it is kept (mae, max_abs, in 0..1 units)."""

    class Format(models.TextChoices):
        ONNX = "onnx", "ONNX"
        TORCHSCRIPT = "torchscript", "TorchScript"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Done"
        FAILED = "failed", "Failed"

    ACTIVE = (Status.QUEUED, Status.RUNNING)
    EXTENSIONS = {Format.ONNX: "onnx", Format.TORCHSCRIPT: "pt"}

    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="exports")
    format = models.CharField(max_length=16, choices=Format.choices)
    height = models.PositiveIntegerField(default=512, help_text="The one input height the file takes.")
    width = models.PositiveIntegerField(default=512, help_text="The one input width the file takes.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    file = models.FileField(upload_to=_export_path, blank=True, max_length=300)
    size_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    mae = models.FloatField(null=True, blank=True, help_text="Mean absolute difference from eager PyTorch on the probe (0..1).")
    max_abs = models.FloatField(null=True, blank=True, help_text="The largest difference there (0..1).")
    seconds = models.FloatField(null=True, blank=True, help_text="Export and parity check together.")
    error = models.TextField(blank=True, help_text="Why it failed, in words.")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=200, blank=True, help_text="The Celery worker that took it last.")

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "lease_expires_at"]),
            models.Index(fields=["status", "dispatched_at"]),
        ]
        constraints = [
            # One identical export waiting or running at a time, even for two requests at once.
            models.UniqueConstraint(
                fields=["version", "format", "height", "width"], condition=models.Q(status__in=["queued", "running"]),
                name="one_active_export_per_shape",
            ),
        ]

    def __str__(self):
        return f"{self.version} {self.get_format_display()} {self.width}x{self.height}"

    @property
    def is_finished(self):
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)

    def file_name(self):
        """What the stored file (and its download) is called: <slug>-v<n>-<w>x<h>.<ext>."""
        version = self.version
        return f"{version.art_model.slug}-v{version.number}-{self.width}x{self.height}.{self.EXTENSIONS[self.format]}"


@receiver(post_delete, sender=ModelExport)
def _remove_export_file(sender, instance, **kwargs):
    """Deleting an export, or its version (CASCADE), removes its file once the rows are surely gone."""
    if not instance.file:
        return
    storage, name = instance.file.storage, instance.file.name

    def remove():
        try:
            storage.delete(name)
        except OSError:
            logging.getLogger(__name__).warning("could not delete %s", name, exc_info=True)

    transaction.on_commit(remove)


# --- share links (unlisted pages of one result or one album, viewable logged out) -----------------


class ShareLink(models.Model):
    """An unlisted link to one conversion's result or to one album: /s/<token>/.

    The token is the whole secret (secrets.token_urlsafe(24): 192 random bits, nothing to guess
    or enumerate). It is stored as it is, not hashed, because the owner must be able to copy the
    link again from their Shares page; a reader of the database could open the shared pictures,
    but such a reader has the media storage's names in the same rows anyway. Revoking or
    expiring keeps the row (the Shares page lists it as such); deleting the conversion or the
    album deletes its links (CASCADE), so no link outlives what it shows.
    """

    token = models.CharField(max_length=64, unique=True, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="share_links")
    conversion = models.ForeignKey(
        Conversion, null=True, blank=True, on_delete=models.CASCADE, related_name="share_links"
    )
    album = models.ForeignKey(Album, null=True, blank=True, on_delete=models.CASCADE, related_name="share_links")
    include_original = models.BooleanField(
        default=False, help_text="An item's link also shows the photo it was made from (its metadata stripped)."
    )
    show_owner = models.BooleanField(default=False, help_text="The shared page names the owner.")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: never expires.")
    revoked_at = models.DateTimeField(null=True, blank=True)
    views = models.PositiveIntegerField(default=0, help_text="How many times the shared page was opened.")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(conversion__isnull=False, album__isnull=True)
                    | models.Q(conversion__isnull=True, album__isnull=False)
                ),
                name="share_link_one_target",
            )
        ]
        indexes = [models.Index(fields=["owner", "-created_at"])]

    def __str__(self):
        return f"share of {self.album or self.conversion}"

    def get_absolute_url(self):
        return reverse("translator:shared", args=[self.token])

    @property
    def is_album(self):
        return self.album_id is not None

    def is_live(self, *, now=None):
        """Whether the link opens: not revoked and not past its expiry."""
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

    @property
    def state(self):
        """active, expired or revoked, for the Shares page and the API."""
        if self.revoked_at is not None:
            return "revoked"
        return "active" if self.is_live() else "expired"


# --- webhooks -------------------------------------------------------------------------------


class Webhook(models.Model):
    """Where an account's conversion events go: one URL per account, and the secret that signs them."""

    owner = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhook")
    url = models.URLField(max_length=2000, help_text="Checked when saved and before every send (translator.webhooks.addresses).")
    secret = models.CharField(max_length=100, help_text="Signs every delivery (HMAC-SHA256); shown to the owner.")
    site_url = models.CharField(
        max_length=300, blank=True,
        help_text="The site's address as the owner reached it when saving; links in payloads start with it "
        "unless RESTYLE_PUBLIC_URL is set.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    secret_rotated_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.owner}: {self.url}"


class WebhookDelivery(DeliveredJob):
    """One event for one webhook: the row is the job (like a conversion's), so a lost message or a
    killed worker loses nothing. A worker claims it (conditional UPDATE, a lease) before it sends;
    the sweeper sends a message for every pending row whose next attempt is due."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Delivered"
        FAILED = "failed", "Failed"

    class Event(models.TextChoices):
        SUCCEEDED = "conversion.succeeded", "Conversion done"
        FAILED = "conversion.failed", "Conversion failed"
        CANCELLED = "conversion.cancelled", "Conversion cancelled"
        GENERATION_SUCCEEDED = "generation.succeeded", "Generated image done"
        GENERATION_FAILED = "generation.failed", "Generated image failed"
        GENERATION_CANCELLED = "generation.cancelled", "Generated image cancelled"
        TEST = "webhook.test", "Test event"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    conversion = models.ForeignKey(
        "Conversion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The conversion it tells of (kept in the log after the conversion is deleted).",
    )
    generation = models.ForeignKey(
        "Generation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The generated image it tells of (kept in the log after the image is deleted).",
    )
    redelivery_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="redeliveries",
    )
    event = models.CharField(max_length=40, choices=Event.choices)
    payload = models.TextField(help_text="The JSON body exactly as sent (it is what the signature covers).")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    next_attempt_at = models.DateTimeField(null=True, blank=True, help_text="When it is next due; empty once finished.")
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    response_snippet = models.CharField(max_length=1000, blank=True, help_text="The start of the receiver's last answer.")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "webhook deliveries"
        indexes = [
            models.Index(fields=["webhook", "-created_at"]),
            # The sweeper's question: which pending deliveries are due.
            models.Index(fields=["status", "next_attempt_at"]),
        ]

    def __str__(self):
        return f"{self.event} to {self.webhook.url}"

    @property
    def is_finished(self):
        return self.status != self.Status.PENDING
