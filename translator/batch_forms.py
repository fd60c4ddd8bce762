"""The upload page's form: several photos (one `image` part each), one or several models.

The field names stay `image` and `art_model`, so a client (or a test) that sends one photo
and one model, as the page did before batches, is still understood. The files themselves and
the counts are checked by services.create_batch, which the REST API shares.
"""
from django import forms

from . import output_sizes, selectors

ACCEPT = "image/jpeg,image/png,image/webp"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """A list of uploaded files (Django's documented pattern for `<input type=file multiple>`)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ACCEPT}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, (list, tuple)):
            files = [single(d, initial) for d in data if d]
            if not files and self.required:
                raise forms.ValidationError(self.error_messages["required"], code="required")
            return files
        return [single(data, initial)] if data or self.required else []


class BatchUploadForm(forms.Form):
    image = MultipleFileField(
        label="Photos",
        help_text="JPEG, PNG or WebP; several at once if you like.",
        error_messages={"required": "Choose a photo to upload."},
    )
    style_image = forms.FileField(
        label="Style image",
        required=False,
        help_text="For models that paint in the style of an image of yours: one for the whole batch.",
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
    )
    art_model = forms.ModelMultipleChoiceField(
        queryset=selectors.available_models(),
        label="Models",
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": "Choose a model.",
            "invalid_choice": "That model is not available. Choose another one.",
            "invalid_pk_value": "That model is not available. Choose another one.",
        },
    )
    # Not required: a client that leaves it out gets the default, as the API's do.
    output_size = forms.TypedChoiceField(
        label="Result size",
        choices=output_sizes.CHOICES,
        coerce=output_sizes.parse,
        initial=str(output_sizes.DEFAULT),
        required=False,
        empty_value=output_sizes.DEFAULT,
        help_text="The result's long side; a photo smaller than that keeps its own size. "
        "Projections into a StyleGAN2 model are always the model's own size.",
        error_messages={"invalid_choice": output_sizes.refusal("%(value)s")},
    )
