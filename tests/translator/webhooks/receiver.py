"""A real HTTP receiver for webhook tests: a ThreadingHTTPServer on 127.0.0.1 that records every
request it gets and answers with the status codes it is told, in turn (200 once they run out); an answer may be
(status, seconds) to answer late."""
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes


@dataclass
class Receiver:
    answers: list = field(default_factory=list)
    requests: list = field(default_factory=list)
    server: ThreadingHTTPServer = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_port}/hooks/restyle"

    def url_on(self, host):
        return f"http://{host}:{self.server.server_port}/hooks/restyle"

    def wait_for(self, count, timeout=60):
        import time

        deadline = time.monotonic() + timeout
        while len(self.requests) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return len(self.requests) >= count


def start(answers=()):
    receiver = Receiver(answers=list(answers))
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with lock:
                receiver.requests.append(Received(self.path, dict(self.headers.items()), body))
                answer = receiver.answers.pop(0) if receiver.answers else 200
            # An answer is a status code, or (status code, seconds to wait before answering).
            status, delay = answer if isinstance(answer, tuple) else (answer, 0)
            if delay:
                import time

                time.sleep(delay)
            payload = f"answer {status}".encode()
            self.send_response(status)
            if 300 <= status < 400:
                self.send_header("Location", "https://elsewhere.example/")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    receiver.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=receiver.server.serve_forever, daemon=True).start()
    return receiver
