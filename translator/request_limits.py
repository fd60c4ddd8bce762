"""What a request is told when Django refuses to read it (too many files or fields, a body too
large, a malformed multipart envelope, a host not served here).

Django raises these as SuspiciousOperation while the body is parsed. Pages get them through
`handler400`, the API through its exception handler (DRF would otherwise answer 500): both use
the words and status codes below.
"""
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import (
    DisallowedHost,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)


@dataclass(frozen=True)
class Refusal:
    status: int
    code: str
    message: str


def _megabytes(n):
    return f"{n / (1024 * 1024):.0f} MB"


def refusal_for(exc):
    """The Refusal for a SuspiciousOperation, or None for anything else."""
    if isinstance(exc, TooManyFilesSent):
        return Refusal(
            400,
            "too_many_files",
            f"The request carries too many files; the limit is {settings.DATA_UPLOAD_MAX_NUMBER_FILES}. "
            f"Send at most {settings.RESTYLE_BATCH_MAX_PHOTOS} photos (and one style image, for models that take one).",
        )
    if isinstance(exc, TooManyFieldsSent):
        return Refusal(
            400,
            "too_many_fields",
            f"The request carries too many form fields; the limit is {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS}.",
        )
    if isinstance(exc, RequestDataTooBig):
        return Refusal(
            413,
            "too_large",
            f"The request is too large: its form fields may hold at most "
            f"{_megabytes(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)}, files aside. Send the photo as a file, "
            f"up to {_megabytes(settings.RESTYLE_MAX_UPLOAD_BYTES)}.",
        )
    if isinstance(exc, DisallowedHost):
        return Refusal(400, "bad_request", "This site is not served under that host name.")
    if isinstance(exc, SuspiciousOperation):
        return Refusal(400, "bad_request", "The request could not be read. Check what was sent and try again.")
    return None


def log_refusal(exc):
    """Django logs a SuspiciousOperation to django.security.<name>; DRF's path must do the same."""
    logging.getLogger(f"django.security.{type(exc).__name__}").warning("%s", exc)
