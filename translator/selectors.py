"""Reads: every query that returns user data is filtered by its owner here."""
from django.shortcuts import get_object_or_404

from .models import ArtModel, Conversion


def available_models():
    """Catalogue entries a user may pick: active and with a version to run."""
    return ArtModel.objects.filter(is_active=True, current_version__isnull=False).select_related(
        "current_version"
    )


def conversions_for(*, user):
    return Conversion.objects.filter(owner=user).select_related("art_model", "photo", "model_version")


def conversion_for(*, user, conversion_id):
    """The user's own conversion, or Http404: another user's job does not exist for them."""
    return get_object_or_404(conversions_for(user=user), id=conversion_id)


def restyle_models(*, conversion):
    """What "Try another style" offers for `conversion`: every available model but its own, and
    models that paint with a style image only when the conversion has one to reuse."""
    from .models import STYLE_IMAGE_FAMILIES

    models = available_models().exclude(pk=conversion.art_model_id)
    if conversion.style_image_id is None:
        models = models.exclude(family__in=STYLE_IMAGE_FAMILIES)
    return models


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


# --- share links ---------------------------------------------------------------------------------

# One answer for every token that opens nothing (unknown, revoked, expired, its thing deleted), so
# a visitor cannot tell which: the same 404 page for all.
SHARE_NOT_FOUND = "This link does not exist, or it no longer does."


def share_links_for(*, user):
    from .models import ShareLink

    return ShareLink.objects.filter(owner=user).select_related(
        "conversion__art_model", "conversion__photo", "album"
    )


def share_link_for(*, user, link_id):
    """The user's own share link, or Http404."""
    return get_object_or_404(share_links_for(user=user), id=link_id)


def live_share_link(*, token):
    """The link `token` names if it opens now (not revoked, not expired), or Http404."""
    from django.db.models import Q
    from django.http import Http404
    from django.utils import timezone

    from .models import ShareLink

    link = (
        ShareLink.objects.filter(token=token, revoked_at__isnull=True)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))
        .select_related("owner", "conversion__art_model", "conversion__photo", "album")
        .first()
    )
    if link is None:
        raise Http404(SHARE_NOT_FOUND)
    return link


def _shareable(conversions):
    return conversions.filter(status=Conversion.Status.SUCCEEDED).exclude(result="")


def shared_album_items(*, link):
    """The finished results in the link's album now, newest addition first: an item taken out
    of the album, or deleted, is no longer shared."""
    return _shareable(Conversion.objects.filter(album_items__album=link.album_id)).select_related(
        "art_model"
    ).order_by("-album_items__added_at", "-created_at")


def shared_conversion(*, link, conversion_id=None):
    """The conversion a live link shows: an item link's own (conversion_id None), or one that
    is in an album link's album now; Http404 otherwise (another album's item, a removed one)."""
    from django.http import Http404

    if link.is_album:
        if conversion_id is None:
            raise Http404(SHARE_NOT_FOUND)
        return get_object_or_404(shared_album_items(link=link), id=conversion_id)
    if conversion_id is not None:
        raise Http404(SHARE_NOT_FOUND)
    return get_object_or_404(_shareable(Conversion.objects.select_related("art_model", "photo")), id=link.conversion_id)



# --- organising the gallery: sort, filter, search, albums --------------------------------------

# The gallery's sort choices and what they order by; each ends with newest first, so equal keys
# keep a stable order across pages.
ORDERINGS = {
    "newest": ("Newest first", ("-created_at", "-id")),
    "oldest": ("Oldest first", ("created_at", "id")),
    "name": ("Name A–Z", ("photo_name", "-created_at", "-id")),
    "model": ("Model", ("art_model__name", "-created_at", "-id")),
}
PERIODS = {"week": "This week", "month": "This month"}


def period_start(*, period, now=None):
    """When "this week" (Monday 00:00) or "this month" (the 1st, 00:00) began, in the site's time zone."""
    from datetime import timedelta

    from django.utils import timezone

    today = timezone.localtime(now or timezone.now()).replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "week":
        return today - timedelta(days=today.weekday())
    if period == "month":
        return today.replace(day=1)
    raise ValueError(f"unknown period {period!r}")


def filter_conversions(*, user, **narrowing):
    """The user's conversions, narrowed and sorted as the gallery asks (see narrow_conversions),
    with their places in the queue."""
    return narrow_conversions(rows=with_queue_places(conversions_for(user=user)), **narrowing)


