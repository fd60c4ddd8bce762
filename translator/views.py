"""Web pages. Thin: they read through selectors and write through services."""
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import SuspiciousOperation, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import selectors, services
from .api.throttles import SignupThrottle, UploadThrottle
from .files import conversion_file_response, media_response
from .batch_forms import BatchUploadForm
from .forms import RestyleForm, SignupForm
from .models import Conversion
from .organise_forms import GalleryFilterForm
from .request_limits import refusal_for
from .web_throttle import refuse_if_over

GALLERY_PAGE_SIZE = 24


@login_required
@require_http_methods(["GET", "POST"])
def upload(request):
    """One photo or several, each with one model or several: a conversion per (photo, model)."""
    if request.method == "POST":
        form = BatchUploadForm(request.POST, request.FILES)
        if form.is_valid():
            uploads, art_models = form.cleaned_data["image"], list(form.cleaned_data["art_model"])
            try:
                services.check_batch_counts(photo_count=len(uploads), model_count=len(art_models))
            except ValidationError as exc:
                form.add_error(exc.field, exc)
            else:
                jobs = len(uploads) * len(art_models)
                # The limit counts conversions: a batch spends one per pair, the same budget as the API's.
                what = "uploads" if jobs == 1 else "conversions"
                if refused := refuse_if_over(request, UploadThrottle, what=what, cost=jobs):
                    return refused
                try:
                    conversions = services.create_batch(
                        owner=request.user, uploads=uploads, art_models=art_models,
                        style_upload=form.cleaned_data.get("style_image"),
                        output_long_side=form.cleaned_data["output_size"],
                    )
                except ValidationError as exc:
                    form.add_error(getattr(exc, "field", "image"), exc)
                except services.ServiceError as exc:
                    form.add_error("art_model", str(exc))
                else:
                    if len(conversions) == 1:
                        return redirect(conversions[0])
                    messages.success(request, f"{len(conversions)} conversions queued: {len(uploads)} "
                                     f"photo{'s' if len(uploads) != 1 else ''} × {len(art_models)} "
                                     f"model{'s' if len(art_models) != 1 else ''}.")
                    return redirect("translator:gallery")
        status = 400
    else:
        form = BatchUploadForm()
        status = 200
    limits = {
        "megabytes": round(settings.RESTYLE_MAX_UPLOAD_BYTES / (1024 * 1024)),
        "megapixels": round(settings.RESTYLE_MAX_PIXELS / 1_000_000),
        "photos": settings.RESTYLE_BATCH_MAX_PHOTOS,
        "jobs": settings.RESTYLE_BATCH_MAX_JOBS,
    }
    chosen = {str(pk) for pk in (form["art_model"].value() or [])}
    return render(request, "translator/upload.html", {"form": form, "limits": limits, "chosen": chosen}, status=status)


@login_required
@require_GET
def gallery(request):
    # Sort, filter and search (translator/organise_forms.py); a parameter it cannot read is a 400
    # that says which, with the form to put it right.
    filters = GalleryFilterForm(request.GET, user=request.user)
    valid = filters.is_valid()
    rows = selectors.filter_conversions(user=request.user, **filters.narrowing()) if valid else Conversion.objects.none()
    page = Paginator(rows, GALLERY_PAGE_SIZE).get_page(request.GET.get("page"))
    # Saved generated images (StyleGAN2) have a section of their own above the conversions.
    generated = Paginator(selectors.saved_generations_for(user=request.user), GALLERY_PAGE_SIZE).get_page(
        request.GET.get("generated")
    )
    return render(request, "translator/gallery.html", {
        "page": page, "generated": generated, "filters": filters, "albums": selectors.albums_for(user=request.user),
    }, status=200 if valid else 400)


@login_required
@require_GET
def detail(request, conversion_id):
    conversion = selectors.conversion_for(user=request.user, conversion_id=conversion_id)
    return _detail_page(request, conversion)


