"""REST API of the account's webhook: GET/PUT/DELETE /api/v1/me/webhook/, a new secret, a test
event, the delivery log and redelivery. Thin like the pages: selectors read (owner-scoped:
another user's delivery is a 404), services write and say what is wrong with the input."""
import json

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import selectors, services
from ..models import Webhook, WebhookDelivery
from .views import Conflict, errors


class WebhookSerializer(serializers.ModelSerializer):
    class Meta:
        model = Webhook
        fields = ["url", "secret", "created_at", "updated_at", "secret_rotated_at"]
        extra_kwargs = {
            "url": {"help_text": "Where events are POSTed: https, on a public internet address."},
            "secret": {"help_text": "Signs every delivery: X-Restyle-Signature is sha256=HMAC-SHA256(secret, "
                       "\"<X-Restyle-Timestamp>.<raw body>\") in hex (README: Webhooks)."},
        }


class WebhookWriteSerializer(serializers.Serializer):
    url = serializers.CharField(max_length=2000, help_text="https URL on a public internet address (no user name or password).")


class WebhookDeliverySerializer(serializers.ModelSerializer):
    payload = serializers.SerializerMethodField()
    conversion = serializers.UUIDField(source="conversion_id", read_only=True, allow_null=True,
                                       help_text="The conversion a conversion.* event tells of (null once it is deleted).")
    generation = serializers.UUIDField(source="generation_id", read_only=True, allow_null=True,
                                       help_text="The generated image a generation.* event tells of (null once it is deleted).")
    redelivery_of = serializers.UUIDField(source="redelivery_of_id", read_only=True, allow_null=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id", "event", "status", "attempts", "conversion", "generation", "redelivery_of", "created_at", "last_attempt_at",
            "next_attempt_at", "finished_at", "last_status_code", "last_error", "response_snippet", "payload",
        ]
        extra_kwargs = {
            "id": {"help_text": "The delivery id, sent as X-Restyle-Delivery (the same on every retry)."},
            "attempts": {"help_text": "How many times it has been sent so far."},
        }

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_payload(self, obj):
        return json.loads(obj.payload)


def _webhook_or_404(request):
    hook = selectors.webhook_for(user=request.user)
    if hook is None:
        raise NotFound("You have no webhook yet; PUT one with its url.")
    return hook


class WebhookView(APIView):
    """The account's webhook (at most one)."""

    @extend_schema(summary="My webhook and its secret", responses={200: WebhookSerializer, **errors(401, 404)})
    def get(self, request):
        return Response(WebhookSerializer(_webhook_or_404(request)).data)

    @extend_schema(
        summary="Register or change my webhook (a new one gets a secret)",
        request=WebhookWriteSerializer,
        responses={200: WebhookSerializer, 201: WebhookSerializer, **errors(400, 401)},
    )
    def put(self, request):
        data = WebhookWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        existed = selectors.webhook_for(user=request.user) is not None
        try:
            hook = services.save_webhook(owner=request.user, url=data.validated_data["url"],
                                         site_url=request.build_absolute_uri("/"))
        except DjangoValidationError as exc:
            raise ValidationError({"url": exc.messages}, code="invalid_url")
        return Response(WebhookSerializer(hook).data, status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED)

    @extend_schema(summary="Remove my webhook and its delivery log", responses={204: None, **errors(401, 404)})
    def delete(self, request):
        services.delete_webhook(webhook=_webhook_or_404(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookSecretView(APIView):
    @extend_schema(summary="Replace my webhook's secret", request=None, responses={200: WebhookSerializer, **errors(401, 404)})
    def post(self, request):
        return Response(WebhookSerializer(services.rotate_secret(webhook=_webhook_or_404(request))).data)


class WebhookTestView(APIView):
    @extend_schema(summary="Send a test event to my webhook", request=None,
                   responses={202: WebhookDeliverySerializer, **errors(401, 404, 409)})
    def post(self, request):
        try:
            row = services.send_test_event(webhook=_webhook_or_404(request))
        except services.ServiceError as exc:
            raise Conflict(str(exc))
        return Response(WebhookDeliverySerializer(row).data, status=status.HTTP_202_ACCEPTED)


class WebhookDeliveriesView(APIView):
    @extend_schema(summary="My webhook's delivery log (the latest 50, newest first)",
                   responses={200: WebhookDeliverySerializer(many=True), **errors(401)})
    def get(self, request):
        return Response(WebhookDeliverySerializer(selectors.webhook_deliveries_for(user=request.user), many=True).data)


class WebhookRedeliverView(APIView):
    @extend_schema(summary="Send a failed delivery again (as a new delivery)", request=None,
                   responses={202: WebhookDeliverySerializer, **errors(401, 404, 409)})
    def post(self, request, delivery_id):
        row = selectors.webhook_delivery_for(user=request.user, delivery_id=delivery_id)
        try:
            again = services.redeliver(delivery_row=row)
        except services.ServiceError as exc:
            raise Conflict(str(exc))
        return Response(WebhookDeliverySerializer(again).data, status=status.HTTP_202_ACCEPTED)
