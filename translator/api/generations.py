"""REST API of generated images (StyleGAN2): grids from seeds, style mixes, save, delete, files.
Thin like the pages: selectors read (owner-scoped: another user's image is a 404), services
write and say what is wrong with the input."""
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from .. import selectors, services
from ..files import generation_file_response
from ..models import Generation
from .serializers import GenerateRequestSerializer, GenerationSerializer, GridSerializer, MixRequestSerializer
from .throttles import GenerateThrottle
from .views import DOWNLOAD_PARAM, FILE_RENDERERS, FILE_RESPONSE, UUID_PATTERN, Conflict, _truthy, errors

SAVED_PARAM = OpenApiParameter(
    "saved", str, description="true (the default): images saved to the gallery; false: unsaved ones (grids); all: both."
)
BATCH_PARAM = OpenApiParameter("batch", str, description="Only the images of one grid (its `batch`).")


def _service_error(exc):
    """A service's refusal as a 400 on the field it names."""
    if isinstance(exc, DjangoValidationError):
        return ValidationError({getattr(exc, "field", None) or "non_field_errors": exc.messages}, code=exc.code or "invalid")
    return ValidationError({"model": [str(exc)]}, code="unavailable")


@extend_schema_view(
    list=extend_schema(summary="My generated images, newest first", parameters=[SAVED_PARAM, BATCH_PARAM],
                       responses={200: GenerationSerializer(many=True), **errors(400, 401)}),
    retrieve=extend_schema(summary="A generated image's state, settings and files",
                           responses={200: GenerationSerializer, **errors(401, 404)}),
    destroy=extend_schema(summary="Delete a generated image and its files", responses={204: None, **errors(401, 404)}),
)
class GenerationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    serializer_class = GenerationSerializer
    lookup_value_regex = UUID_PATTERN
    queryset = Generation.objects.none()  # for the schema generator; requests use get_queryset

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        rows = selectors.generations_for(user=self.request.user)
        if self.action != "list":
            return rows
        saved = self.request.query_params.get("saved", "true").lower()
        if saved not in ("true", "false", "all", "1", "0"):
            raise ValidationError({"saved": ["saved is true, false or all."]}, code="invalid")
        if saved != "all":
            rows = rows.filter(saved=saved in ("true", "1"))
        if batch := self.request.query_params.get("batch"):
            import uuid

            try:
                rows = rows.filter(batch=uuid.UUID(batch)).order_by("created_at")
            except ValueError:
                raise ValidationError({"batch": ["batch is the id of a grid (a UUID)."]}, code="invalid")
        return rows

    def get_throttles(self):
        return [GenerateThrottle()] if self.action in ("create", "mix") else super().get_throttles()

    @extend_schema(
        summary="Generate a grid: one image per seed (or surprise seeds)",
        request=GenerateRequestSerializer,
        responses={202: GridSerializer, **errors(400, 401, 429)},
    )
    def create(self, request):
        data = GenerateRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        try:
            rows = services.create_grid(
                owner=request.user, art_model=values["model"], seeds=values.get("seeds"), surprise=values["surprise"],
                count=values["count"], truncation=values["truncation"], noise_mode=values["noise_mode"],
            )
        except (DjangoValidationError, services.ServiceError) as exc:
            raise _service_error(exc)
        context = {"request": request}
        body = {
            "batch": str(rows[0].batch),
            "seeds": [row.seed for row in rows],
            "generations": GenerationSerializer(rows, many=True, context=context).data,
        }
        return Response(body, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="Mix two sources' styles: source A with the `layers` styles of source B",
        request=MixRequestSerializer,
        responses={202: GenerationSerializer, **errors(400, 401, 404, 429)},
    )
    @action(detail=False, methods=["post"])
    def mix(self, request):
        data = MixRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        # Sources are looked up among the user's own: another user's image is a 404 here.
        a, b = self._source(values["source_a"]), self._source(values["source_b"])
        art_model = values.get("model") or next(
            (s.art_model for s in (a, b) if not isinstance(s, int)), None
        )
        if art_model is None:
            raise ValidationError({"model": ["Choose a model: both sources are seeds."]}, code="required")
        try:
            mixed = services.create_mix(
                owner=request.user, art_model=art_model, source_a=a, source_b=b, layers=values["layers"],
                truncation=values.get("truncation"), noise_mode=values.get("noise_mode"),
            )
        except (DjangoValidationError, services.ServiceError) as exc:
            raise _service_error(exc)
        body = GenerationSerializer(mixed, context={"request": request}).data
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["url"]})

    def _source(self, source):
        if "generation" in source:
            return selectors.generation_for(user=self.request.user, generation_id=source["generation"])
        if "conversion" in source:
            return selectors.conversion_with_latent_for(user=self.request.user, conversion_id=source["conversion"])
        return source["seed"]

    @extend_schema(summary="Keep a finished image in the gallery", request=None,
                   responses={200: GenerationSerializer, **errors(401, 404, 409)})
    @action(detail=True, methods=["post"])
    def save(self, request, pk=None):
        try:
            item = services.save_generation(generation=self.get_object())
        except services.ServiceError as exc:
            raise Conflict(str(exc))
        return Response(GenerationSerializer(item, context={"request": request}).data)

    @extend_schema(summary="Cancel a queued or running image (a queued one at once, a running one when its worker stores it)",
                   request=None, responses={202: GenerationSerializer, **errors(401, 404, 409)})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        try:
            item = services.cancel_generation(generation=self.get_object())
        except services.ServiceError as exc:
            raise Conflict(str(exc))
        return Response(GenerationSerializer(item, context={"request": request}).data, status=status.HTTP_202_ACCEPTED)

    def perform_destroy(self, instance):
        services.delete_generation(generation=instance)

    def _file(self, request, kind):
        return generation_file_response(self.get_object(), kind, download=_truthy(request.query_params.get("download")))

    @extend_schema(summary="The generated image (PNG)", parameters=[DOWNLOAD_PARAM], responses=FILE_RESPONSE)
    @action(detail=True, url_path="image", renderer_classes=FILE_RENDERERS)
    def image(self, request, pk=None):
        return self._file(request, "image")

    @extend_schema(summary="A small JPEG of the image", parameters=[DOWNLOAD_PARAM], responses=FILE_RESPONSE)
    @action(detail=True, url_path="thumbnail", renderer_classes=FILE_RENDERERS)
    def thumbnail(self, request, pk=None):
        return self._file(request, "thumbnail")

    @extend_schema(summary="Its latent: the ws as .npz (numpy; key `w`, N x num_ws x w_dim)", responses=FILE_RESPONSE)
    @action(detail=True, url_path="latent", renderer_classes=FILE_RENDERERS)
    def latent(self, request, pk=None):
        return self._file(request, "latent")