def _detail_page(request, conversion, *, restyle_form=None, refusal="", status=200):
    form = restyle_form or RestyleForm()
    form.fields["art_model"].queryset = selectors.restyle_models(conversion=conversion)
    return render(request, "translator/detail.html", {
        "conversion": conversion, "restyle_form": form, "refusal": refusal,
        "albums": selectors.albums_for(user=request.user),
        "conversion_albums": selectors.albums_of(conversion=conversion),
    }, status=status)


@login_required
@require_POST
def restyle(request, conversion_id):
    """Try another style: the same stored photo through another model, no upload."""
    conversion = selectors.conversion_for(user=request.user, conversion_id=conversion_id)
    if refused := refuse_if_over(request, UploadThrottle, what="conversions"):
        return refused
    form = RestyleForm(request.POST)
    form.fields["art_model"].queryset = selectors.restyle_models(conversion=conversion)
    if form.is_valid():
        try:
            new = services.restyle_conversion(
                owner=request.user, conversion=conversion, art_model=form.cleaned_data["art_model"]
            )
        except services.ServiceError as exc:
            form.add_error("art_model", str(exc))
        else:
            return redirect(new)
    return _detail_page(request, conversion, restyle_form=form, status=400)


@login_required
@require_POST
def run_again(request, conversion_id):
    """Repeat a conversion with the same inputs, model version, settings and seed."""
    conversion = selectors.conversion_for(user=request.user, conversion_id=conversion_id)
    if refused := refuse_if_over(request, UploadThrottle, what="conversions"):
        return refused
    try:
        new = services.run_again(owner=request.user, conversion=conversion)
    except services.ServiceError as exc:
        return _detail_page(request, conversion, refusal=str(exc), status=409)
    return redirect(new)


@login_required
@require_GET
def conversion_file(request, conversion_id, kind):
    """A conversion's original, result or thumbnail, to its owner only."""
    conversion = selectors.conversion_for(user=request.user, conversion_id=conversion_id)
    return conversion_file_response(conversion, kind, download="download" in request.GET)


@login_required
@require_POST
def cancel(request, conversion_id):
    conversion = selectors.conversion_for(user=request.user, conversion_id=conversion_id)
    try:
        services.cancel_conversion(conversion=conversion)
    except services.ServiceError as exc:
        messages.info(request, str(exc))
    # From a gallery tile: back to that gallery page, if `next` is one of ours.
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return redirect(target)
    return redirect(conversion)


@login_required
@require_http_methods(["GET", "POST"])
def delete(request, conversion_id):
    conversion = selectors.conversion_for(user=request.user, conversion_id=conversion_id)
    if request.method == "POST":
        services.delete_conversion(conversion=conversion)
        messages.success(request, "Deleted. The photo and its result are gone.")
        return redirect("translator:gallery")
    return render(request, "translator/confirm_delete.html", {"conversion": conversion})


@require_GET
def model_preview(request, slug):
    art_model = get_object_or_404(selectors.available_models(), slug=slug)
    if not art_model.preview:
        raise Http404("This model has no preview.")
    return media_response(art_model.preview, what="preview", cache="public, max-age=86400")


def bad_request(request, exception=None):
    """handler400 for pages: a request Django refused to read (too many files, too large), in words."""
    refusal = refusal_for(exception) or refusal_for(SuspiciousOperation())
    return render(request, "400.html", {"message": refusal.message}, status=refusal.status)


class LoginView(auth_views.LoginView):
    """Django's login page, answering 400 (not 200) when the credentials are refused."""

    redirect_authenticated_user = True

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)


@require_http_methods(["GET", "POST"])
def signup(request):
    if request.user.is_authenticated:
        return redirect("translator:upload")
    if request.method == "POST" and (refused := refuse_if_over(request, SignupThrottle, what="sign-ups")):
        return refused
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome, {user.username}. Upload your first photo.")
        return redirect("translator:upload")
    return render(
        request, "registration/signup.html", {"form": form}, status=400 if form.errors else 200
    )
