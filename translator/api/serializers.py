from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.urls import reverse
from rest_framework import serializers

from .. import output_sizes, selectors
from ..models import ArtModel, Conversion, Generation
from ..uploads import ACCEPTED_FORMATS


def _absolute(request, url):
    return request.build_absolute_uri(url) if request is not None else url


class UserSerializer(serializers.ModelSerializer):
    class Meta:
        model = get_user_model()
        fields = ["id", "username", "email"]


class SignupSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    email = serializers.EmailField(required=False, allow_blank=True)
    password = serializers.CharField(write_only=True, min_length=8, style={"input_type": "password"})

    def validate_username(self, value):
        User = get_user_model()
        User.username_validator(value)
        if User.objects.filter(username__iexact=value).exists():
            raise serializers.ValidationError("A user with that username already exists.", code="taken")
        return value

    def validate(self, attrs):
        user = get_user_model()(username=attrs["username"], email=attrs.get("email", ""))
        try:
            password_validation.validate_password(attrs["password"], user)
        except Exception as exc:  # django ValidationError: report it on the password field
            raise serializers.ValidationError({"password": list(exc.messages)}, code="weak_password")
        return attrs


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"})


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send as `Authorization: Token <token>`.")
    user = UserSerializer()


class AcceptsSerializer(serializers.Serializer):
    formats = serializers.ListField(child=serializers.CharField())
    max_upload_bytes = serializers.IntegerField()
    max_pixels = serializers.IntegerField()
    min_side = serializers.IntegerField()


class ArtModelSerializer(serializers.ModelSerializer):
    family_label = serializers.CharField(source="get_family_display", read_only=True)
    version = serializers.IntegerField(source="current_version.number", read_only=True)
    expects = serializers.CharField(read_only=True, help_text="What input works best, in words.")
    preview_url = serializers.SerializerMethodField()
    accepts = serializers.SerializerMethodField()
    kind = serializers.SerializerMethodField(
        help_text="translate: it converts a photo (POST /conversions/); generate: it makes images from seeds "
        "(POST /generations/), and a photo meets it by projection into its latent space."
    )
    resolution = serializers.SerializerMethodField(help_text="A generator's image side in pixels; null for others.")
    trained_on = serializers.SerializerMethodField(
        help_text="What a generator was trained on, as its checkpoint says; null for others or when not recorded."
    )

    class Meta:
        model = ArtModel
        fields = [
            "id", "slug", "name", "family", "family_label", "kind", "description", "expects", "version",
            "resolution", "trained_on", "preview_url", "accepts",
        ]

    def get_kind(self, obj) -> str:
        return "generate" if obj.is_generator else "translate"

    def get_resolution(self, obj) -> int | None:
        return obj.resolution if obj.is_generator else None

    def get_trained_on(self, obj) -> str | None:
        if not obj.is_generator or obj.current_version is None:
            return None
        return obj.current_version.trained_on or None

    def get_preview_url(self, obj) -> str | None:
        if not obj.preview:
            return None
        return _absolute(self.context.get("request"), reverse("translator:model_preview", args=[obj.slug]))

    def get_accepts(self, obj) -> AcceptsSerializer:
        return {
            "formats": ["image/jpeg", "image/png", "image/webp"],
            "max_upload_bytes": settings.RESTYLE_MAX_UPLOAD_BYTES,
            "max_pixels": settings.RESTYLE_MAX_PIXELS,
            "min_side": settings.RESTYLE_MIN_SIDE,
        }


class ModelRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = ArtModel
        fields = ["id", "slug", "name"]


class PhotoSerializer(serializers.Serializer):
    name = serializers.CharField(source="original_name")
    format = serializers.CharField()
    width = serializers.IntegerField()
    height = serializers.IntegerField()


class ConversionSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    model = ModelRefSerializer(source="art_model", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    photo = PhotoSerializer(read_only=True)
    style_image = PhotoSerializer(read_only=True, allow_null=True)
    original_url = serializers.SerializerMethodField()
    style_image_url = serializers.SerializerMethodField()
    intermediate_url = serializers.SerializerMethodField()
    result_url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()
    latent_url = serializers.SerializerMethodField(
        help_text="A StyleGAN2 projection's latent (.npz: the photo inside the model), once succeeded; null otherwise."
    )
    output_size = serializers.CharField(
        read_only=True,
        help_text=f"The output-size choice: {output_sizes.ALLOWED_WORDS} (the result's long side at most, "
        "never more than the photo's; `original`: the photo's own size). StyleGAN2 projections ignore it.",
    )
    model_version = serializers.IntegerField(source="model_version.number", read_only=True,
                                             help_text="The number of the model version it ran with.")
    run_settings = serializers.JSONField(
        read_only=True,
        help_text="What it ran with, recorded by its worker: family, output_long_side, device, dtype, device_class, "
        "memory_mb, family_settings (Gatys' config, a projection's space and steps) and, for Gatys, style_image. "
        "Empty until it has run, and for conversions made before it was recorded.",
    )
    reproduces = serializers.SerializerMethodField(
        help_text="The URL of the conversion this one runs again (POST .../again/); null otherwise."
    )
    queue_position = serializers.SerializerMethodField(
        help_text="While queued, its place on its queue (1: next, waiting for a worker), counting every job "
        "still queued there that started waiting before it; null when not queued."
    )

    class Meta:
        model = Conversion
        fields = [
            "id", "url", "model", "model_version", "status", "status_label", "progress", "progress_detail", "error",
            "label", "photo", "original_url", "style_image", "style_image_url", "intermediate_url",
            "result_url", "thumbnail_url", "latent_url", "output_size", "result_width", "result_height",
            "created_at", "started_at", "finished_at", "load_seconds", "run_seconds",
            "worker", "worker_device", "favourite", "seed", "checkpoint_sha256", "run_settings", "reproduces",
            "queue_position",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "result_width": {"help_text": "The result's width in pixels, once succeeded (null before, and for "
                             "results stored before sizes were recorded)."},
            "result_height": {"help_text": "The result's height in pixels, once succeeded."},
            "load_seconds": {"help_text": "Seconds the worker spent loading the network (0 when it had it loaded)."},
            "run_seconds": {"help_text": "Seconds the worker spent converting: scaling the photo and running the network."},
            "worker": {"help_text": "The Celery worker that took the job last (empty until one has)."},
            "worker_device": {"help_text": "What that worker ran it on: cpu, or cuda:N with the GPU's name."},
            "favourite": {"help_text": "Starred by you (PATCH it to change; list with ?favourite=true)."},
            "seed": {"help_text": "The seed of its random start (Gatys, StyleGAN2 projections); null for families "
                     "that use no randomness."},
            "checkpoint_sha256": {"help_text": "SHA-256 of the model version's network file it ran with (empty for "
                                  "Gatys, and until it has run)."},
        }

    def get_queue_position(self, obj) -> int | None:
        return selectors.queue_position(conversion=obj)

    def get_reproduces(self, obj) -> str | None:
        if obj.reproduces_id is None:
            return None
        return _absolute(self.context.get("request"), reverse("api:conversion-detail", args=[obj.reproduces_id]))

    def _file_url(self, obj, kind):
        return _absolute(self.context.get("request"), reverse(f"api:conversion-{kind}", args=[obj.id]))

    def get_url(self, obj) -> str:
        return _absolute(self.context.get("request"), reverse("api:conversion-detail", args=[obj.id]))

    def get_original_url(self, obj) -> str:
        return self._file_url(obj, "original")

    def get_style_image_url(self, obj) -> str | None:
        return self._file_url(obj, "style") if obj.style_image_id else None

    def get_intermediate_url(self, obj) -> str | None:
        return self._file_url(obj, "intermediate") if obj.intermediate else None

    def get_result_url(self, obj) -> str | None:
        return self._file_url(obj, "result") if obj.result else None

    def get_thumbnail_url(self, obj) -> str | None:
        return self._file_url(obj, "thumbnail") if obj.thumbnail else None

    def get_latent_url(self, obj) -> str | None:
        return self._file_url(obj, "latent") if obj.latent else None


class ConversionCreateSerializer(serializers.Serializer):
    image = serializers.FileField(
        help_text=f"The photo: {', '.join(ACCEPTED_FORMATS.values())}.",
        error_messages={
            "required": "Choose a photo to upload.",
            "empty": "The file is empty. Choose a photo to upload.",
            # A part without a file name (or one that cleans to nothing) arrives as text.
            "invalid": "Send the photo as a file (multipart/form-data, with a file name).",
        },
    )
    style_image = serializers.FileField(
        required=False,
        help_text="Your style image, for models whose `expects` asks for one (Gatys).",
        error_messages={
            "empty": "The style image file is empty.",
            "invalid": "Send the style image as a file (multipart/form-data, with a file name).",
        },
    )
    model = serializers.PrimaryKeyRelatedField(
        queryset=selectors.available_models(),
        help_text="The id of a model from /api/v1/models/.",
        error_messages={
            "required": "Choose a model.",
            "does_not_exist": "That model is not available. Choose another one.",
            "incorrect_type": "The model is given by its numeric id.",
        },
    )
    output_size = serializers.ChoiceField(
        choices=output_sizes.TOKENS,
        required=False,
        default=str(output_sizes.DEFAULT),
        help_text=f"How large the result is: {output_sizes.ALLOWED_WORDS}. A number is the result's long side "
        "in pixels (a smaller photo keeps its own size); `original` keeps the photo's size (slow for large "
        f"photos). Default {output_sizes.DEFAULT}, as on the upload page. StyleGAN2 projections ignore it.",
        error_messages={"invalid_choice": output_sizes.refusal("{input}")},
    )


class RestyleRequestSerializer(serializers.Serializer):
    """Try another style: convert a conversion's stored photo with another model."""

    art_model = serializers.PrimaryKeyRelatedField(
        queryset=selectors.available_models(),
        help_text="The id of a model from /api/v1/models/. One that paints with a style image (Gatys) reuses the "
        "conversion's own, and is refused when it has none.",
        error_messages={
            "required": "Choose a model.",
            "does_not_exist": "That model is not available. Choose another one.",
            "incorrect_type": "The model is given by its numeric id.",
        },
    )
    output_size = serializers.ChoiceField(
        choices=output_sizes.TOKENS, required=False,
        help_text=f"{output_sizes.ALLOWED_WORDS}; default: the conversion's own choice.",
        error_messages={"invalid_choice": output_sizes.refusal("{input}")},
    )


# --- generated images -------------------------------------------------------------------------


class GenerationSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    model = ModelRefSerializer(source="art_model", read_only=True)
    model_version = serializers.IntegerField(source="model_version.number", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    description = serializers.CharField(source="describe", read_only=True, help_text="What made it, in words.")
    image_url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()
    latent_url = serializers.SerializerMethodField()

    class Meta:
        model = Generation
        fields = [
            "id", "url", "model", "model_version", "batch", "kind", "seed", "truncation", "noise_mode", "layers",
            "description", "status", "status_label", "error", "saved", "side", "image_url", "thumbnail_url",
            "latent_url", "created_at", "started_at", "finished_at", "run_seconds", "worker", "worker_device",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "batch": {"help_text": "The request that made it: the images of one grid share it."},
            "side": {"help_text": "Width and height of the image in pixels (once made)."},
        }

    def _file_url(self, obj, kind):
        return _absolute(self.context.get("request"), reverse(f"api:generation-{kind}", args=[obj.id]))

    def get_url(self, obj) -> str:
        return _absolute(self.context.get("request"), reverse("api:generation-detail", args=[obj.id]))

    def get_image_url(self, obj) -> str | None:
        return self._file_url(obj, "image") if obj.image else None

    def get_thumbnail_url(self, obj) -> str | None:
        return self._file_url(obj, "thumbnail") if obj.thumbnail else None

    def get_latent_url(self, obj) -> str | None:
        return self._file_url(obj, "latent") if obj.latent else None


class GenerateRequestSerializer(serializers.Serializer):
    """Only the shapes are checked here; what the values may be is services.create_grid's to say
    (the page shares it)."""

    model = serializers.PrimaryKeyRelatedField(
        queryset=selectors.available_models(),
        help_text="The id of a StyleGAN2 model from /api/v1/models/.",
        error_messages={
            "required": "Choose a model.",
            "does_not_exist": "That model is not available. Choose another one.",
            "incorrect_type": "The model is given by its numeric id.",
        },
    )
    seeds = serializers.JSONField(
        required=False, help_text='A list of seeds ([0, 5, 9]) or text like "0-7" or "1,5,9"; at most 16.'
    )
    surprise = serializers.BooleanField(required=False, default=False, help_text="Random seeds instead (recorded).")
    count = serializers.IntegerField(required=False, default=8, help_text="How many surprise images (1 to 16).",
                                     error_messages={"invalid": "count is a whole number."})
    truncation = serializers.JSONField(required=False, default=0.7, help_text="Truncation psi, 0 to 1.")
    noise_mode = serializers.CharField(required=False, default="const", help_text="const, random or none.")


class GridSerializer(serializers.Serializer):
    batch = serializers.UUIDField()
    seeds = serializers.ListField(child=serializers.IntegerField())
    generations = GenerationSerializer(many=True)


class MixSourceSerializer(serializers.Serializer):
    seed = serializers.IntegerField(required=False, min_value=0, max_value=2**32 - 1)
    generation = serializers.UUIDField(required=False, help_text="One of your generated images.")
    conversion = serializers.UUIDField(required=False, help_text="One of your photos projected into the model.")

    def validate(self, attrs):
        if len(attrs) != 1:
            raise serializers.ValidationError(
                "Give exactly one of seed, generation or conversion.", code="one_source"
            )
        return attrs


class MixRequestSerializer(serializers.Serializer):
    model = serializers.PrimaryKeyRelatedField(
        queryset=selectors.available_models(), required=False,
        help_text="The model's id; needed only when both sources are seeds.",
        error_messages={"does_not_exist": "That model is not available. Choose another one.",
                        "incorrect_type": "The model is given by its numeric id."},
    )
    source_a = MixSourceSerializer(help_text="The image whose styles are kept.")
    source_b = MixSourceSerializer(help_text="The image the `layers` styles are taken from.")
    layers = serializers.CharField(help_text="coarse, middle or fine.")
    truncation = serializers.JSONField(required=False, help_text="For seed sources; default: source A's, else 0.7.")
    noise_mode = serializers.CharField(required=False, help_text="Default: source A's, else const.")


class ConversionUpdateSerializer(serializers.Serializer):
    """What a PATCH of a conversion may change: its favourite star."""

    favourite = serializers.BooleanField(help_text="true to star it, false to unstar it.")


class _RepeatedField(serializers.ListField):
    """A list sent as a repeated multipart part, named `images` or, as many clients write it, `images[]`."""

    def get_value(self, dictionary):
        value = super().get_value(dictionary)
        if value is serializers.empty and hasattr(dictionary, "getlist"):
            return dictionary.getlist(f"{self.field_name}[]") or serializers.empty
        return value


class BatchCreateSerializer(serializers.Serializer):
    """Several photos, each with every one of several models: a conversion per (photo, model)."""

    images = _RepeatedField(
        child=serializers.FileField(error_messages={
            "empty": "A photo file is empty. Choose photos to upload.",
            "invalid": "Send each photo as a file (multipart/form-data, with a file name).",
        }),
        allow_empty=False,
        help_text=f"The photos ({', '.join(ACCEPTED_FORMATS.values())}): repeat the `images` part once per photo; "
        f"at most {settings.RESTYLE_BATCH_MAX_PHOTOS} (RESTYLE_BATCH_MAX_PHOTOS).",
        error_messages={"required": "Choose at least one photo to upload.",
                        "empty": "Choose at least one photo to upload."},
    )
    art_models = _RepeatedField(
        child=serializers.PrimaryKeyRelatedField(
            queryset=selectors.available_models(),
            error_messages={
                "does_not_exist": "That model is not available. Choose another one.",
                "incorrect_type": "A model is given by its numeric id.",
            },
        ),
        allow_empty=False,
        help_text="Ids of models from /api/v1/models/: repeat the part once per model. Every photo is converted "
        f"with every model, at most {settings.RESTYLE_BATCH_MAX_JOBS} conversions in all (RESTYLE_BATCH_MAX_JOBS).",
        error_messages={"required": "Choose at least one model.", "empty": "Choose at least one model."},
    )
    style_image = serializers.FileField(
        required=False,
        help_text="One style image for the whole batch, needed when a model's `expects` asks for one (Gatys).",
        error_messages={
            "empty": "The style image file is empty.",
            "invalid": "Send the style image as a file (multipart/form-data, with a file name).",
        },
    )
    output_size = serializers.ChoiceField(
        choices=output_sizes.TOKENS, required=False, default=str(output_sizes.DEFAULT),
        help_text=f"As for one conversion: {output_sizes.ALLOWED_WORDS}; default {output_sizes.DEFAULT}.",
        error_messages={"invalid_choice": output_sizes.refusal("{input}")},
    )


class BatchSerializer(serializers.Serializer):
    conversions = ConversionSerializer(many=True, help_text="The new conversions, photo by photo.")
