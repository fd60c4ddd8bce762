"""Share links: the owner's pages (make one, list them, revoke one) and the shared pages and
files anyone with the link may open, logged in or not (/s/<token>/...).

Every shared request checks its token again (selectors.live_share_link), so a revoked or expired
link stops at once, for pages and files alike; what cannot be shown answers the site's 404 page
with one message, whatever the reason. Shared answers are never stored by a cache, send no
Referer onwards (the token is in the URL) and ask search engines to stay away.
"""
import functools

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views import defaults
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import selectors, services
from .share_forms import ShareLinkForm
from .share_files import SHARE_CACHE, shared_file_response, shared_original_response

SHARE_HEADERS = {
    "Cache-Control": SHARE_CACHE,
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow, noarchive",
}


def shared(view):
    """A view of the public /s/ pages: any Http404 becomes the one 'no such link' page, and
    every answer carries SHARE_HEADERS."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            response = view(request, *args, **kwargs)
        except Http404:
            response = defaults.page_not_found(request, Http404(selectors.SHARE_NOT_FOUND))
        for name, value in SHARE_HEADERS.items():
            response[name] = value
        return response

    return wrapped


# --- the owner's pages ---------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def new_share(request):
    """Make a link for ?conversion=<id> or ?album=<id> (the detail and album pages post here)."""
    conversion, album = _target(request)
    form = ShareLinkForm(request.POST or None, for_album=album is not None)
    if request.method == "POST" and form.is_valid():
        try:
            link = services.create_share_link(owner=request.user, conversion=conversion, album=album, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(getattr(exc, "field", None) if getattr(exc, "field", None) in form.fields else None, exc)
        else:
            messages.success(request, f"Link made: {request.build_absolute_uri(link.get_absolute_url())}")
            return redirect(f"{_shares_url()}#share-{link.id}")
    status = 400 if form.errors else 200
    return render(
        request, "translator/share_new.html", {"form": form, "conversion": conversion, "album": album}, status=status
    )


def _target(request):
    """The owner's conversion or album the request names (404 for another user's or none)."""
    data = request.POST if request.method == "POST" else request.GET
    conversion_id, album_id = data.get("conversion"), data.get("album")
    if bool(conversion_id) == bool(album_id):
        raise Http404("Name one result or one album to share.")
    try:
        if conversion_id:
            return selectors.conversion_for(user=request.user, conversion_id=conversion_id), None
        return None, selectors.album_for(user=request.user, album_id=int(album_id))
    except (ValidationError, ValueError):  # not a UUID / not a number: no such thing
        raise Http404("There is no such item of yours.")


def _shares_url():
    from django.urls import reverse

    return reverse("translator:shares")


@login_required
@require_GET
def shares(request):
    links = selectors.share_links_for(user=request.user)
    return render(request, "translator/shares.html", {"links": links})


@login_required
@require_POST
def revoke_share(request, link_id):
    link = selectors.share_link_for(user=request.user, link_id=link_id)
    services.revoke_share_link(link=link)
    messages.success(request, "Revoked. The link opens nothing now.")
    return redirect(f"{_shares_url()}#share-{link.id}")


# --- what anyone with the link sees --------------------------------------------------------------


@shared
@require_GET
def shared_page(request, token):
    link = selectors.live_share_link(token=token)
    if link.is_album:
        items = list(selectors.shared_album_items(link=link))
        context = {"link": link, "items": items}
        template = "translator/shared_album.html"
    else:
        context = {"link": link, "conversion": selectors.shared_conversion(link=link)}
        template = "translator/shared_item.html"
    services.record_share_view(link=link)
    return render(request, template, context)


@shared
@require_GET
def shared_file(request, token, kind):
    """An item link's result, thumbnail, or (when included) original."""
    link = selectors.live_share_link(token=token)
    conversion = selectors.shared_conversion(link=link)
    download = "download" in request.GET
    if kind == "original":
        if not link.include_original:
            raise Http404
        return shared_original_response(conversion, download=download)
    return shared_file_response(conversion, kind, download=download)


@shared
@require_GET
def shared_album_item(request, token, conversion_id):
    link = selectors.live_share_link(token=token)
    conversion = selectors.shared_conversion(link=link, conversion_id=conversion_id)
    return render(request, "translator/shared_item.html", {"link": link, "conversion": conversion})


@shared
@require_GET
def shared_album_file(request, token, conversion_id, kind):
    """The result or thumbnail of an item in an album link's album now (never an original)."""
    link = selectors.live_share_link(token=token)
    conversion = selectors.shared_conversion(link=link, conversion_id=conversion_id)
    return shared_file_response(conversion, kind, download="download" in request.GET)
