"""The API's rate limits (translator.api.throttles) applied to the web pages: the same classes,
so the same counters. An upload through the site and one through the API spend one budget."""
import math

from django.shortcuts import render


def refuse_if_over(request, throttle_class, *, what, cost=1):
    """None while `request` is within the limit (and counts it, as `cost` jobs); otherwise a 429
    page saying when to try again, with Retry-After. `what` names what was refused, e.g. "uploads"."""
    throttle = throttle_class()
    allowed = throttle.allow_request(request, None) if cost == 1 else throttle.allow_jobs(request, cost)
    if allowed:  # fails open when the cache is down
        return None
    wait = max(1, math.ceil(throttle.wait() or 1))
    minutes = math.ceil(wait / 60)
    response = render(
        request, "429.html", {"what": what, "minutes": minutes, "limit": _in_words(throttle.get_rate(), what)}, status=429
    )
    response["Retry-After"] = str(wait)
    return response


def _in_words(rate, what):
    """"60/hour" -> "60 uploads per hour" (DRF reads only the period's first letter)."""
    count, period = rate.split("/")
    unit = {"s": "second", "m": "minute", "h": "hour", "d": "day"}[period[0]]
    return f"{count} {what.removesuffix('s') if count == '1' else what} per {unit}"
