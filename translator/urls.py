from django.urls import path

from . import generate_views, views, webhook_views

app_name = "translator"

urlpatterns = [
    path("", views.upload, name="upload"),
    path("gallery/", views.gallery, name="gallery"),
    path("gallery/<uuid:conversion_id>/", views.detail, name="detail"),
    path("gallery/<uuid:conversion_id>/delete", views.delete, name="delete"),
    path("gallery/<uuid:conversion_id>/cancel", views.cancel, name="cancel"),
    path("gallery/<uuid:conversion_id>/<str:kind>", views.conversion_file, name="file"),
    path("generate/", generate_views.generate, name="generate"),
    path("generate/<uuid:batch>/", generate_views.grid, name="grid"),
    path("generated/<uuid:generation_id>/", generate_views.generation, name="generation"),
    path("generated/<uuid:generation_id>/save", generate_views.save, name="generation_save"),
    path("generated/<uuid:generation_id>/cancel", generate_views.cancel, name="generation_cancel"),
    path("generated/<uuid:generation_id>/delete", generate_views.delete, name="generation_delete"),
    path("generated/<uuid:generation_id>/mix", generate_views.mix, name="generation_mix"),
    path("generated/<uuid:generation_id>/<str:kind>", generate_views.generation_file, name="generation_file"),
    path("account/webhooks/", webhook_views.webhooks, name="webhooks"),
    path("account/webhooks/secret", webhook_views.rotate_secret, name="webhook_secret"),
    path("account/webhooks/test", webhook_views.send_test, name="webhook_test"),
    path("account/webhooks/remove", webhook_views.remove, name="webhook_remove"),
    path("account/webhooks/deliveries/<uuid:delivery_id>/redeliver", webhook_views.redeliver, name="webhook_redeliver"),
    path("models/<slug:slug>/preview", views.model_preview, name="model_preview"),
]
