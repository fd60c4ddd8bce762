from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.template.defaultfilters import filesizeformat
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from .. import services
from ..files import media_response
from ..models import ArtModel, ModelExport, ModelVersion
from ..services import exports as export_services
from .publish_form import PublishForm


class _LinkedFile:
    """A stored file as ClearableFileInput shows it ("Currently: <a href=url>name</a>"), with
    our own URL in place of the storage's."""

    def __init__(self, value, url):
        self.value, self.url = value, url

    def __str__(self):
        return str(self.value)


class AdminLinkedFileInput(forms.ClearableFileInput):
    """A file input whose "Currently" link goes to an admin view that serves the file."""

    def __init__(self, *args, url, **kwargs):
        super().__init__(*args, **kwargs)
        self.url = url

    def format_value(self, value):
        value = super().format_value(value)
        return _LinkedFile(value, self.url) if self.is_initial(value) else value


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

    def get_urls(self):
        return [
            path("<int:pk>/card.jpg", self.admin_site.admin_view(self.card), name="translator_artmodel_card"),
        ] + super().get_urls()

    def card(self, request, pk):
        """The card picture, served by the admin: a hidden model's is not public, and the file
        field's own URL points at MEDIA_URL, which nothing serves."""
        art_model = get_object_or_404(ArtModel, pk=pk)
        if not self.has_view_permission(request, art_model):
            raise PermissionDenied
        if not art_model.preview:
            raise Http404("This model has no card picture.")
        return media_response(art_model.preview, what="card picture", cache="private, no-store")

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is not None and "preview" in form.base_fields:
            form.base_fields["preview"].widget = AdminLinkedFileInput(
                url=reverse("admin:translator_artmodel_card", args=[obj.pk]))
        return form

    @admin.display(description="Preview")
    def preview_image(self, obj):
        if not obj.preview:
            return "—"
        url = reverse("admin:translator_artmodel_card", args=[obj.pk])
        return format_html('<img src="{}" alt="The card picture of {}" class="preview-model">', url, obj.name)


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ("__str__", "art_model", "number", "published", "preview_thumb", "device_class", "source", "created_at")
    list_filter = ("art_model__family", "art_model")
    # The checkpoint is a link to the admin's own download view: the FileField's URL points at
    # MEDIA_URL, which nothing serves.
    readonly_fields = ("art_model", "number", "published", "preview_large", "labels_display", "source",
                       "checkpoint_file", "config", "created_at")
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
            path("<int:pk>/card.jpg", wrap(self.card), name="translator_modelversion_card"),
            path("<int:pk>/checkpoint/", wrap(self.checkpoint_download), name="translator_modelversion_checkpoint"),
            path("<int:pk>/export/", wrap(self.export_view), name="translator_modelversion_export"),
            path("<int:pk>/exports/<int:export_pk>/download/", wrap(self.export_download),
                 name="translator_modelversion_export_download"),
        ] + super().get_urls()

    def preview(self, request, pk):
        version = get_object_or_404(ModelVersion, pk=pk)
        if not version.preview:
            raise Http404("This version has no preview.")
        return media_response(version.preview, what="preview", cache="private, max-age=3600")

    def checkpoint_download(self, request, pk):
        version = get_object_or_404(ModelVersion.objects.select_related("art_model"), pk=pk)
        if not self.has_view_permission(request, version):
            raise PermissionDenied
        if not version.checkpoint:
            raise Http404(f"{version} has no checkpoint file.")
        return media_response(version.checkpoint, what="checkpoint", cache="private, no-store",
                              content_type="application/octet-stream", download=True,
                              filename=checkpoint_file_name(version))

    @admin.display(description="Checkpoint")
    def checkpoint_file(self, obj):
        if not obj.checkpoint:
            return "—"
        url = reverse("admin:translator_modelversion_checkpoint", args=[obj.pk])
        size = _stored_size(obj.checkpoint)
        return format_html('<a href="{}" download>Download {}</a>{}', url, checkpoint_file_name(obj),
                           f" ({filesizeformat(size)})" if size is not None else "")

    def card(self, request, pk):
        """The version's catalogue entry's card picture, for the publish page (a hidden entry's
        picture is not served by the public preview address)."""
        version = get_object_or_404(ModelVersion.objects.select_related("art_model"), pk=pk)
        if not version.art_model.preview:
            raise Http404("This model has no card picture.")
        return media_response(version.art_model.preview, what="card picture", cache="private, no-store")

    def publish_view(self, request, pk):
        """GET: the publish page, a form for what users see of the model (prefilled from the
        entry) and the card picture. POST: publish, or the page again with what is missing."""
        version = get_object_or_404(ModelVersion.objects.select_related("art_model"), pk=pk)
        if not self.has_change_permission(request, version):
            raise PermissionDenied
        if request.method == "POST":
            form = PublishForm(request.POST, version=version)
            if form.is_valid():
                try:
                    services.publish_version(version=version, **form.cleaned_data)
                except services.PublishRefused as exc:
                    for field, problem in exc.problems.items():
                        form.add_error(field if field in form.fields else None, problem)
                except services.ServiceError as exc:
                    form.add_error(None, str(exc))
                else:
                    messages.success(request, f"{version} is published: users get it for “{version.art_model}” "
                                     "from now on.")
                    return redirect("admin:translator_modelversion_change", pk)
            status = 400
        else:
            form, status = PublishForm(version=version), 200
        context = {
            **self.admin_site.each_context(request),
            "title": f"Publish {version}", "opts": self.model._meta, "original": version, "form": form,
            "is_current": version.art_model.current_version_id == version.pk,
            "change_url": reverse("admin:translator_modelversion_change", args=[version.pk]),
        }
        return TemplateResponse(request, "admin/translator/modelversion/publish.html", context, status=status)

    @admin.action(description="Publish the selected version (or roll back to it)…")
    def publish_selected(self, request, queryset):
        if queryset.count() != 1:
            messages.error(request, "Choose exactly one version to publish.")
            return None
        return redirect("admin:translator_modelversion_publish", queryset.get().pk)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}),
                         "publish_url": reverse("admin:translator_modelversion_publish", args=[object_id]),
                         **self._export_context(request, object_id)}
        return super().change_view(request, object_id, form_url, extra_context)

    # --- exports (ONNX, TorchScript) ------------------------------------------------------------

    def _export_context(self, request, object_id):
        version = ModelVersion.objects.select_related("art_model").filter(pk=object_id).first()
        if version is None:
            return {}
        return {
            "export_url": reverse("admin:translator_modelversion_export", args=[version.pk]),
            "export_form": ExportForm(),
            "export_refusal": export_services.export_refusal(version=version),
            "export_rows": [_export_row(e, version) for e in version.exports.select_related("version__art_model")],
        }

    def export_view(self, request, pk):
        version = get_object_or_404(ModelVersion.objects.select_related("art_model"), pk=pk)
        if not self.has_change_permission(request, version):
            raise PermissionDenied
        if request.method == "POST":
            form = ExportForm(request.POST)
            if not form.is_valid():
                for field, errors in form.errors.items():
                    messages.error(request, f"{form[field].label if field in form.fields else 'Export'}: {' '.join(errors)}")
            else:
                self._request_export(request, version, form.cleaned_data)
        return redirect(reverse("admin:translator_modelversion_change", args=[pk]) + "#exports")

    def _request_export(self, request, version, data):
        try:
            export = export_services.request_export(version=version, user=request.user, **data)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        except services.ServiceError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"The {export.get_format_display()} export at {export.width}x{export.height} "
                             "is queued; reload this page to see it finish.")

    def export_download(self, request, pk, export_pk):
        export = get_object_or_404(ModelExport.objects.select_related("version__art_model"), pk=export_pk, version_id=pk)
        if not self.has_view_permission(request, export.version):
            raise PermissionDenied
        if export.status != ModelExport.Status.SUCCEEDED or not export.file:
            raise Http404(f"This export has no file (it is {export.get_status_display().lower()}).")
        return media_response(export.file, what="export", cache="private, no-store",
                              content_type="application/octet-stream", download=True, filename=export.file_name())

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


