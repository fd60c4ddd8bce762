"""How a delivery is signed, and how a receiver checks it (the README's "Webhooks" shows the same).

    X-Restyle-Timestamp: 1767225600
    X-Restyle-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>" keyed with the secret>

The timestamp is inside the signed text, so a captured request cannot be replayed later with a
fresh timestamp: a receiver refuses a signature whose timestamp is older than a few minutes.
"""
import hashlib
import hmac
import secrets
import time

SIGNATURE_HEADER = "X-Restyle-Signature"
TIMESTAMP_HEADER = "X-Restyle-Timestamp"
DELIVERY_HEADER = "X-Restyle-Delivery"
EVENT_HEADER = "X-Restyle-Event"
DEFAULT_TOLERANCE_SECONDS = 300


def new_secret():
    return "whsec_" + secrets.token_urlsafe(32)


def signature(*, secret, timestamp, body):
    """The header value for `body` (bytes) sent at `timestamp` (whole seconds)."""
    signed = str(int(timestamp)).encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def verify(*, secret, body, timestamp, signature_header, now=None, tolerance=DEFAULT_TOLERANCE_SECONDS):
    """True when `signature_header` signs `body` with `secret` at `timestamp` (header text), and
    the timestamp is within `tolerance` seconds of `now`. What a receiver does."""
    try:
        sent_at = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs((time.time() if now is None else now) - sent_at) > tolerance:
        return False
    return hmac.compare_digest(signature(secret=secret, timestamp=sent_at, body=body), signature_header or "")
