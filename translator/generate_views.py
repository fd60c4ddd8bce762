"""Web pages of generated images (StyleGAN2): the Generate page and its grids, a generated image's
page (save, download, delete, mix). Thin: selectors read, services write; every object is the
user's own, another user's is a 404."""
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import selectors, services
from .api.throttles import GenerateThrottle
from .files import generation_file_response
from .forms import GenerateForm, MixForm
from .web_throttle import refuse_if_over

# The truncation slider's range and step (the service accepts any value in 0..1).
SLIDER = {"min": 0, "max": 1, "step": 0.05}


def _model_cards(form):
    return [
        {"model": model, "side": selectors.generator_side(version=model.current_version)}
        for model in form.fields["art_model"].queryset
    ]


def _limits():
    return {
        "unsaved_hours": f"{settings.RESTYLE_UNSAVED_GENERATIONS_HOURS:g}",
        "max_seeds": settings.RESTYLE_MAX_SEEDS_PER_REQUEST,
    }


def _render_generate(request, form, *, grid=None, status=200):
    context = {"form": form, "cards": _model_cards(form), "slider": SLIDER, "grid": grid, **_limits()}
    return render(request, "translator/generate.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def generate(request):
    if request.method == "GET":
        form = GenerateForm(initial=_initial(request))
        return _render_generate(request, form)
    if refused := refuse_if_over(request, GenerateThrottle, what="generate requests"):
        return refused
    form = GenerateForm(request.POST)
    if form.is_valid():
        try:
            rows = services.create_grid(
                owner=request.user,
                art_model=form.cleaned_data["art_model"],
                seeds=form.cleaned_data["seeds"],
                surprise="surprise" in request.POST,
                truncation=form.cleaned_data["truncation"],
                noise_mode=form.cleaned_data["noise_mode"],
            )
        except ValidationError as exc:
            form.add_error(getattr(exc, "field", None) if getattr(exc, "field", None) in form.fields else None, exc)
        except services.ServiceError as exc:
            form.add_error("art_model", str(exc))
        else:
            return redirect("translator:grid", batch=rows[0].batch)
    return _render_generate(request, form, status=400)


def _initial(request, rows=None):
    """The form's values: the grid's own settings when it shows one."""
    if rows:
        first = rows[0]
        return {
            "art_model": first.art_model_id,
            "seeds": ",".join(str(r.seed) for r in rows if r.seed is not None),
            "truncation": f"{first.truncation:g}",
            "noise_mode": first.noise_mode,
        }
    first = GenerateForm.base_fields["art_model"].queryset.first()
    return {"art_model": first.pk if first else None}


@login_required
@require_GET
def grid(request, batch):
    rows = selectors.grid_for(user=request.user, batch=batch)
    return _render_generate(request, GenerateForm(initial=_initial(request, rows)), grid=rows)


@login_required
@require_GET
def generation(request, generation_id):
    item = selectors.generation_for(user=request.user, generation_id=generation_id)
    partners, photos = selectors.mix_partners_for(user=request.user, generation=item)
    return render(request, "translator/generation.html", {
        "generation": item, "partners": partners, "photos": photos, "mix_form": MixForm(), **_limits(),
        "missing_layers": services.missing_layers(version=item.model_version),
    })


@login_required
@require_GET
def generation_file(request, generation_id, kind):
    item = selectors.generation_for(user=request.user, generation_id=generation_id)
    return generation_file_response(item, kind, download="download" in request.GET)


@login_required
@require_POST
def save(request, generation_id):
    item = selectors.generation_for(user=request.user, generation_id=generation_id)
    try:
        services.save_generation(generation=item)
    except services.ServiceError as exc:
        messages.info(request, str(exc))
    else:
        messages.success(request, f"Saved to your gallery: {item.art_model.name}, {item.describe()}.")
    return redirect(_back(request, item))


def _back(request, item):
    """Where a form on the grid or the image's page returns to."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return item.get_absolute_url()


@login_required
@require_POST
def cancel(request, generation_id):
    item = selectors.generation_for(user=request.user, generation_id=generation_id)
    try:
        services.cancel_generation(generation=item)
    except services.ServiceError as exc:
        messages.info(request, str(exc))
    return redirect(_back(request, item))


@login_required
@require_POST
def delete(request, generation_id):
    item = selectors.generation_for(user=request.user, generation_id=generation_id)
    services.delete_generation(generation=item)
    messages.success(request, "Deleted. The generated image and its latent are gone.")
    return redirect("translator:gallery")


@login_required
@require_POST
def mix(request, generation_id):
    item = selectors.generation_for(user=request.user, generation_id=generation_id)
    if refused := refuse_if_over(request, GenerateThrottle, what="generate requests"):
        return refused
    form = MixForm(request.POST)
    partners, photos = selectors.mix_partners_for(user=request.user, generation=item)
    if form.is_valid():
        try:
            mixed = services.create_mix(
                owner=request.user, art_model=item.art_model, source_a=item,
                source_b=_mix_source(request, form.cleaned_data), layers=form.cleaned_data["layers"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        except services.ServiceError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect(mixed)
    return render(request, "translator/generation.html", {
        "generation": item, "partners": partners, "photos": photos, "mix_form": form, **_limits(),
        "missing_layers": services.missing_layers(version=item.model_version),
    }, status=400)


def _mix_source(request, data):
    """The chosen source B: a seed, or one of the user's images or projected photos (404 if not theirs)."""
    kind, _, ident = data["source"].partition(":")
    if kind == "generation":
        return selectors.generation_for(user=request.user, generation_id=_uuid(ident))
    if kind == "conversion":
        return selectors.conversion_with_latent_for(user=request.user, conversion_id=_uuid(ident))
    seed = (data.get("seed") or "").strip()
    if not seed.isdigit():
        error = ValidationError("Type a seed (a whole number) to take the styles from.", code="invalid")
        error.field = "seed"
        raise error
    return int(seed)


def _uuid(text):
    import uuid

    from django.http import Http404

    try:
        return uuid.UUID(text)
    except ValueError:
        raise Http404("No such image.")

