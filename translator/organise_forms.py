"""The gallery's sort, filter and search form, and the forms of albums and bulk actions.

They only read and check what was sent; the querying is selectors.narrow_conversions and the
writing is services.albums.
"""
from datetime import datetime, time, timedelta

from django import forms
from django.utils import timezone

from . import selectors


class GalleryFilterForm(forms.Form):
    """GET parameters of the gallery: q, sort, model, album, favourites, period, from, to."""

    q = forms.CharField(label="Search file names", required=False, max_length=100)
    sort = forms.ChoiceField(
        label="Sort", required=False, choices=[(key, words) for key, (words, _) in selectors.ORDERINGS.items()],
        error_messages={"invalid_choice": "Sort by newest, oldest, name or model."},
    )
    model = forms.ChoiceField(label="Model", required=False,
                              error_messages={"invalid_choice": "You have no photos converted with that model."})
    album = forms.ModelChoiceField(
        label="Album", required=False, queryset=None, empty_label="All albums",
        error_messages={"invalid_choice": "You have no such album."},
    )
    favourites = forms.BooleanField(label="Favourites only", required=False)
    period = forms.ChoiceField(
        label="When", required=False, choices=[("", "Any time"), *selectors.PERIODS.items()],
        error_messages={"invalid_choice": "Choose this week or this month."},
    )
    date_from = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}),
                                error_messages={"invalid": "Give the first day as YYYY-MM-DD."})
    date_to = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}),
                              error_messages={"invalid": "Give the last day as YYYY-MM-DD."})

    def __init__(self, data, *, user):
        super().__init__(data)
        self.user = user
        self.fields["model"].choices = [("", "All models")] + [
            (m.slug, m.name) for m in selectors.models_in_gallery(user=user)
        ]
        self.fields["album"].queryset = selectors.albums_for(user=user)

    def clean(self):
        cleaned = super().clean()
        first, last = cleaned.get("date_from"), cleaned.get("date_to")
        if first and last and first > last:
            self.add_error("date_to", "The last day comes before the first.")
        return cleaned

    @property
    def active(self):
        """Whether anything narrows the list (an empty result then says so, not "nothing yet")."""
        data = getattr(self, "cleaned_data", {})
        return any(data.get(name) for name in ("q", "model", "album", "favourites", "period", "date_from", "date_to"))

    def narrowing(self):
        """The keyword arguments of selectors.narrow_conversions; call after is_valid()."""
        data = self.cleaned_data
        since = until = None
        if data.get("period"):
            since = selectors.period_start(period=data["period"])
        if data.get("date_from"):
            start = timezone.make_aware(datetime.combine(data["date_from"], time.min))
            since = max(since, start) if since else start
        if data.get("date_to"):
            # The last day counts whole.
            until = timezone.make_aware(datetime.combine(data["date_to"] + timedelta(days=1), time.min))
        return {
            "ordering": data.get("sort") or "newest",
            "model": data.get("model") or None,
            "album": data.get("album"),
            "favourite": data.get("favourites", False),
            "q": data.get("q", ""),
            "since": since,
            "until": until,
        }


class AlbumForm(forms.Form):
    name = forms.CharField(label="Album name", max_length=100, error_messages={
        "required": "Give the album a name.", "max_length": "An album's name has at most 100 characters.",
    })


class BulkForm(forms.Form):
    """A bulk action on the gallery's or an album's selected tiles."""

    ACTIONS = {"delete": "Delete", "add": "Add to album", "remove": "Remove from album", "zip": "Download zip"}

    action = forms.ChoiceField(choices=list(ACTIONS.items()),
                               error_messages={"required": "Choose what to do with the selected photos.",
                                               "invalid_choice": "That is not something the gallery can do."})
    album = forms.ModelChoiceField(queryset=None, required=False, error_messages={"invalid_choice": "You have no such album."})
    new_album = forms.CharField(required=False, max_length=100,
                                error_messages={"max_length": "An album's name has at most 100 characters."})
    from_album = forms.ModelChoiceField(queryset=None, required=False,
                                        error_messages={"invalid_choice": "You have no such album."})
    originals = forms.BooleanField(required=False)
    confirmed = forms.BooleanField(required=False)

    def __init__(self, data, *, user):
        super().__init__(data)
        self.fields["album"].queryset = selectors.albums_for(user=user)
        self.fields["from_album"].queryset = selectors.albums_for(user=user)
        self.ids = data.getlist("ids") if hasattr(data, "getlist") else list(data.get("ids") or [])

    def clean(self):
        cleaned = super().clean()
        action = cleaned.get("action")
        if not self.ids:
            raise forms.ValidationError("Select at least one photo first.")
        if action == "add" and not cleaned.get("album") and not (cleaned.get("new_album") or "").strip():
            self.add_error("album", "Choose the album to add them to, or name a new one.")
        if action == "remove" and not cleaned.get("from_album"):
            self.add_error("from_album", "Remove them from which album?")
        return cleaned

    def first_error(self):
        for errors in self.errors.values():
            return errors[0]
        return "That request could not be read."
