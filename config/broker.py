"""The Celery broker: Redis (the default) or RabbitMQ, chosen by the scheme of its URL, and the
connection options that suit each. Kept apart from settings.py because the web process's bounded
send (translator.services.delivery) needs the same per-transport knowledge.

The two transports name their timeouts differently, and each ignores the other's names without a
word (py-amqp's Connection takes **kwargs), so an option meant for Redis silently does nothing on
RabbitMQ: that is why the options are chosen here by transport instead of written once for both.
"""
from urllib.parse import urlsplit

TRANSPORTS = {"redis": "redis", "rediss": "redis", "amqp": "amqp", "amqps": "amqp", "pyamqp": "amqp"}
QUEUE_TYPES = ("classic", "quorum")


def transport(url):
    """'redis' or 'amqp' for a broker URL; ValueError for any other scheme."""
    scheme = urlsplit(url).scheme
    if scheme not in TRANSPORTS:
        raise ValueError(f"a broker URL starts with {', '.join(s + '://' for s in TRANSPORTS)}, not {url.split(':', 1)[0]!r}")
    return TRANSPORTS[scheme]


def transport_options(url):
    """Celery's broker_transport_options for the workers' long-lived connections."""
    if transport(url) == "redis":
        return {
            "socket_connect_timeout": 3,
            "socket_timeout": 10,
            # A message taken but not acknowledged (the moment between a worker's fetch and the
            # task's start) comes back after this long; the sweeper resends lost messages sooner anyway.
            "visibility_timeout": 3600,
        }
    # RabbitMQ gives an unacknowledged message back as soon as its consumer's connection closes,
    # and notices a frozen peer by AMQP heartbeats (Celery's broker_heartbeat, 120 s, or the
    # server's if shorter): there is no visibility timeout to choose.
    return {}


def send_options(url, timeout):
    """Options for one send from a web request: every wait bounded by `timeout`, no retry (kombu
    otherwise waits 2 s and tries again before giving up). connect_timeout is passed beside them."""
    options = {"max_retries": 0}
    if transport(url) == "redis":
        options.update(socket_timeout=timeout, socket_connect_timeout=timeout)
    else:
        # connect_timeout bounds the TCP connect and the AMQP handshake; these bound the channel
        # opening and the publish on a broker that stops answering after the handshake.
        options.update(read_timeout=timeout, write_timeout=timeout)
    return options
