from django.urls import path

from . import views

app_name = "translator"

urlpatterns = [
    path("", views.upload, name="upload"),
    path("gallery/", views.gallery, name="gallery"),
    path("gallery/<uuid:conversion_id>/", views.detail, name="detail"),
    path("gallery/<uuid:conversion_id>/delete", views.delete, name="delete"),
    path("gallery/<uuid:conversion_id>/cancel", views.cancel, name="cancel"),
    path("gallery/<uuid:conversion_id>/<str:kind>", views.conversion_file, name="file"),
    path("models/<slug:slug>/preview", views.model_preview, name="model_preview"),
]
