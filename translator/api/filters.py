import django_filters

from ..models import Conversion


class ConversionFilter(django_filters.FilterSet):
    model = django_filters.CharFilter(field_name="art_model__slug", help_text="A model's slug, e.g. `wave`.")
    status = django_filters.ChoiceFilter(choices=Conversion.Status.choices)
    created_after = django_filters.IsoDateTimeFilter(
        field_name="created_at", lookup_expr="gte", help_text="ISO 8601, e.g. 2026-11-24T10:00:00Z."
    )
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Conversion
        fields = ["model", "status", "created_after", "created_before"]
