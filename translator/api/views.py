"""REST API v1. Thin like the pages: selectors read, services write."""
from django.contrib.auth import authenticate, get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, mixins, permissions, status, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from .. import lockout, output_sizes, selectors, services
from ..files import conversion_file_response
from ..models import Conversion
from .errors import ErrorSerializer
from .filters import ConversionFilter
from .organise import (
    ZIP_RESPONSE,
    BulkDeleteResultSerializer,
    SelectionSerializer,
    ZipRequestSerializer,
    selection,
    zip_response,
)
from .renderers import BinaryFileRenderer, ImageFileRenderer, ZipRenderer
from .serializers import (
    ArtModelSerializer,
    BatchCreateSerializer,
    BatchSerializer,
    ConversionCreateSerializer,
    ConversionSerializer,
    ConversionUpdateSerializer,
    RestyleRequestSerializer,
    SignupSerializer,
    TokenRequestSerializer,
    TokenSerializer,
    UserSerializer,
)
from .throttles import SignupThrottle, UploadThrottle

UUID_PATTERN = r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"


def errors(*codes):
    """Schema entries for the error responses an operation can give (all share one body)."""
    words = {
        400: "Invalid input; `fields` says what, per field.",
        401: "Not authenticated.",
        404: "No such object (or not yours).",
        409: "The object is not in a state that allows this.",
        413: "The request is too large (its form fields, files aside, over the limit).",
        429: "Too many requests; see the Retry-After header.",
    }
    return {code: OpenApiResponse(ErrorSerializer, description=words[code]) for code in codes}


class ApiRoot(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(exclude=True)
    def get(self, request):
        return Response(
            {
                "models": reverse("api:model-list", request=request),
                "conversions": reverse("api:conversion-list", request=request),
                "generations": reverse("api:generation-list", request=request),
                "albums": reverse("api:album-list", request=request),
                "token": reverse("api:token", request=request),
                "signup": reverse("api:signup", request=request),
                "me": reverse("api:me", request=request),
                "schema": reverse("api:schema", request=request),
                "docs": reverse("api:docs", request=request),
            }
        )


class TokenView(APIView):
    """Obtain a token with a username and password, or revoke the token in use."""

    def get_permissions(self):
        if self.request.method == "POST":
            return [permissions.AllowAny()]
        return [permissions.IsAuthenticated()]

    def get_authenticators(self):
        # Logging in must not trip over a stale session's CSRF check.
        if self.request is not None and self.request.method == "POST":
            return []
        return super().get_authenticators()

    @extend_schema(request=TokenRequestSerializer, responses={200: TokenSerializer, **errors(400, 429)}, auth=[])
    def post(self, request):
        data = TokenRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(request, **data.validated_data)
        if user is None and getattr(request, "axes_locked_out", False):
            # axes refused it (this account or address failed too often): say until when.
            until = lockout.locked_until(request, data.validated_data)
            raise LockedOut(lockout.message(until), wait=lockout.seconds_until(until))
        if user is None:
            raise ValidationError(
                {"non_field_errors": ["Unable to log in with that username and password."]},
                code="invalid_credentials",
            )
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key, "user": UserSerializer(user).data})

    @extend_schema(request=None, responses={204: None, **errors(401)})
    def delete(self, request):
        Token.objects.filter(user=request.user).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class SignupView(APIView):
    """Create an account; answers with the new user and a token for it."""

    permission_classes = [permissions.AllowAny]
    authentication_classes = []
    throttle_classes = [SignupThrottle]

    @extend_schema(request=SignupSerializer, responses={201: TokenSerializer, **errors(400, 429)}, auth=[])
    def post(self, request):
        data = SignupSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with transaction.atomic():
            user = get_user_model().objects.create_user(**data.validated_data)
            token = Token.objects.create(user=user)
        return Response({"token": token.key, "user": UserSerializer(user).data}, status=status.HTTP_201_CREATED)


class MeView(generics.RetrieveAPIView):
    """The account the request is authenticated as."""

    serializer_class = UserSerializer

    @extend_schema(responses={200: UserSerializer, **errors(401)})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_object(self):
        return self.request.user


@extend_schema_view(
    list=extend_schema(summary="Published models", responses={200: ArtModelSerializer(many=True), **errors(401)}),
    retrieve=extend_schema(summary="One published model", responses={200: ArtModelSerializer, **errors(401, 404)}),
)
class ArtModelViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = ArtModelSerializer
    pagination_class = None  # a short catalogue: one page
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return selectors.available_models()


