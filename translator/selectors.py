"""Reads: every query that returns user data is filtered by its owner here."""
from django.shortcuts import get_object_or_404

from .models import ArtModel, Conversion


def available_models():
    """Catalogue entries a user may pick: active and with a version to run."""
    return ArtModel.objects.filter(is_active=True, current_version__isnull=False).select_related(
        "current_version"
    )


def conversions_for(*, user):
    return Conversion.objects.filter(owner=user).select_related("art_model", "photo")


def conversion_for(*, user, conversion_id):
    """The user's own conversion, or Http404: another user's job does not exist for them."""
    return get_object_or_404(conversions_for(user=user), id=conversion_id)
