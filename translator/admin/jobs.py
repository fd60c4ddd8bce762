from django.contrib import admin

from ..models import Conversion, Photo


@admin.register(Conversion)
class ConversionAdmin(admin.ModelAdmin):
    list_display = ("id", "owner", "art_model", "status", "created_at", "run_seconds")
    list_filter = ("status", "art_model")
    search_fields = ("id", "owner__username")
    readonly_fields = [f.name for f in Conversion._meta.fields]


@admin.register(Photo)
class PhotoAdmin(admin.ModelAdmin):
    list_display = ("id", "owner", "original_name", "format", "width", "height", "created_at")
    readonly_fields = [f.name for f in Photo._meta.fields]
