"""https deliveries connect to the checked address yet verify the certificate of the host name
in the URL (SNI and the name check), so pinning the address weakens nothing."""
import shutil
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from translator import services
from translator.models import WebhookDelivery

from .test_webhook_addresses import _fake_dns

pytestmark = pytest.mark.django_db


def certificate(folder, name):
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    key, cert = folder / f"{name}.key", folder / f"{name}.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "1", "-subj", f"/CN={name}", "-addext", f"subjectAltName=DNS:{name}"],
        check=True, capture_output=True,
    )
    return key, cert


@pytest.fixture
def tls_receiver(tmp_path):
    """An https server on 127.0.0.1 whose certificate names hook.example; records the SNI name."""
    key, cert = certificate(tmp_path, "hook.example")
    seen = {"sni": [], "hosts": []}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            seen["hosts"].append(self.headers["Host"])
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda sock, name, ctx: seen["sni"].append(name)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server, cert, seen
    server.shutdown()
    server.server_close()


def test_an_https_receiver_is_reached_at_the_checked_address_with_its_own_name(
    user, tls_receiver, settings, monkeypatch
):
    server, cert, seen = tls_receiver
    settings.RESTYLE_WEBHOOKS_ALLOW_PRIVATE = True
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # trust the test's own certificate authority
    _fake_dns(monkeypatch, {"hook.example": ["127.0.0.1"], "other.example": ["127.0.0.1"]})
    port = server.server_port

    good = services.save_webhook(owner=user, url=f"https://hook.example:{port}/hook")
    done = services.attempt_delivery(delivery_id=services.send_test_event(webhook=good).pk)
    assert done.status == WebhookDelivery.Status.SUCCEEDED and done.last_status_code == 204
    assert seen["sni"] == ["hook.example"] and seen["hosts"] == [f"hook.example:{port}"]

    # The same address under a name the certificate does not carry: refused by TLS, tried again later.
    good.url = f"https://other.example:{port}/hook"
    good.save()
    WebhookDelivery.objects.all().delete()
    wrong = services.attempt_delivery(delivery_id=services.send_test_event(webhook=good).pk)
    assert wrong.status == WebhookDelivery.Status.PENDING and "doesn't match 'hook.example'" in wrong.last_error
    assert seen["hosts"] == [f"hook.example:{port}"]
