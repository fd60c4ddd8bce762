from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from .models import ArtModel, Conversion, ModelVersion, Photo


class ModelVersionInline(admin.TabularInline):
    model = ModelVersion
    extra = 0
    fields = ("number", "checkpoint", "source", "created_at")
    readonly_fields = ("created_at",)


@admin.register(ArtModel)
class ArtModelAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "family", "is_active", "current_version", "sort_order")
    list_editable = ("is_active", "sort_order")
    list_filter = ("family", "is_active")
    search_fields = ("name", "slug", "description")
    prepopulated_fields = {"slug": ("name",)}
    inlines = [ModelVersionInline]
    readonly_fields = ("preview_image",)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "current_version":
            # Only this model's own versions can be made current.
            object_id = request.resolver_match.kwargs.get("object_id")
            kwargs["queryset"] = ModelVersion.objects.filter(art_model_id=object_id)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description="Preview")
    def preview_image(self, obj):
        if not obj.preview:
            return "—"
        url = reverse("translator:model_preview", args=[obj.slug])
        return format_html('<img src="{}" alt="" style="max-height:160px">', url)


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
