import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from .. import selectors
from ..models import Conversion


def _own_albums(request):
    if request is None or not request.user.is_authenticated:
        return selectors.albums_for(user=None).none()
    return selectors.albums_for(user=request.user)


@extend_schema_field(OpenApiTypes.INT)
class AlbumIdFilter(django_filters.ModelChoiceFilter):
    """An album, named by its id in the query (the schema says integer)."""


class ConversionFilter(django_filters.FilterSet):
    model = django_filters.CharFilter(field_name="art_model__slug", help_text="A model's slug, e.g. `wave`.")
    status = django_filters.ChoiceFilter(choices=Conversion.Status.choices)
    created_after = django_filters.IsoDateTimeFilter(
        field_name="created_at", lookup_expr="gte", help_text="ISO 8601, e.g. 2026-11-24T10:00:00Z."
    )
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    # Organising (the gallery's filters): the querying is selectors.narrow_conversions.
    album = AlbumIdFilter(
        queryset=_own_albums, method="filter_album", help_text="One of your albums' id: its conversions only."
    )
    favourite = django_filters.BooleanFilter(method="filter_favourite", help_text="true: starred ones only.")
    q = django_filters.CharFilter(method="filter_q", max_length=100,
                                  help_text="Part of the photo's file name, any case.")
    ordering = django_filters.ChoiceFilter(
        method="filter_ordering", choices=[(key, words) for key, (words, _) in selectors.ORDERINGS.items()],
        help_text="newest (the default), oldest, name (the photo's file name, A-Z) or model (its name).",
    )

    class Meta:
        model = Conversion
        fields = ["model", "status", "created_after", "created_before", "album", "favourite", "q", "ordering"]

    def filter_album(self, queryset, name, value):
        return selectors.narrow_conversions(rows=queryset, album=value, ordering=None)

    def filter_favourite(self, queryset, name, value):
        if value is None:
            return queryset
        return selectors.narrow_conversions(rows=queryset, ordering=None).filter(favourite=value)

    def filter_q(self, queryset, name, value):
        return selectors.narrow_conversions(rows=queryset, q=value, ordering=None)

    def filter_ordering(self, queryset, name, value):
        return selectors.narrow_conversions(rows=queryset, ordering=value)
