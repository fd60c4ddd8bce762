"""Who the client is, by address: one rule for the rate limits and the login lockouts.

The rule is DRF's (`NUM_PROXIES`, set from RESTYLE_TRUSTED_PROXY_COUNT): with no trusted proxy
the client is REMOTE_ADDR and X-Forwarded-For is ignored, since any client can write it; with N
the client is the N-th address from the right of X-Forwarded-For, the one our outermost proxy
appended. django-ipware counts the proxies inside the header instead and gives up when the chain
is shorter, so axes is handed this function rather than ipware's settings.
"""
from rest_framework.throttling import BaseThrottle


def client_ip(request):
    """The client's address for a Django or DRF request (axes' AXES_CLIENT_IP_CALLABLE)."""
    return BaseThrottle().get_ident(request)
