"""Rate limits. Counters live in the cache (Redis in production) so every web process shares them.
Rates are read from settings on each request, so tests and deployments can change them."""
import logging

from django.conf import settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

log = logging.getLogger(__name__)


class _FailOpen:
    """A broken cache must not turn uploads into server errors: log it and let the request in."""

    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except Exception:
            log.warning("rate limiting is unavailable (cache error); request allowed", exc_info=True)
            return True


class UploadThrottle(_FailOpen, UserRateThrottle):
    scope = "uploads"

    def get_rate(self):
        return settings.RESTYLE_UPLOAD_RATE


class SignupThrottle(_FailOpen, AnonRateThrottle):
    scope = "signup"

    def get_rate(self):
        return settings.RESTYLE_SIGNUP_RATE
