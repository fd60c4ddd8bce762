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
    """Counts conversions: a plain upload is one, a batch one per (photo, model) pair."""

    scope = "uploads"

    def get_rate(self):
        return settings.RESTYLE_UPLOAD_RATE

    def allow_jobs(self, request, count):
        """True (and `count` jobs spent) when `count` more fit in the budget now; a batch that does
        not fit spends nothing. Fails open like allow_request."""
        if cache_breaker.is_open:
            return True
        try:
            return self._allow_jobs(request, count)
        except Exception as exc:
            log.warning("rate limiting is unavailable (%s); request allowed", exc)
            cache_breaker.trip()
            return True

    def _allow_jobs(self, request, count):
        # SimpleRateThrottle.allow_request, with `count` entries in the history instead of one.
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, None)
        if self.key is None:
            return True
        self.history = self.cache.get(self.key, [])
        self.now = self.timer()
        while self.history and self.history[-1] <= self.now - self.duration:
            self.history.pop()
        if len(self.history) + count > self.num_requests:
            return self.throttle_failure()
        self.history[:0] = [self.now] * count
        self.cache.set(self.key, self.history, self.duration)
        return True


class GenerateThrottle(_FailOpen, UserRateThrottle):
    scope = "generate"

    def get_rate(self):
        return settings.RESTYLE_GENERATE_RATE


class SignupThrottle(_FailOpen, AnonRateThrottle):
    scope = "signup"

    def get_rate(self):
        return settings.RESTYLE_SIGNUP_RATE
