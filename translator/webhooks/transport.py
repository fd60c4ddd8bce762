"""One POST to a checked Target (translator.webhooks.addresses), with urllib3.

It connects to the address the check returned, never to a fresh DNS answer, and names the host
in the Host header and, for https, in SNI and the certificate check. No redirect is followed (a
redirect could point anywhere, including where the check would refuse) and nothing is retried
here: retries are the delivery row's (translator.services.webhooks).
"""
import logging
from dataclasses import dataclass

import urllib3
from urllib3.exceptions import HTTPError

log = logging.getLogger(__name__)

SNIPPET_BYTES = 1000


class SendError(OSError):
    """The request did not get an answer: connection refused or reset, a timeout, a TLS failure."""


@dataclass(frozen=True)
class Answer:
    status: int
    snippet: str  # the start of the body, as text
    location: str  # a redirect's Location header, if any


def post(target, *, body, headers, connect_timeout, read_timeout):
    """POST `body` to `target`; returns the Answer or raises SendError."""
    address = target.addresses[0]
    timeout = urllib3.Timeout(connect=connect_timeout, read=read_timeout)
    if target.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            address, target.port, timeout=timeout, retries=False, maxsize=1,
            server_hostname=target.host, assert_hostname=target.host, cert_reqs="CERT_REQUIRED",
        )
    else:
        pool = urllib3.HTTPConnectionPool(address, target.port, timeout=timeout, retries=False, maxsize=1)
    try:
        response = pool.urlopen(
            "POST", target.path, body=body, headers={**headers, "Host": target.host_header},
            redirect=False, retries=False, preload_content=False, assert_same_host=False,
        )
        try:
            snippet = response.read(SNIPPET_BYTES, decode_content=False)
        finally:
            response.release_conn()
        return Answer(
            status=response.status,
            snippet=snippet.decode("utf-8", "replace"),
            location=response.headers.get("Location", ""),
        )
    except HTTPError as exc:
        raise SendError(_reason(exc)) from None
    finally:
        pool.close()


def _reason(exc):
    """urllib3's error in a sentence for the delivery log (its text names our own pool object)."""
    text = str(getattr(exc, "reason", None) or exc)
    name = type(exc).__name__
    if "timed out" in text.lower() or "Timeout" in name:
        return f"timed out ({text})"[:500]
    return f"{name}: {text}"[:500]
