"""Rate limits. Counters live in the cache (Redis in production) so every web process shares them.
Rates are read from settings on each request, so tests and deployments can change them."""
import logging

from django.conf import settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from ..services.delivery import Breaker

log = logging.getLogger(__name__)

cache_breaker = Breaker("the rate-limit cache")


class _FailOpen:
    """A broken or frozen cache must not turn uploads into server errors or hold them up: let
    the request in, and leave the cache alone for a few seconds before asking it again."""

    def allow_request(self, request, view):
        if cache_breaker.is_open:
            return True
        try:
            return super().allow_request(request, view)
        except Exception as exc:
            log.warning("rate limiting is unavailable (%s); request allowed", exc)
            cache_breaker.trip()
            return True


class UploadThrottle(_FailOpen, UserRateThrottle):
    scope = "uploads"

    def get_rate(self):
        return settings.RESTYLE_UPLOAD_RATE


class GenerateThrottle(_FailOpen, UserRateThrottle):
    scope = "generate"

    def get_rate(self):
        return settings.RESTYLE_GENERATE_RATE


class SignupThrottle(_FailOpen, AnonRateThrottle):
    scope = "signup"

    def get_rate(self):
        return settings.RESTYLE_SIGNUP_RATE
