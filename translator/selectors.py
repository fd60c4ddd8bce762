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


# --- generated images ---------------------------------------------------------------------------


def generator_models():
    """Models the Generate page offers: available, of a generator family (StyleGAN2)."""
    from .models import GENERATOR_FAMILIES

    return available_models().filter(family__in=GENERATOR_FAMILIES)


def generator_side(*, version):
    """The side in pixels of `version`'s images when known (from its settings, or an image it has
    made), else None: shown on the Generate page's model cards."""
    from .models import Generation

    side = (version.config or {}).get("resolution") if isinstance(version.config, dict) else None
    if side:
        return side
    return (
        Generation.objects.filter(model_version=version, side__isnull=False).values_list("side", flat=True).first()
    )


def generations_for(*, user):
    from .models import Generation

    return Generation.objects.filter(owner=user).select_related("art_model", "model_version")


def saved_generations_for(*, user):
    return generations_for(user=user).filter(saved=True)


def generation_for(*, user, generation_id):
    """The user's own generated image, or Http404: another user's does not exist for them."""
    return get_object_or_404(generations_for(user=user), id=generation_id)


def grid_for(*, user, batch):
    """The images of one Generate request, in the order they were asked for; Http404 if none."""
    from django.http import Http404

    rows = list(generations_for(user=user).filter(batch=batch).order_by("created_at"))
    if not rows:
        raise Http404("There is no such grid (unsaved images are removed after a while).")
    return rows


def mix_partners_for(*, user, generation):
    """What `generation` can be mixed with: the user's other finished, saved images and finished
    projected photos of the same model version."""
    others = saved_generations_for(user=user).filter(
        model_version=generation.model_version, status="succeeded"
    ).exclude(latent="").exclude(pk=generation.pk)
    photos = conversions_for(user=user).filter(
        model_version=generation.model_version, status=Conversion.Status.SUCCEEDED
    ).exclude(latent="")
    return others, photos


def conversion_with_latent_for(*, user, conversion_id):
    """The user's own projected photo (a finished conversion with a latent), or Http404."""
    return get_object_or_404(
        conversions_for(user=user).filter(status=Conversion.Status.SUCCEEDED).exclude(latent=""), id=conversion_id
    )


# --- webhooks ---------------------------------------------------------------------------------

DELIVERY_LOG_SIZE = 50


def webhook_for(*, user):
    """The user's webhook, or None: an account has at most one."""
    from .models import Webhook

    return Webhook.objects.filter(owner=user).first()


def webhook_deliveries_for(*, user, limit=DELIVERY_LOG_SIZE):
    """The user's latest deliveries, newest first (the delivery log)."""
    from .models import WebhookDelivery

    return WebhookDelivery.objects.filter(webhook__owner=user).order_by("-created_at")[:limit]


def webhook_delivery_for(*, user, delivery_id):
    """One of the user's own deliveries, or Http404: another user's does not exist for them."""
    from .models import WebhookDelivery

    return get_object_or_404(WebhookDelivery.objects.filter(webhook__owner=user).select_related("webhook"), id=delivery_id)
