from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from . import generations, organise, shares, views, webhooks

app_name = "api"

router = SimpleRouter()
router.register("models", views.ArtModelViewSet, basename="model")
router.register("conversions", views.ConversionViewSet, basename="conversion")
router.register("generations", generations.GenerationViewSet, basename="generation")
router.register("albums", organise.AlbumViewSet, basename="album")
router.register("shares", shares.ShareLinkViewSet, basename="share")

urlpatterns = [
    path("", views.ApiRoot.as_view(), name="root"),
    path("auth/token/", views.TokenView.as_view(), name="token"),
    path("auth/signup/", views.SignupView.as_view(), name="signup"),
    path("me/", views.MeView.as_view(), name="me"),
    path("shared/<slug:token>/", shares.SharedView.as_view(), name="shared"),
    path("me/webhook/", webhooks.WebhookView.as_view(), name="webhook"),
    path("me/webhook/secret/", webhooks.WebhookSecretView.as_view(), name="webhook-secret"),
    path("me/webhook/test/", webhooks.WebhookTestView.as_view(), name="webhook-test"),
    path("me/webhook/deliveries/", webhooks.WebhookDeliveriesView.as_view(), name="webhook-deliveries"),
    path("me/webhook/deliveries/<uuid:delivery_id>/redeliver/", webhooks.WebhookRedeliverView.as_view(),
         name="webhook-redeliver"),
    path("schema/", SpectacularAPIView.as_view(permission_classes=[]), name="schema"),
    # The split view serves its start-up script from a URL of its own: no inline script, so the
    # page works under the site's Content-Security-Policy.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema", permission_classes=[]), name="docs"),
    *router.urls,
]