def narrow_conversions(
    *, rows, ordering="newest", model=None, album=None, favourite=False, q="", since=None, until=None
):
    """`rows` (an owner-scoped queryset of conversions) narrowed and sorted: the gallery's form
    and the API's list filters both come here.

    model: a catalogue entry (or its slug); album: an album of the same owner; favourite:
    starred only; q: part of the photo's file name, any case; since/until: aware datetimes,
    until exclusive; ordering: a key of ORDERINGS (None leaves the order alone).
    """
    from django.db.models.functions import Lower

    if model:
        rows = rows.filter(art_model__slug=model) if isinstance(model, str) else rows.filter(art_model=model)
    if album:
        rows = rows.filter(album_items__album=album)
    if favourite:
        rows = rows.filter(favourite=True)
    if q and q.strip():
        rows = rows.filter(photo__original_name__icontains=q.strip())
    if since:
        rows = rows.filter(created_at__gte=since)
    if until:
        rows = rows.filter(created_at__lt=until)
    if ordering is None:
        return rows
    _, order = ORDERINGS.get(ordering) or ORDERINGS["newest"]
    return rows.annotate(photo_name=Lower("photo__original_name")).order_by(*order)


def models_in_gallery(*, user):
    """The catalogue entries the user has conversions of (the model filter's choices)."""
    return ArtModel.objects.filter(conversions__owner=user).distinct().order_by("name")


def albums_for(*, user):
    """The user's albums with `item_count`, by name."""
    from django.db.models import Count

    from .models import Album

    return Album.objects.filter(owner=user).annotate(item_count=Count("album_items")).order_by("name", "id")


def album_for(*, user, album_id):
    """The user's own album, or Http404: another user's album does not exist for them."""
    return get_object_or_404(albums_for(user=user), id=album_id)


def album_conversions(*, album):
    """An album's conversions, last added first, with their places in the queue."""
    return with_queue_places(conversions_for(user=album.owner)).filter(album_items__album=album).order_by(
        "-album_items__added_at", "-created_at"
    )


def albums_of(*, conversion):
    """The albums (of its owner) a conversion is in."""
    return albums_for(user=conversion.owner).filter(album_items__conversion=conversion)


def selected_conversions(*, user, ids):
    """The user's conversions among `ids` (a bulk selection), newest first; ids that are not
    the user's, or not conversions at all, are not there."""
    import uuid

    valid = []
    for value in ids:
        try:
            valid.append(uuid.UUID(str(value)))
        except ValueError:
            continue
    return conversions_for(user=user).filter(id__in=valid).order_by("-created_at", "-id")


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


# --- queue positions (batch uploads: "3rd in the queue") ---------------------------------------


def queue_position(*, conversion):
    """Where a queued conversion waits: 1 when it is next on its queue, None when it is not queued.

    It counts every job on the same queue (every user's: it is one queue) still queued that
    started waiting before it. `queued_at`, not `created_at`: a job the sweeper hands back to
    the queue gets a new message, behind the others, and a new `queued_at`. Ties (one batch in
    one clock tick) go by id, so two jobs never share a place. A row from `with_queue_places`
    has the count already (no query).
    """
    if conversion.status != Conversion.Status.QUEUED:
        return None
    ahead = getattr(conversion, "queue_ahead", None)
    if ahead is None:
        ahead = _waiting_ahead(queue=conversion.queue, queued_at=conversion.queued_at, id=conversion.id).count()
    return ahead + 1


def _waiting_ahead(*, queue, queued_at, id):
    from django.db.models import Q

    return Conversion.objects.filter(queue=queue, status=Conversion.Status.QUEUED).filter(
        Q(queued_at__lt=queued_at) | Q(queued_at=queued_at, id__lt=id)
    )


def with_queue_places(rows):
    """`rows` with `queue_ahead` on each queued conversion (the jobs waiting before it; see
    queue_position), counted by the database in the same query: a page of tiles asks once,
    not once per queued tile."""
    from django.db.models import Case, Count, IntegerField, OuterRef, Subquery, When
    from django.db.models.functions import Coalesce

    ahead = (
        _waiting_ahead(queue=OuterRef("queue"), queued_at=OuterRef("queued_at"), id=OuterRef("id"))
        .order_by().values("queue").annotate(n=Count("id")).values("n")
    )
    return rows.annotate(queue_ahead=Case(
        When(status=Conversion.Status.QUEUED, then=Coalesce(Subquery(ahead, output_field=IntegerField()), 0)),
        default=None, output_field=IntegerField(),
    ))
