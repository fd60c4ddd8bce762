"""Settings for the test run: everything under var/test, and a Redis port of the run's own.

The integration tests start a real redis-server on that port and real worker processes, which
inherit these variables, so a `make run` site on the same machine is never touched.
"""
import os
import socket
from pathlib import Path


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_var = Path(__file__).resolve().parent.parent / "var" / "test"
os.environ.setdefault("RESTYLE_VAR_DIR", str(_var))
os.environ.setdefault("RESTYLE_REDIS_URL", f"redis://127.0.0.1:{_free_port()}/0")

from .settings import *  # noqa: E402,F401,F403

# Fast hashing: tests create many users.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405  (whitenoise warns without it)
# Unit tests run without Redis; throttling is exercised on this process's memory instead. A
# test that starts a whole site (tests/e2e/stack.py) names its Redis cache explicitly.
if not os.environ.get("RESTYLE_CACHE_URL"):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
