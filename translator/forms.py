from django import forms
from django.contrib.auth.forms import UserCreationForm

from . import selectors


class ConversionForm(forms.Form):
    """The upload page. The file itself is checked by services.create_conversion, which the
    REST API shares, so both refuse the same files with the same words."""

    image = forms.FileField(
        label="Photo",
        help_text="JPEG, PNG or WebP.",
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
        error_messages={"required": "Choose a photo to upload."},
    )
    style_image = forms.FileField(
        label="Style image",
        required=False,
        help_text="For models that paint in the style of an image of yours: a painting, a texture.",
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )
    art_model = forms.ModelChoiceField(
        queryset=selectors.available_models(),
        label="Model",
        widget=forms.RadioSelect,
        empty_label=None,
        error_messages={
            "required": "Choose a model.",
            "invalid_choice": "That model is not available. Choose another one.",
        },
    )


class SignupForm(UserCreationForm):
    class Meta(UserCreationForm.Meta):
        fields = ("username", "email")
