from django import forms
from django.contrib.auth.forms import UserCreationForm

from . import selectors


class RestyleForm(forms.Form):
    """"Try another style" on a conversion's page: the model to convert the same stored photo with."""

    art_model = forms.ModelChoiceField(
        queryset=selectors.available_models(),
        label="Try another style",
        empty_label=None,
        error_messages={
            "required": "Choose a model.",
            "invalid_choice": "That model is not available. Choose another one.",
        },
    )


class SignupForm(UserCreationForm):
    class Meta(UserCreationForm.Meta):
        fields = ("username", "email")


class GenerateForm(forms.Form):
    """The Generate page. Seeds, truncation and noise mode are checked by services.create_grid,
    which the REST API shares, so both refuse the same input with the same words."""

    art_model = forms.ModelChoiceField(
        queryset=selectors.generator_models(),
        label="Model",
        widget=forms.RadioSelect,
        empty_label=None,
        error_messages={"required": "Choose a model.", "invalid_choice": "That model is not available. Choose another one."},
    )
    seeds = forms.CharField(label="Seeds", required=False, max_length=500, initial="0-7",
                            help_text="Whole numbers: a range like 0-7, a list like 1,5,9, or both.")
    truncation = forms.CharField(label="Truncation", initial="0.7")
    noise_mode = forms.ChoiceField(label="Noise", choices=(), initial="const")

    def __init__(self, *args, **kwargs):
        from .models import Generation

        super().__init__(*args, **kwargs)
        self.fields["noise_mode"].choices = Generation.NoiseMode.choices


class MixForm(forms.Form):
    """The Mix form of a generated image's page: what to take styles from, and which styles."""

    source = forms.CharField(label="Take styles from")  # "seed", "generation:<id>" or "conversion:<id>"
    seed = forms.CharField(label="Seed", required=False)
    layers = forms.ChoiceField(label="Which styles", choices=(), initial="coarse")

    def __init__(self, *args, **kwargs):
        from .models import Generation

        super().__init__(*args, **kwargs)
        self.fields["layers"].choices = Generation.Layers.choices
