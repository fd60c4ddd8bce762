"""Which webhook URLs may be called, checked when a webhook is saved and again before every send.

A webhook makes the server send requests to an address a user chose, so the address must not be
one of the server's own neighbours (this machine, the private network, a cloud's metadata
service at 169.254.169.254): the host name is resolved and every address it resolves to must be
a public internet address. The check returns those addresses and the sender connects to the
first of them, so a DNS answer that changes between the check and the connection (rebinding)
cannot move the request elsewhere.
"""
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

MAX_URL_LENGTH = 2000


class RefusedURL(ValueError):
    """The URL may not be called; the message says why, in words for the owner."""


class UnresolvedHost(OSError):
    """The host name has no address now (DNS down or the name unknown): a later try may work."""


@dataclass(frozen=True)
class Target:
    """A checked URL: what to connect to, and what to tell the server we asked for."""

    scheme: str
    host: str  # the name as written (sent as the Host header and for TLS: SNI and the certificate)
    port: int
    path: str  # path and query
    addresses: tuple  # the checked addresses, in the resolver's order

    @property
    def host_header(self):
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


def parse(url):
    """Check the URL's form (scheme, credentials, host, port) without resolving it. Returns
    (scheme, host, port, path). Raises RefusedURL."""
    url = (url or "").strip()
    if not url:
        raise RefusedURL("Enter the URL that should receive the events.")
    if len(url) > MAX_URL_LENGTH:
        raise RefusedURL(f"The URL is longer than {MAX_URL_LENGTH} characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise RefusedURL("The URL's port must be a number from 1 to 65535.") from None
    allowed = ("https", "http") if settings.RESTYLE_WEBHOOKS_ALLOW_HTTP else ("https",)
    if parts.scheme not in allowed:
        if parts.scheme == "http":
            raise RefusedURL("The URL must start with https:// (this site does not send events over plain http).")
        raise RefusedURL("The URL must start with https://.")
    if parts.username is not None or parts.password is not None:
        raise RefusedURL(
            "The URL must not contain a user name or password; the signature header tells your "
            "receiver that a request comes from us."
        )
    host = parts.hostname
    if not host:
        raise RefusedURL("The URL has no host name.")
    if port == 0:
        raise RefusedURL("The URL's port must be a number from 1 to 65535.")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return parts.scheme, host, port or (443 if parts.scheme == "https" else 80), path


def refusal(address):
    """Why `address` (an ip_address) may not be called, in words; None if it may."""
    if settings.RESTYLE_WEBHOOKS_ALLOW_PRIVATE:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    for test, words in (
        ("is_unspecified", "an unspecified address"),
        ("is_loopback", "a loopback address (the server itself)"),
        ("is_link_local", "a link-local address (such as a cloud's metadata service)"),
        ("is_multicast", "a multicast address"),
        ("is_private", "a private network address"),
        ("is_reserved", "a reserved address"),
    ):
        if getattr(address, test):
            return words
    if not address.is_global:
        return "not a public internet address"
    return None


def resolve(host, port):
    """Every address `host` resolves to (an address literal resolves to itself)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnresolvedHost(f"the host name {host} could not be resolved ({exc})") from None
    addresses = []
    for *_, sockaddr in infos:
        address = ipaddress.ip_address(sockaddr[0].split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise UnresolvedHost(f"the host name {host} has no address")
    return addresses


def check(url):
    """Parse, resolve and check `url`. Returns a Target. Raises RefusedURL (never allowed as it
    resolves now) or UnresolvedHost (no address now)."""
    scheme, host, port, path = parse(url)
    addresses = resolve(host, port)
    for address in addresses:
        if why := refusal(address):
            shown = host if host == str(address) else f"{host} resolves to {address}, which"
            raise RefusedURL(
                f"Events cannot be sent to this URL: {shown} is {why}. Use an address on the public internet."
            )
    return Target(scheme=scheme, host=host, port=port, path=path, addresses=tuple(str(a) for a in addresses))
