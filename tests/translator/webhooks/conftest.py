import pytest

from translator import services

from . import receiver as receivers


@pytest.fixture
def receiver():
    """A real HTTP server on 127.0.0.1; tests may set `receiver.answers` before sending."""
    server = receivers.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture
def local_receivers_allowed(settings):
    """The tests' receiver is on 127.0.0.1 over http: both need the admin's settings."""
    settings.RESTYLE_WEBHOOKS_ALLOW_PRIVATE = True
    settings.RESTYLE_WEBHOOKS_ALLOW_HTTP = True
    return settings


@pytest.fixture
def hook(user, receiver, local_receivers_allowed):
    """`user`'s webhook, pointed at the real local receiver, saved from the test server's address."""
    return services.save_webhook(owner=user, url=receiver.url, site_url="http://testserver/")
