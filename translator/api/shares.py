"""REST API for share links: make one for a finished conversion or an album, list them, revoke
one. Thin: services.create_share_link checks the choices, as it does for the site's form."""
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import selectors, services
from ..models import ShareLink
from ..services.sharing import EXPIRY_VALUES
from .views import errors


class ShareLinkSerializer(serializers.ModelSerializer):
    link = serializers.SerializerMethodField(help_text="The page to send: anyone with it may open it, logged in or not.")
    conversion = serializers.UUIDField(source="conversion_id", read_only=True, allow_null=True)
    album = serializers.IntegerField(source="album_id", read_only=True, allow_null=True)
    state = serializers.ChoiceField(
        choices=["active", "expired", "revoked"], read_only=True,
        help_text="active: it opens; expired or revoked: it answers 404 like a link that never existed.",
    )

    class Meta:
        model = ShareLink
        fields = [
            "id", "link", "conversion", "album", "state", "include_original", "show_owner",
            "created_at", "expires_at", "revoked_at", "views",
        ]
        read_only_fields = fields

    def get_link(self, obj) -> str:
        request = self.context.get("request")
        url = obj.get_absolute_url()
        return request.build_absolute_uri(url) if request is not None else url


class ShareLinkCreateSerializer(serializers.Serializer):
    conversion = serializers.UUIDField(required=False, help_text="A finished conversion of yours (or `album`).")
    album = serializers.IntegerField(required=False, min_value=1, help_text="An album of yours (or `conversion`).")
    expiry = serializers.ChoiceField(
        choices=EXPIRY_VALUES, default="never",
        help_text="never; 1, 7 or 30 (days from now); or date (the end of `expires_on`, in the site's time zone).",
    )
    expires_on = serializers.DateField(required=False, help_text="With expiry=date: the last day the link works.")
    include_original = serializers.BooleanField(
        default=False, help_text="A conversion's link also shows the photo, re-encoded without its metadata."
    )
    show_owner = serializers.BooleanField(default=False, help_text="The shared page names you.")

    def validate(self, attrs):
        if ("conversion" in attrs) == ("album" in attrs):
            raise ValidationError({"conversion": ["Share either one conversion or one album."]}, code="one_target")
        return attrs


def _owned_target(user, data):
    """(conversion, album) of `user` that the request names; another user's is no such thing."""
    from django.http import Http404

    try:
        if "conversion" in data:
            return selectors.conversion_for(user=user, conversion_id=data["conversion"]), None
        return None, selectors.album_for(user=user, album_id=data["album"])
    except Http404:
        field = "conversion" if "conversion" in data else "album"
        raise ValidationError({field: [f"There is no such {field} of yours."]}, code="not_found")


@extend_schema_view(
    list=extend_schema(summary="My share links, newest first", responses={200: ShareLinkSerializer(many=True), **errors(401)}),
    retrieve=extend_schema(summary="One of my share links", responses={200: ShareLinkSerializer, **errors(401, 404)}),
)
class ShareLinkViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = ShareLinkSerializer
    lookup_value_regex = r"\d+"
    queryset = ShareLink.objects.none()  # for the schema generator; requests use get_queryset

    def get_queryset(self):
        # Owner-scoped: another user's link is a 404 for every verb.
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return selectors.share_links_for(user=self.request.user)

    @extend_schema(
        summary="Make a share link for a finished conversion or an album",
        request=ShareLinkCreateSerializer,
        responses={201: ShareLinkSerializer, **errors(400, 401)},
    )
    def create(self, request):
        data = ShareLinkCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        choices = dict(data.validated_data)
        conversion, album = _owned_target(request.user, choices)
        choices.pop("conversion", None)
        choices.pop("album", None)
        try:
            link = services.create_share_link(owner=request.user, conversion=conversion, album=album, **choices)
        except DjangoValidationError as exc:
            raise ValidationError({getattr(exc, "field", "non_field_errors"): exc.messages}, code=exc.code or "invalid")
        body = ShareLinkSerializer(link, context={"request": request}).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Revoke a share link (it answers 404 from now on; revoking again changes nothing)",
        request=None,
        responses={200: ShareLinkSerializer, **errors(401, 404)},
    )
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        link = services.revoke_share_link(link=self.get_object())
        return Response(ShareLinkSerializer(link, context={"request": request}).data)


# --- what anyone with a link sees, as JSON (for an app that opens shared links) ------------------


class SharedItemSerializer(serializers.Serializer):
    id = serializers.UUIDField(allow_null=True, help_text="The item's id within an album link; null for an item link.")
    model = serializers.CharField(help_text="The name of the model that made it.")
    page_url = serializers.CharField(help_text="Its shared page.")
    result_url = serializers.CharField()
    thumbnail_url = serializers.CharField(allow_null=True)
    original_url = serializers.CharField(allow_null=True, help_text="The photo without its metadata, if the owner included it.")
    width = serializers.IntegerField(allow_null=True)
    height = serializers.IntegerField(allow_null=True)


class SharedSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["item", "album"])
    album = serializers.CharField(allow_null=True, help_text="The album's name (album links).")
    owner = serializers.CharField(allow_null=True, help_text="The owner's user name, only if they chose to show it.")
    items = SharedItemSerializer(many=True)


def _shared_item(request, link, conversion):
    from django.urls import reverse

    def url(name, *args):
        return request.build_absolute_uri(reverse(f"translator:{name}", args=[link.token, *args]))

    if link.is_album:
        files = ("shared_album_file", conversion.id)
        page = url("shared_album_item", conversion.id)
    else:
        files = ("shared_file",)
        page = url("shared")
    return {
        "id": conversion.id if link.is_album else None,
        "model": conversion.art_model.name,
        "page_url": page,
        "result_url": url(*files, "result"),
        "thumbnail_url": url(*files, "thumbnail") if conversion.thumbnail else None,
        "original_url": url("shared_file", "original") if link.include_original and not link.is_album else None,
        "width": conversion.result_width,
        "height": conversion.result_height,
    }


class SharedView(APIView):
    """A share link's contents, for anyone with the token (no authentication); a revoked, expired
    or unknown token is the same 404."""

    permission_classes = [permissions.AllowAny]
    authentication_classes = []

    @extend_schema(summary="What a share link shows (no authentication)", responses={200: SharedSerializer, **errors(404)}, auth=[])
    def get(self, request, token):
        from django.http import Http404

        try:
            link = selectors.live_share_link(token=token)
            conversions = list(selectors.shared_album_items(link=link)) if link.is_album else [
                selectors.shared_conversion(link=link)
            ]
        except Http404:
            raise NotFound(selectors.SHARE_NOT_FOUND)
        return Response({
            "kind": "album" if link.is_album else "item",
            "album": link.album.name if link.is_album else None,
            "owner": link.owner.username if link.show_owner else None,
            "items": [_shared_item(request, link, conversion) for conversion in conversions],
        })

    def finalize_response(self, request, response, *args, **kwargs):
        from ..share_views import SHARE_HEADERS

        response = super().finalize_response(request, response, *args, **kwargs)
        for name, value in SHARE_HEADERS.items():
            response[name] = value
        return response
