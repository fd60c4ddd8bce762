"""The account's webhook page: register or change the URL, see and replace the secret, send a
test event, read the delivery log and send a failed delivery again. Thin: selectors read,
services write; another user's delivery is a 404."""
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from . import selectors, services


class WebhookForm(forms.Form):
    url = forms.CharField(
        label="Receiver URL", max_length=2000,
        widget=forms.URLInput(attrs={"placeholder": "https://example.org/hooks/restyle", "autocomplete": "url"}),
    )


def _page(request, form, *, status=200):
    hook = selectors.webhook_for(user=request.user)
    context = {
        "form": form, "webhook": hook,
        "deliveries": selectors.webhook_deliveries_for(user=request.user) if hook else [],
        "allow_http": settings.RESTYLE_WEBHOOKS_ALLOW_HTTP, "allow_private": settings.RESTYLE_WEBHOOKS_ALLOW_PRIVATE,
    }
    return render(request, "translator/webhooks.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def webhooks(request):
    hook = selectors.webhook_for(user=request.user)
    if request.method == "GET":
        return _page(request, WebhookForm(initial={"url": hook.url} if hook else None))
    form = WebhookForm(request.POST)
    if form.is_valid():
        try:
            services.save_webhook(owner=request.user, url=form.cleaned_data["url"], site_url=request.build_absolute_uri("/"))
        except ValidationError as exc:
            form.add_error("url", exc.messages)
        else:
            messages.success(request, "Saved. Events of your conversions are sent to this URL, signed with the secret below.")
            return redirect("translator:webhooks")
    return _page(request, form, status=400)


def _own_webhook(request):
    hook = selectors.webhook_for(user=request.user)
    if hook is None:
        from django.http import Http404

        raise Http404("You have no webhook yet.")
    return hook


@login_required
@require_POST
def rotate_secret(request):
    services.rotate_secret(webhook=_own_webhook(request))
    messages.success(request, "A new secret is in use from now on; update your receiver.")
    return redirect("translator:webhooks")


@login_required
@require_POST
def send_test(request):
    try:
        services.send_test_event(webhook=_own_webhook(request))
    except services.ServiceError as exc:
        messages.info(request, str(exc))
    else:
        messages.success(request, "A test event is on its way; it shows in the log below.")
    return redirect("translator:webhooks")


@login_required
@require_POST
def remove(request):
    services.delete_webhook(webhook=_own_webhook(request))
    messages.success(request, "Removed. No more events are sent.")
    return redirect("translator:webhooks")


@login_required
@require_POST
def redeliver(request, delivery_id):
    row = selectors.webhook_delivery_for(user=request.user, delivery_id=delivery_id)
    try:
        services.redeliver(delivery_row=row)
    except services.ServiceError as exc:
        messages.info(request, str(exc))
    else:
        messages.success(request, "Sent again as a new delivery.")
    return redirect("translator:webhooks")
