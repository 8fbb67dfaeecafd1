"""A real HTTP server on 127.0.0.1 that records what it receives, for delivery tests.

Each request takes the next planned answer (`plan(500, 200)`), then the default one; an
answer can be delayed (`delay=`) to play a slow endpoint or, beyond the read timeout, a dead one.
"""

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes
    arrived: float
    status: int
    answered: float | None = None

    @property
    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Answer:
    status: int = 200
    delay: float = 0.0


@dataclass
class Receiver:
    requests: list[Received] = field(default_factory=list)
    planned: list[Answer] = field(default_factory=list)
    default: Answer = field(default_factory=Answer)
    server: ThreadingHTTPServer | None = None
    changed: threading.Condition = field(default_factory=threading.Condition)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/hook"

    def plan(self, *statuses: int, delay: float = 0.0) -> None:
        with self.changed:
            self.planned.extend(Answer(status, delay) for status in statuses)

    def next_answer(self) -> Answer:
        with self.changed:
            return self.planned.pop(0) if self.planned else self.default

    def record(self, received: Received) -> None:
        with self.changed:
            self.requests.append(received)
            self.changed.notify_all()

    def wait_for(self, count: int, timeout: float = 15.0) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: len(self.requests) >= count, timeout=timeout)

    def bodies(self) -> list[dict]:
        return [received.json for received in self.requests]


def make_handler(receiver: Receiver):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - the http.server API
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            answer = receiver.next_answer()
            received = Received(path=self.path, headers=dict(self.headers), body=body, arrived=time.monotonic(),
                                status=answer.status)
            receiver.record(received)
            time.sleep(answer.delay)
            try:
                self.send_response(answer.status)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok" if answer.status < 300 else b"receiver says no")
            except OSError:
                pass  # the client gave up (read timeout): that is the point of a slow answer
            received.answered = time.monotonic()

        def log_message(self, format, *args):  # noqa: A002 - quiet test output
            pass

    return Handler


def start() -> Receiver:
    receiver = Receiver()
    receiver.server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(receiver))
    receiver.server.daemon_threads = True
    threading.Thread(target=receiver.server.serve_forever, daemon=True).start()
    return receiver


def stop(receiver: Receiver) -> None:
    receiver.server.shutdown()
    receiver.server.server_close()


def verify(secret: str, headers: dict, body: bytes, tolerance: int = 300) -> bool:
    """What a receiver does (docs/webhooks.md)."""
    timestamp = headers["X-CRM-Timestamp"]
    if abs(time.time() - int(timestamp)) > tolerance:
        return False
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest("sha256=" + expected, headers["X-CRM-Signature"])
