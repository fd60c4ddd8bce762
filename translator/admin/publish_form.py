"""The publish page's form: what users will see of a model, prefilled from its catalogue entry.
services.publish_version checks the same things again (it is also called without this form)."""
from django import forms
from django.urls import reverse

from .. import services
from ..models import ArtModel

_CARD_LABELS = {
    services.CARD_KEEP: "Keep the model's card picture",
    services.CARD_PROBES: "Use this version's outputs on the probe images",
}


class PublishForm(forms.Form):
    name = forms.CharField(
        max_length=ArtModel._meta.get_field("name").max_length,
        error_messages={"required": "Give the model a name: it is the title of its card on the Convert page."},
    )
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One or two sentences users read on the Convert page.",
        error_messages={"required": "Give the model a description: users read it on the Convert page."},
    )
    input_hint = forms.CharField(
        label="Input hint",
        max_length=ArtModel._meta.get_field("input_hint").max_length,
        help_text="What input works best, e.g. “a portrait, face centred” or “a facade label map”.",
        error_messages={"required": "Say what input works best: it is shown on the model's card."},
    )
    card = forms.ChoiceField(
        label="Card picture", widget=forms.RadioSelect,
        error_messages={"required": "Choose the card picture users see on the Convert page."},
    )

    def __init__(self, *args, version, **kwargs):
        art_model = version.art_model
        kwargs.setdefault("initial", {
            "name": art_model.name, "description": art_model.description, "input_hint": art_model.input_hint,
        })
        super().__init__(*args, **kwargs)
        available = services.card_choices(version=version)
        self.fields["card"].choices = [(choice, _CARD_LABELS[choice]) for choice in available]
        if available:
            self.fields["card"].initial = available[0]
        # The pictures beside each choice, for the template.
        self.card_urls = {
            services.CARD_KEEP: reverse("admin:translator_modelversion_card", args=[version.pk]),
            services.CARD_PROBES: reverse("admin:translator_modelversion_preview", args=[version.pk]),
        }
        self.no_card = not available