FILE_RENDERERS = [JSONRenderer, ImageFileRenderer]
FILE_RESPONSE = {
    (200, "image/*"): OpenApiResponse(OpenApiTypes.BINARY, description="The image file."),
    **errors(401, 404),
}
DOWNLOAD_PARAM = OpenApiParameter(
    "download", OpenApiTypes.BOOL, description="Ask the browser to save the file (Content-Disposition: attachment)."
)


@extend_schema_view(
    list=extend_schema(summary="My conversions, newest first", responses={200: ConversionSerializer(many=True), **errors(400, 401, 404)}),
    retrieve=extend_schema(summary="A conversion's state and files", responses={200: ConversionSerializer, **errors(401, 404)}),
    destroy=extend_schema(summary="Delete a conversion and its files", responses={204: None, **errors(401, 404)}),
)
class ConversionViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    # PATCH changes the favourite star only (partial_update); there is no PUT.
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    serializer_class = ConversionSerializer
    filterset_class = ConversionFilter
    lookup_value_regex = UUID_PATTERN

    queryset = Conversion.objects.none()  # for the schema generator; requests use get_queryset

    def get_queryset(self):
        # Owner-scoped: another user's conversion is a 404 for every verb.
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        rows = selectors.conversions_for(user=self.request.user)
        return selectors.with_queue_places(rows) if self.action == "list" else rows

    def get_throttles(self):
        return [UploadThrottle()] if self.action in ("create", "restyle", "again") else super().get_throttles()

    @extend_schema(
        summary="Upload a photo and convert it",
        request={"multipart/form-data": ConversionCreateSerializer},
        responses={202: ConversionSerializer, **errors(400, 401, 413, 429)},
    )
    def create(self, request):
        data = ConversionCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            conversion = services.create_conversion(
                owner=request.user,
                upload=data.validated_data["image"],
                art_model=data.validated_data["model"],
                style_upload=data.validated_data.get("style_image"),
                output_long_side=output_sizes.parse(data.validated_data["output_size"]),
            )
        except DjangoValidationError as exc:
            raise ValidationError({getattr(exc, "field", "image"): exc.messages}, code=exc.code or "invalid")
        except services.ServiceError as exc:
            raise ValidationError({"model": [str(exc)]}, code="unavailable")
        body = ConversionSerializer(conversion, context={"request": request}).data
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["url"]})

    @extend_schema(
        summary="Upload several photos and convert each with several models (a conversion per pair)",
        request={"multipart/form-data": BatchCreateSerializer},
        responses={201: BatchSerializer, **errors(400, 401, 413, 429)},
    )
    @action(detail=False, methods=["post"])
    def batch(self, request):
        data = BatchCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        uploads, art_models = data.validated_data["images"], data.validated_data["art_models"]
        try:
            model_count = len({m.pk for m in art_models})
            services.check_batch_counts(photo_count=len(uploads), model_count=model_count)
            # The rate limit counts conversions, not requests: a batch spends one per (photo, model),
            # after the counts (cheap) and before any image is decoded or stored.
            throttle = UploadThrottle()
            if not throttle.allow_jobs(request, len(uploads) * model_count):
                self.throttled(request, throttle.wait())
            conversions = services.create_batch(
                owner=request.user, uploads=uploads, art_models=art_models,
                style_upload=data.validated_data.get("style_image"),
                output_long_side=output_sizes.parse(data.validated_data["output_size"]),
            )
        except DjangoValidationError as exc:
            field = getattr(exc, "field", "image")
            field = {"image": "images", "art_model": "art_models"}.get(field, field)
            # A refusal naming several files is a list, which carries no code of its own.
            raise ValidationError({field: exc.messages}, code=getattr(exc, "code", None) or "invalid")
        except services.ServiceError as exc:
            raise ValidationError({"art_models": [str(exc)]}, code="unavailable")
        body = BatchSerializer({"conversions": conversions}, context={"request": request}).data
        return Response(body, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        services.delete_conversion(conversion=instance)

    # --- organising: the favourite star, bulk delete, zip (translator/api/organise.py) ---------

    @extend_schema(
        summary="Star or unstar a conversion", request=ConversionUpdateSerializer,
        responses={200: ConversionSerializer, **errors(400, 401, 404)},
    )
    def partial_update(self, request, pk=None):
        conversion = self.get_object()
        data = ConversionUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.set_favourite(conversion=conversion, favourite=data.validated_data["favourite"])
        return Response(ConversionSerializer(conversion, context={"request": request}).data)

    @extend_schema(
        summary="Delete several conversions and their files", request=SelectionSerializer,
        responses={200: BulkDeleteResultSerializer, **errors(400, 401, 404)},
    )
    @action(detail=False, methods=["post"], url_path="bulk-delete")
    def bulk_delete(self, request):
        _, chosen = selection(request)
        return Response({"deleted": services.delete_conversions(conversions=chosen)})

    @extend_schema(
        summary="Download conversions as a zip (streamed)", request=ZipRequestSerializer,
        responses={**ZIP_RESPONSE, **errors(400, 401, 404)},
    )
    @action(detail=False, methods=["post"], url_path="zip", renderer_classes=[JSONRenderer, ZipRenderer])
    def zip(self, request):
        return zip_response(request)

    @extend_schema(
        summary="Cancel a queued or running conversion",
        request=None,
        responses={202: ConversionSerializer, **errors(401, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        try:
            conversion = services.cancel_conversion(conversion=self.get_object())
        except services.ServiceError as exc:
            raise Conflict(str(exc))
        return Response(ConversionSerializer(conversion, context={"request": request}).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="Try another style: convert this conversion's stored photo with another model (no upload)",
        request=RestyleRequestSerializer,
        responses={202: ConversionSerializer, **errors(400, 401, 404, 429)},
    )
    @action(detail=True, methods=["post"])
    def restyle(self, request, pk=None):
        conversion = self.get_object()
        data = RestyleRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        options = {}
        if "output_size" in data.validated_data:
            options["output_long_side"] = output_sizes.parse(data.validated_data["output_size"])
        try:
            new = services.restyle_conversion(
                owner=request.user, conversion=conversion, art_model=data.validated_data["art_model"], **options
            )
        except DjangoValidationError as exc:
            raise ValidationError({"output_size": exc.messages}, code=exc.code or "invalid")
        except services.ServiceError as exc:
            raise ValidationError({"art_model": [str(exc)]}, code="unavailable")
        return self._accepted(request, new)

    @extend_schema(
        summary="Run again: the same photo, model version, settings and seed (on a CPU, the same pixels)",
        request=None,
        responses={202: ConversionSerializer, **errors(401, 404, 409, 429)},
    )
    @action(detail=True, methods=["post"])
    def again(self, request, pk=None):
        try:
            new = services.run_again(owner=request.user, conversion=self.get_object())
        except services.ServiceError as exc:
            raise Conflict(str(exc))
        return self._accepted(request, new)

    def _accepted(self, request, conversion):
        body = ConversionSerializer(conversion, context={"request": request}).data
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["url"]})

    def _file(self, request, kind):
        return conversion_file_response(self.get_object(), kind, download=_truthy(request.query_params.get("download")))

    @extend_schema(summary="The uploaded photo", parameters=[DOWNLOAD_PARAM], responses=FILE_RESPONSE)
    @action(detail=True, url_path="original", renderer_classes=FILE_RENDERERS)
    def original(self, request, pk=None):
        return self._file(request, "original")

    @extend_schema(summary="The style image uploaded with the photo", parameters=[DOWNLOAD_PARAM], responses=FILE_RESPONSE)
    @action(detail=True, url_path="style", renderer_classes=FILE_RENDERERS)
    def style(self, request, pk=None):
        return self._file(request, "style")

    @extend_schema(summary="The image so far, while a slow job runs", parameters=[DOWNLOAD_PARAM], responses=FILE_RESPONSE)
    @action(detail=True, url_path="intermediate", renderer_classes=FILE_RENDERERS)
    def intermediate(self, request, pk=None):
        return self._file(request, "intermediate")

    @extend_schema(summary="The converted image (once succeeded)", parameters=[DOWNLOAD_PARAM], responses=FILE_RESPONSE)
    @action(detail=True, url_path="result", renderer_classes=FILE_RENDERERS)
    def result(self, request, pk=None):
        return self._file(request, "result")

    @extend_schema(summary="A small JPEG of the result (once succeeded)", parameters=[DOWNLOAD_PARAM], responses=FILE_RESPONSE)
    @action(detail=True, url_path="thumbnail", renderer_classes=FILE_RENDERERS)
    def thumbnail(self, request, pk=None):
        return self._file(request, "thumbnail")

    @extend_schema(
        summary="A StyleGAN2 projection's latent, as .npz (once succeeded)",
        responses={(200, "application/octet-stream"): OpenApiResponse(
            OpenApiTypes.BINARY, description="numpy .npz: the ws array [1, num_ws, w_dim] and what made it."
        ), **errors(401, 404)},
    )
    @action(detail=True, url_path="latent", renderer_classes=[*FILE_RENDERERS, BinaryFileRenderer])
    def latent(self, request, pk=None):
        return self._file(request, "latent")


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


class LockedOut(APIException):
    """429 with Retry-After (DRF's handler sets it from `wait`)."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "locked_out"

    def __init__(self, detail, *, wait):
        super().__init__(detail)
        self.wait = wait


def _truthy(value):
    return str(value).lower() in ("1", "true", "yes", "on")
