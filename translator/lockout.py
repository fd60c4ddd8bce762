"""What a client locked out by django-axes (too many failed logins) is told, and until when.

Axes counts failures per account and per address (config/settings.py, "Security"). The web login
and the admin's login get the page below through axes' middleware; the API's token view asks
`locked_until` itself and answers in the API's error format.
"""
import math

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off
from django.db.models import Max
from django.shortcuts import render
from django.utils import timezone


def locked_until(request, credentials=None):
    """When the lockout on this request's account or address is over at the latest: the cool-off
    after the newest failure that still counts (failures during a lockout are not counted)."""
    handler = AxesProxyHandler.get_implementation()
    AxesProxyHandler.update_request(request)
    newest = [
        attempts.aggregate(newest=Max("attempt_time"))["newest"]
        for attempts in handler.get_user_attempts(request, credentials)
    ]
    newest = max((t for t in newest if t is not None), default=timezone.now())
    return newest + get_cool_off(request)


def seconds_until(moment):
    return max(1, math.ceil((moment - timezone.now()).total_seconds()))


def message(until):
    minutes = math.ceil(seconds_until(until) / 60)
    local = timezone.localtime(until)
    return (
        f"Too many failed logins for this account or from this address. Try again after "
        f"{local:%H:%M} {local.tzname()} (in {minutes} minute{'s' if minutes != 1 else ''})."
    )


def lockout_response(request, original_response=None, credentials=None):
    """axes' AXES_LOCKOUT_CALLABLE: a page in the site's look, 429 with Retry-After."""
    until = locked_until(request, credentials)
    response = render(
        request,
        "registration/locked_out.html",
        {"message": message(until), "until": until},
        status=429,
    )
    response["Retry-After"] = str(seconds_until(until))
    return response
