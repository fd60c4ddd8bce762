"""REST API of organising: albums and their items, bulk delete and zip download of conversions.

The same services and selectors as the pages (translator/organise_views.py): another user's
album or conversion is a 404, as everywhere in the API.
"""
from django.conf import settings
from django.http import StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from .. import selectors, services, zips
from ..models import Album
from .errors import ErrorSerializer
from .pagination import Pagination
from .renderers import ZipRenderer


def _absolute(request, url):
    return request.build_absolute_uri(url) if request is not None else url


class AlbumSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    items_url = serializers.SerializerMethodField()
    item_count = serializers.IntegerField(read_only=True, help_text="How many conversions it holds.")
    name = serializers.CharField(max_length=100, help_text="Unique among your albums (any case).")

    class Meta:
        model = Album
        fields = ["id", "url", "name", "item_count", "items_url", "created_at", "updated_at"]
        read_only_fields = ["id", "url", "item_count", "items_url", "created_at", "updated_at"]

    def get_url(self, obj) -> str:
        return _absolute(self.context.get("request"), reverse("api:album-detail", args=[obj.id]))

    def get_items_url(self, obj) -> str:
        return _absolute(self.context.get("request"), reverse("api:album-items", args=[obj.id]))


class SelectionSerializer(serializers.Serializer):
    """Conversions named by id: the body of album item changes, bulk delete and zip."""

    ids = serializers.ListField(
        child=serializers.UUIDField(), allow_empty=False, max_length=None,
        help_text="Conversion ids (yours; others' are not found).",
        error_messages={"empty": "Name at least one conversion."},
    )

    def validate_ids(self, value):
        limit = settings.RESTYLE_ZIP_MAX_ITEMS
        if len(value) > limit:
            raise serializers.ValidationError(f"At most {limit} conversions at once; you sent {len(value)}.",
                                              code="too_many")
        return value


class ZipRequestSerializer(SelectionSerializer):
    originals = serializers.BooleanField(
        default=False, help_text="Put the uploaded photos in too (as <photo stem>.<ext>), not only the results."
    )


class BulkDeleteResultSerializer(serializers.Serializer):
    deleted = serializers.IntegerField(help_text="How many conversions were deleted, with their files.")


class AlbumItemsResultSerializer(serializers.Serializer):
    changed = serializers.IntegerField(help_text="How many were added (or removed); those already so are not counted.")
    album = AlbumSerializer()


def selection(request, serializer_class=SelectionSerializer):
    """(validated data, the user's conversions among the ids); 404 when none of them is the user's."""
    data = serializer_class(data=request.data)
    data.is_valid(raise_exception=True)
    chosen = list(selectors.selected_conversions(user=request.user, ids=data.validated_data["ids"]))
    if not chosen:
        raise NotFound("None of those conversions exists (or is yours).")
    return data.validated_data, chosen


def _errors(*codes):
    # As views.errors (which imports this module, so it cannot be imported from here).
    words = {400: "Invalid input; `fields` says what, per field.", 401: "Not authenticated.",
             404: "No such object (or not yours)."}
    return {code: OpenApiResponse(ErrorSerializer, description=words[code]) for code in codes}


@extend_schema_view(
    list=extend_schema(summary="My albums, by name", responses={200: AlbumSerializer(many=True), **_errors(401)}),
    create=extend_schema(summary="Make an album", responses={201: AlbumSerializer, **_errors(400, 401)}),
    retrieve=extend_schema(summary="One album", responses={200: AlbumSerializer, **_errors(401, 404)}),
    partial_update=extend_schema(summary="Rename an album", responses={200: AlbumSerializer, **_errors(400, 401, 404)}),
    destroy=extend_schema(summary="Delete an album (its conversions stay)", responses={204: None, **_errors(401, 404)}),
)
class AlbumViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, mixins.RetrieveModelMixin,
                   mixins.DestroyModelMixin, viewsets.GenericViewSet):
    serializer_class = AlbumSerializer
    queryset = Album.objects.none()  # for the schema generator; requests use get_queryset
    lookup_value_regex = r"\d+"
    # One user's albums: a short list, one page (as the model catalogue). An album's items are paged.
    pagination_class = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return selectors.albums_for(user=self.request.user)

    def create(self, request):
        data = AlbumSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            album = services.create_album(owner=request.user, name=data.validated_data["name"])
        except services.ServiceError as exc:
            raise ValidationError({"name": [str(exc)]}, code="taken")
        album = selectors.album_for(user=request.user, album_id=album.id)
        return Response(AlbumSerializer(album, context={"request": request}).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        album = self.get_object()
        data = AlbumSerializer(album, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        if "name" in data.validated_data:
            try:
                services.rename_album(album=album, name=data.validated_data["name"])
            except services.ServiceError as exc:
                raise ValidationError({"name": [str(exc)]}, code="taken")
        return Response(AlbumSerializer(self.get_object(), context={"request": request}).data)

    def perform_destroy(self, instance):
        services.delete_album(album=instance)

    @extend_schema(methods=["GET"], summary="The conversions in an album, last added first",
                   responses={200: OpenApiTypes.OBJECT, **_errors(401, 404)})
    @extend_schema(methods=["POST"], summary="Add conversions to an album", request=SelectionSerializer,
                   responses={200: AlbumItemsResultSerializer, **_errors(400, 401, 404)})
    @extend_schema(methods=["DELETE"], summary="Take conversions out of an album (they stay in the gallery)",
                   request=SelectionSerializer, responses={200: AlbumItemsResultSerializer, **_errors(400, 401, 404)})
    @action(detail=True, methods=["get", "post", "delete"])
    def items(self, request, pk=None):
        from .serializers import ConversionSerializer

        album = self.get_object()
        if request.method == "GET":
            paginator = Pagination()
            page = paginator.paginate_queryset(selectors.album_conversions(album=album), request, view=self)
            return paginator.get_paginated_response(
                ConversionSerializer(page, many=True, context={"request": request}).data
            )
        _, chosen = selection(request)
        if request.method == "POST":
            changed = services.add_to_album(album=album, conversions=chosen)
        else:
            changed = services.remove_from_album(album=album, conversions=chosen)
        album = self.get_object()
        return Response({"changed": changed, "album": AlbumSerializer(album, context={"request": request}).data})


ZIP_RESPONSE = {
    (200, "application/zip"): OpenApiResponse(
        OpenApiTypes.BINARY,
        description="A zip, streamed as it is written: each result as `<photo stem> - <model name>.<ext>` "
        "(names made unique with ` (2)`), and with `originals` each photo once.",
    ),
}


def zip_response(request):
    data, chosen = selection(request, ZipRequestSerializer)
    try:
        entries = zips.check_selection(chosen, originals=data["originals"])
    except zips.ZipRefused as exc:
        raise ValidationError({"ids": [str(exc)]}, code="nothing_to_zip")
    response = StreamingHttpResponse(zips.stream(entries), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="restyle-{timezone.localdate():%Y-%m-%d}.zip"'
    response["Cache-Control"] = "private, no-store"
    return response


__all__ = ["AlbumViewSet", "ZipRenderer", "zip_response", "selection", "ZIP_RESPONSE"]
