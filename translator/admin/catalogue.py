from django.contrib import admin, messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from .. import services
from ..files import media_response
from ..models import ArtModel, ModelVersion


def _version_preview(version, size="small"):
    """size: "small" (lists) or "large" (the version's page); static/css/admin.css sizes them."""
    if not version.preview:
        return "—"
    url = reverse("admin:translator_modelversion_preview", args=[version.pk])
    return format_html('<a href="{}"><img src="{}" alt="preview" class="preview-{}"></a>', url, url, size)


class ModelVersionInline(admin.TabularInline):
    model = ModelVersion
    extra = 0
    fields = ("number", "published", "preview_thumb", "source", "labels", "created_at", "open")
    readonly_fields = fields
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False  # versions come from training runs and `manage.py import_model`

    @admin.display(description="Preview")
    def preview_thumb(self, obj):
        return _version_preview(obj)

    @admin.display(description="Published", boolean=True)
    def published(self, obj):
        return obj.art_model.current_version_id == obj.pk

    @admin.display(description="")
    def open(self, obj):
        return format_html('<a href="{}">Preview and publish…</a>', reverse("admin:translator_modelversion_change", args=[obj.pk]))


@admin.register(ArtModel)
class ArtModelAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "family", "is_active", "current_version", "sort_order")
    list_editable = ("is_active", "sort_order")
    list_filter = ("family", "is_active")
    search_fields = ("name", "slug", "description")
    prepopulated_fields = {"slug": ("name",)}
    inlines = [ModelVersionInline]
    readonly_fields = ("preview_image", "current_version")
    fields = ("name", "slug", "family", "description", "input_hint", "is_active", "sort_order", "preview",
              "preview_image", "current_version")

    @admin.display(description="Preview")
    def preview_image(self, obj):
        if not obj.preview:
            return "—"
        url = reverse("translator:model_preview", args=[obj.slug])
        return format_html('<img src="{}" alt="" class="preview-model">', url)


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ("__str__", "art_model", "number", "published", "preview_thumb", "device_class", "source", "created_at")
    list_filter = ("art_model__family", "art_model")
    readonly_fields = ("art_model", "number", "published", "preview_large", "labels_display", "source", "checkpoint",
                       "config", "created_at")
    # A version is what it was trained to be (publishing is an action); only where it runs changes.
    fields = ("device_class", "asks_for") + readonly_fields
    actions = ["publish_selected"]

    def get_readonly_fields(self, request, obj=None):
        return ("asks_for",) + self.readonly_fields

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        services.set_version_device_class(version=obj, device_class=form.cleaned_data["device_class"])

    def save_related(self, request, form, formsets, change):
        pass  # nothing related is edited here

    @admin.display(description="Conversions go to")
    def asks_for(self, obj):
        from .. import routing

        from ..models import DeviceClass

        label = DeviceClass(routing.version_device_class(obj)).label
        return f"the {routing.conversion_queue(art_model=obj.art_model, version=obj)} queue: {label.lower()}"

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/preview.jpg", wrap(self.preview), name="translator_modelversion_preview"),
            path("<int:pk>/publish/", wrap(self.publish_view), name="translator_modelversion_publish"),
        ] + super().get_urls()

    def preview(self, request, pk):
        version = get_object_or_404(ModelVersion, pk=pk)
        if not version.preview:
            raise Http404("This version has no preview.")
        return media_response(version.preview, what="preview", cache="private, max-age=3600")

    def publish_view(self, request, pk):
        version = get_object_or_404(ModelVersion, pk=pk)
        if request.method == "POST":
            self._publish(request, version)
        return redirect("admin:translator_modelversion_change", pk)

    def _publish(self, request, version):
        try:
            services.publish_version(version=version)
        except services.ServiceError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"{version} is published: users get it for “{version.art_model}” from now on.")

    @admin.action(description="Publish the selected version (or roll back to it)")
    def publish_selected(self, request, queryset):
        if queryset.count() != 1:
            messages.error(request, "Choose exactly one version to publish.")
            return
        self._publish(request, queryset.get())

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}),
                         "publish_url": reverse("admin:translator_modelversion_publish", args=[object_id])}
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description="Published", boolean=True)
    def published(self, obj):
        return obj.art_model.current_version_id == obj.pk

    @admin.display(description="Preview")
    def preview_thumb(self, obj):
        return _version_preview(obj)

    @admin.display(description="Outputs on the probe images")
    def preview_large(self, obj):
        return _version_preview(obj, size="large")

    @admin.display(description="Caveats")
    def labels_display(self, obj):
        if not obj.labels:
            return "—"
        return format_html_join("", '<p class="caveat">{}</p>', ((label,) for label in obj.labels))
