"""Reading settings from the environment, through django-environ.

`env` is a django-environ `Env` made strict, whose every refusal names the variable: a value
that is not what its variable must be stops start-up with ImproperlyConfigured saying which
variable, what it must be and what it was.

    env.int("RESTYLE_MIN_SIDE", default=16, minimum=1)
    env.float("RESTYLE_JOB_LEASE_SECONDS", default=30, above=0)
    env.bool("RESTYLE_DEBUG", default=False)
    env.choice("RESTYLE_INFERENCE_DTYPE", default="fp32", choices=("fp32", "bf16", "fp16"))
    env.list("RESTYLE_ALLOWED_HOSTS", default=["localhost"])
    env.url("RESTYLE_REDIS_URL", default=None, schemes=("redis", "rediss"))

Where it differs from plain django-environ, and why:
- a bad value is an ImproperlyConfigured naming the variable (django-environ raises a bare
  ValueError naming neither);
- a boolean is one of a few words, anything else is refused (django-environ reads every unknown
  word, "ture" included, as false); a number is only a number ("30s" is refused, not read as 30);
- a variable set to an empty string counts as unset, so `RESTYLE_X=` in a shell or a unit file
  never means "zero" or "false" by accident;
- values are taken literally: django-environ reads a value starting with `$` as the name of
  another variable, which would quietly change a secret key or a password that starts with `$`.
"""
import math
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import environ
from django.core.exceptions import ImproperlyConfigured

NOTSET = environ.Env.NOTSET
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})
WHAT = {int: "a whole number", float: "a number", bool: "1 or 0 (or true/false, yes/no, on/off)"}


def redacted(url):
    """The URL with its password replaced by ***, fit for an error message or a log line."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        userinfo, _, host = parts.netloc.rpartition("@")
        return urlunsplit(parts._replace(netloc=f"{userinfo.split(':', 1)[0]}:***@{host}"))
    except ValueError:
        return "(a URL that cannot be parsed)"


def boolean(text):
    word = str(text).strip().lower()
    if word in TRUE_WORDS | FALSE_WORDS:
        return word in TRUE_WORDS
    raise ValueError(text)


class Env(environ.Env):
    def get_value(self, var, cast=None, default=NOTSET, parse_default=False):
        raw = self.ENVIRON.get(var, "")
        if not raw.strip():
            if default is NOTSET:
                raise ImproperlyConfigured(f"Set the {var} environment variable")
            return default
        try:
            return self.parse_value(raw, cast)
        except ValueError:
            raise ImproperlyConfigured(f"{var} must be {WHAT.get(cast, 'readable')}, not {raw!r}") from None

    @classmethod
    def parse_value(cls, value, cast):
        if cast is bool:
            return boolean(value)
        if cast is float:
            number = float(value)
            if not math.isfinite(number):
                raise ValueError(value)
            return number
        if cast is list:
            return [item.strip() for item in value.split(",") if item.strip()]
        return super().parse_value(value, cast)

    def int(self, var, default=NOTSET, *, minimum=None, maximum=None):
        return _bounded(var, self.get_value(var, cast=int, default=default), minimum=minimum, maximum=maximum)

    def float(self, var, default=NOTSET, *, minimum=None, above=None):
        value = _bounded(var, self.get_value(var, cast=float, default=default), minimum=minimum)
        if value is not None and above is not None and not value > above:
            raise ImproperlyConfigured(f"{var} must be a number above {above:g}, not {value:g}")
        return value

    def list(self, var, cast=None, default=NOTSET):
        """Comma-separated; items are stripped and empty ones dropped."""
        return self.get_value(var, cast=list, default=default)

    def choice(self, var, default=NOTSET, *, choices):
        value = self.get_value(var, cast=str, default=default)
        if value is not None and value not in choices:
            raise ImproperlyConfigured(f"{var} must be one of {', '.join(choices)}, not {value!r}")
        return value

    def path(self, var, default=NOTSET, **kwargs):
        """A pathlib.Path (django-environ's own returns its Path class), or the default as given."""
        value = self.get_value(var, cast=str, default=default)
        return Path(value) if isinstance(value, str) else value

    def url(self, var, default=NOTSET, *, schemes):
        """A URL string whose scheme is one of `schemes` and whose port (if any) is a number."""
        value = self.get_value(var, cast=str, default=default)
        if value is not None:
            check_url(var, value, schemes=schemes)
        return value


def check_url(var, url, *, schemes):
    try:
        parts = urlsplit(url)
        if "," not in parts.netloc:  # a PostgreSQL cluster's host1:port1,host2:port2 has no one port
            parts.port  # noqa: B018  (raises ValueError for a port that is not a number in 0-65535)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{var} has a bad port ({exc}): {redacted(url)!r}") from None
    if parts.scheme not in schemes:
        starts = " or ".join(f"{s}://" for s in schemes)
        raise ImproperlyConfigured(f"{var} must be a URL starting with {starts}, not {redacted(url)!r}")


def _bounded(var, value, *, minimum=None, maximum=None):
    if value is not None and minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{var} must be at least {minimum:g}, not {value:g}")
    if value is not None and maximum is not None and value > maximum:
        raise ImproperlyConfigured(f"{var} must be at most {maximum:g}, not {value:g}")
    return value


env = Env()
