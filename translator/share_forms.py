"""The form that makes a share link (the detail page's and the album page's "Share" box). The
choices are checked again by services.create_share_link, which the REST API shares."""
from django import forms

from .services.sharing import EXPIRY_CHOICES


class ShareLinkForm(forms.Form):
    expiry = forms.ChoiceField(
        label="Expires", choices=EXPIRY_CHOICES, initial="never", widget=forms.RadioSelect,
        error_messages={"required": "Choose when the link expires.",
                        "invalid_choice": "Choose when the link expires: never, in 1, 7 or 30 days, or on a date."},
    )
    expires_on = forms.DateField(
        label="Date", required=False, widget=forms.DateInput(attrs={"type": "date"}),
        help_text="With “At the end of a date”: the link works to the end of this day.",
        error_messages={"invalid": "Enter the date as YYYY-MM-DD."},
    )
    include_original = forms.BooleanField(
        label="Include the original photo (without its camera data)", required=False
    )
    show_owner = forms.BooleanField(label="Show my user name on the shared page", required=False)

    def __init__(self, *args, for_album=False, **kwargs):
        super().__init__(*args, **kwargs)
        if for_album:  # an album's link shows its results only
            del self.fields["include_original"]
