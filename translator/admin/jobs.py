from django.contrib import admin

from .. import services
from ..models import Conversion, Generation, Photo


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


@admin.register(Generation)
class GenerationAdmin(admin.ModelAdmin):
    """Users' generated images, to look into: they are made on the Generate page or through the
    API, never here, so there is no add, and every field is read-only. Deleting one here goes
    through the service, so its image, thumbnail and latent files go with it."""

    list_display = ("id", "owner", "model_version", "kind", "seed", "truncation", "status", "saved", "created_at")
    list_filter = ("status", "kind", "saved", "noise_mode", "art_model")
    list_select_related = ("owner", "model_version__art_model")
    search_fields = ("id", "owner__username", "seed")
    date_hierarchy = "created_at"
    readonly_fields = tuple(f.name for f in Generation._meta.fields)

    def has_add_permission(self, request):
        return False

    def delete_model(self, request, obj):
        services.delete_generation(generation=obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            services.delete_generation(generation=obj)