def checkpoint_file_name(version):
    """What a downloaded checkpoint is called: the model's slug and the version, e.g. "wave-v3.safetensors"."""
    ext = version.checkpoint.name.rsplit(".", 1)[-1] if "." in version.checkpoint.name else "bin"
    return f"{version.art_model.slug}-v{version.number}.{ext}"


def _stored_size(field):
    """The file's size in the storage, or None when the storage cannot say (or lost it)."""
    try:
        return field.size
    except (OSError, NotImplementedError, ValueError):
        return None


# --- exports of a version (ONNX, TorchScript) ---------------------------------------------------


class ExportForm(forms.Form):
    """The version page's export form; the service checks the same bounds and the family."""

    format = forms.ChoiceField(choices=ModelExport.Format.choices, initial=ModelExport.Format.ONNX)
    width = forms.IntegerField(initial=512, min_value=export_services.MIN_SIDE, max_value=export_services.MAX_SIDE,
                               help_text="px")
    height = forms.IntegerField(initial=512, min_value=export_services.MIN_SIDE, max_value=export_services.MAX_SIDE,
                                help_text="px")


def _per_255(value):
    """A difference in 0..1 units as n/255 ("0.02/255"; "<0.01/255" for a tiny non-zero one)."""
    scaled = value * 255
    if 0 < scaled < 0.005:
        return "<0.01/255"
    return f"{scaled:.2f}/255"


def parity_text(export):
    """MAE and the largest difference from eager PyTorch, in /255 units, e.g. "0.02/255, max 0.4/255"."""
    if export.mae is None or export.max_abs is None:
        return ""
    return f"{_per_255(export.mae)}, max {_per_255(export.max_abs)}"


def _export_row(export, version):
    """One row of the version page's table of exports."""
    download = ""
    if export.status == ModelExport.Status.SUCCEEDED and export.file:
        download = reverse("admin:translator_modelversion_export_download", args=[version.pk, export.pk])
    return {"export": export, "parity": parity_text(export), "download": download,
            "when": export.finished_at or export.created_at}


@admin.register(ModelExport)
class ModelExportAdmin(admin.ModelAdmin):
    """Every export, read-only (they are asked for on a version's page); deleting one removes its file."""

    list_display = ("version", "format", "size", "status", "parity", "file_size", "requested_by", "created_at")
    list_filter = ("status", "format")
    readonly_fields = ("version", "format", "width", "height", "status", "download", "file_size", "parity", "seconds",
                       "error", "requested_by", "created_at", "started_at", "finished_at", "worker", "attempts", "queue")
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="Input (W×H)")
    def size(self, obj):
        return f"{obj.width}×{obj.height}"

    @admin.display(description="Parity with PyTorch")
    def parity(self, obj):
        return parity_text(obj) or "—"

    @admin.display(description="File size")
    def file_size(self, obj):
        return filesizeformat(obj.size_bytes) if obj.size_bytes is not None else "—"

    @admin.display(description="File")
    def download(self, obj):
        url = _export_row(obj, obj.version)["download"]
        return format_html('<a href="{}">{}</a>', url, obj.file_name()) if url else "—"
