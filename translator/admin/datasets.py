from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.defaultfilters import filesizeformat
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from .. import services
from ..models import Dataset
from ..services.datasets import sample_thumbnail_name


class DatasetForm(forms.ModelForm):
    class Meta:
        model = Dataset
        fields = ["name", "family", "archive", "server_path"]

    def clean(self):
        data = super().clean()
        archive, server_path = data.get("archive"), data.get("server_path", "").strip()
        if bool(archive) == bool(server_path):
            raise ValidationError("Give either a .zip archive or a server folder, not both.")
        if server_path:
            try:
                services.allowed_server_folder(server_path)
            except ValidationError as exc:
                self.add_error("server_path", exc)
        return data


@admin.register(Dataset)
class DatasetAdmin(admin.ModelAdmin):
    form = DatasetForm
    list_display = ("name", "family", "status", "summary", "file_count", "created_at")
    list_filter = ("family", "status")
    search_fields = ("name",)
    readonly_fields = ("status", "summary", "problem_list", "note_list", "sample_images", "folder", "file_count",
                       "size", "created_by", "created_at", "checked_at")
    actions = ["check_again"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["name", "family", "archive", "server_path"]
        return ["name", "family", "status", "summary", "problem_list", "note_list", "sample_images", "folder",
                "server_path", "file_count", "size", "created_by", "created_at", "checked_at"]

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields + (("family", "server_path") if obj else ())

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        data = form.cleaned_data
        created = services.create_dataset(
            name=data["name"], family=data["family"], archive=data.get("archive"),
            server_path=data.get("server_path", "").strip(), created_by=request.user,
        )
        obj.pk = created.pk
        messages.info(request, "The dataset is being checked; this page shows the result when it is done.")

    def delete_model(self, request, obj):
        services.delete_dataset_files(dataset=obj)
        super().delete_model(request, obj)

    def get_urls(self):
        return [
            path("<int:pk>/sample/<int:index>/", self.admin_site.admin_view(self.sample), name="translator_dataset_sample"),
            path("<int:pk>/check/", self.admin_site.admin_view(self.check_view), name="translator_dataset_check"),
        ] + super().get_urls()

    def sample(self, request, pk, index):
        """A thumbnail of one of the dataset's sample images (staff only)."""
        dataset = get_object_or_404(Dataset, pk=pk)
        if index >= len(dataset.samples):
            raise Http404("No such sample.")
        try:
            handle = default_storage.open(sample_thumbnail_name(dataset, index), "rb")
        except FileNotFoundError:
            raise Http404("The sample's thumbnail is not in storage; check the dataset again to make it.")
        return FileResponse(handle, content_type="image/jpeg")

    def check_view(self, request, pk):
        if request.method == "POST":
            services.recheck_dataset(dataset=get_object_or_404(Dataset, pk=pk))
            messages.info(request, "Checking the dataset again.")
        return redirect("admin:translator_dataset_change", pk)

    @admin.action(description="Check the selected datasets again")
    def check_again(self, request, queryset):
        for dataset in queryset:
            services.recheck_dataset(dataset=dataset)
        messages.info(request, f"Checking {queryset.count()} dataset(s) again.")

    @admin.display(description="Contents")
    def summary(self, obj):
        if obj.status == Dataset.Status.CHECKING:
            return "being checked…"
        return ", ".join(f"{n} {what}" for what, n in obj.counts.items()) or "—"

    @admin.display(description="Problems")
    def problem_list(self, obj):
        if obj.status == Dataset.Status.CHECKING:
            return "—"
        if not obj.problems:
            return mark_safe('<span class="dataset-ready">None: the dataset is ready to train on.</span>')
        return format_html('<ul class="dataset-problems">{}</ul>', format_html_join("", "<li>{}</li>", ((p,) for p in obj.problems)))

    @admin.display(description="Notes")
    def note_list(self, obj):
        """What the family's check found worth a look without stopping training (StyleGAN2: count,
        sizes, aspect ratio and crop, duplicates)."""
        if obj.status == Dataset.Status.CHECKING or not obj.notes:
            return "—"
        return format_html('<ul class="dataset-notes">{}</ul>', format_html_join("", "<li>{}</li>", ((n,) for n in obj.notes)))

    @admin.display(description="Samples")
    def sample_images(self, obj):
        return format_html_join(
            "",
            '<img src="{}" alt="{}" title="{}" class="dataset-sample">',
            ((reverse("admin:translator_dataset_sample", args=[obj.pk, i]), name, name) for i, name in enumerate(obj.samples)),
        ) or "—"

    @admin.display(description="Size")
    def size(self, obj):
        return filesizeformat(obj.size_bytes)  # "48.0 KB", not "0.0 MB"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "check_url": reverse("admin:translator_dataset_check", args=[object_id])}
        return super().change_view(request, object_id, form_url, extra_context)
