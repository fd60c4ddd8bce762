"""Pages that organise a gallery: favourites, albums, and actions on many tiles at once.

Thin like the other views: selectors read (owner-scoped, so another user's album or photo is a
404), services write, forms only check what was sent.
"""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import selectors, services, zips
from .organise_forms import AlbumForm, BulkForm

ALBUM_PAGE_SIZE = 24


def _back(request, default="translator:gallery"):
    """Where a form posted from a gallery page returns to: its own `next`, if it is ours."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return redirect(target)
    return redirect(default)


def _wants_json(request):
    return "application/json" in request.headers.get("Accept", "")


@login_required
@require_POST
def favourite(request, conversion_id):
    conversion = selectors.conversion_for(user=request.user, conversion_id=conversion_id)
    value = request.POST.get("favourite", "")
    if value not in ("0", "1"):
        if _wants_json(request):
            return JsonResponse({"error": "Send favourite=1 to star it or favourite=0 to unstar it."}, status=400)
        messages.error(request, "Send favourite=1 to star it or favourite=0 to unstar it.")
        return _back(request)
    services.set_favourite(conversion=conversion, favourite=value == "1")
    if _wants_json(request):
        return JsonResponse({"favourite": conversion.favourite})
    return _back(request)


@login_required
@require_http_methods(["GET", "POST"])
def albums(request):
    """The list of the user's albums with their counts, and the form that makes a new one."""
    form = AlbumForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                album = services.create_album(owner=request.user, name=form.cleaned_data["name"])
            except services.ServiceError as exc:
                form.add_error("name", str(exc))
            else:
                messages.success(request, f"Album “{album.name}” made. Select photos in the gallery to add them.")
                return redirect(album)
        status = 400
    return render(request, "translator/albums.html",
                  {"albums": selectors.albums_for(user=request.user), "form": form}, status=status)


@login_required
@require_GET
def album(request, album_id):
    album = selectors.album_for(user=request.user, album_id=album_id)
    page = Paginator(selectors.album_conversions(album=album), ALBUM_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "translator/album.html", {
        "album": album, "page": page, "rename_form": AlbumForm(initial={"name": album.name}),
        "albums": selectors.albums_for(user=request.user),
    })


@login_required
@require_POST
def album_rename(request, album_id):
    album = selectors.album_for(user=request.user, album_id=album_id)
    form = AlbumForm(request.POST)
    if form.is_valid():
        try:
            services.rename_album(album=album, name=form.cleaned_data["name"])
        except services.ServiceError as exc:
            form.add_error("name", str(exc))
        else:
            messages.success(request, f"Renamed to “{album.name}”.")
            return redirect(album)
    page = Paginator(selectors.album_conversions(album=album), ALBUM_PAGE_SIZE).get_page(1)
    return render(request, "translator/album.html", {
        "album": album, "page": page, "rename_form": form, "albums": selectors.albums_for(user=request.user),
    }, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def album_delete(request, album_id):
    album = selectors.album_for(user=request.user, album_id=album_id)
    if request.method == "POST":
        name = album.name
        services.delete_album(album=album)
        messages.success(request, f"Album “{name}” deleted. Its photos are still in your gallery.")
        return redirect("translator:albums")
    return render(request, "translator/album_confirm_delete.html", {"album": album})


@login_required
@require_POST
def add_to_album(request, conversion_id):
    """From a photo's page: put it in one of the user's albums, or in a new one named here."""
    conversion = selectors.conversion_for(user=request.user, conversion_id=conversion_id)
    form = BulkForm(_with(request.POST, action="add", ids=[str(conversion.id)]), user=request.user)
    if not form.is_valid():
        messages.error(request, form.first_error())
        return redirect(conversion)
    try:
        target = _target_album(request, form)
    except services.ServiceError as exc:
        messages.error(request, str(exc))
        return redirect(conversion)
    added = services.add_to_album(album=target, conversions=[conversion])
    messages.success(request, f"Added to “{target.name}”." if added else f"It is already in “{target.name}”.")
    return redirect(conversion)


def _with(data, **values):
    data = data.copy()
    for key, value in values.items():
        if isinstance(value, list):
            data.setlist(key, value)
        else:
            data[key] = value
    return data


def _target_album(request, form):
    if form.cleaned_data.get("album"):
        return form.cleaned_data["album"]
    return services.create_album(owner=request.user, name=form.cleaned_data["new_album"])


@login_required
@require_POST
def bulk(request):
    """One action on the tiles selected in the gallery or an album: delete (after a confirmation
    page), add to an album, remove from the album, download as a zip."""
    form = BulkForm(request.POST, user=request.user)
    if not form.is_valid():
        return _refuse(request, form.first_error())
    chosen = list(selectors.selected_conversions(user=request.user, ids=form.ids))
    if not chosen:
        # Ids that are not the user's are not there: as for one photo, a 404 in words.
        return _refuse(request, "None of the selected photos exists (any more).", status=404)
    action = form.cleaned_data["action"]
    if action == "zip":
        return _zip(request, chosen, originals=form.cleaned_data["originals"])
    if action == "delete":
        if not form.cleaned_data["confirmed"]:
            return render(request, "translator/bulk_confirm_delete.html",
                          {"conversions": chosen, "next": request.POST.get("next", "")})
        count = services.delete_conversions(conversions=chosen)
        messages.success(request, f"Deleted {count} photo{'s' if count != 1 else ''} and {'their' if count != 1 else 'its'} results.")
        return _back(request)
    if action == "add":
        try:
            target = _target_album(request, form)
        except services.ServiceError as exc:
            return _refuse(request, str(exc))
        added = services.add_to_album(album=target, conversions=chosen)
        messages.success(request, f"Added {added} to “{target.name}”"
                         + (f" ({len(chosen) - added} already there)." if added < len(chosen) else "."))
        return _back(request)
    source = form.cleaned_data["from_album"]
    removed = services.remove_from_album(album=source, conversions=chosen)
    messages.success(request, f"Removed {removed} from “{source.name}”. They are still in your gallery.")
    return _back(request)


def _zip(request, chosen, *, originals):
    try:
        entries = zips.check_selection(chosen, originals=originals)
    except zips.ZipRefused as exc:
        return _refuse(request, str(exc))
    response = StreamingHttpResponse(zips.stream(entries), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="restyle-{timezone.localdate():%Y-%m-%d}.zip"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


def _refuse(request, message, status=400):
    """A bulk request that cannot be carried out: the page says why, and nothing changed."""
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        back = ""
    return render(request, "translator/organise_refused.html", {"message": message, "back": back}, status=status)

