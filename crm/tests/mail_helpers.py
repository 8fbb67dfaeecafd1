"""Mail servers for tests: one that refuses everything, and a real SMTP server (aiosmtpd) on 127.0.0.1
that a test stops and starts."""

import email
import email.policy
import socket

from aiosmtpd.controller import Controller


class RefusingBackend:
    """A mail backend whose server is down (settings.MAILERS = {"default": {"BACKEND": ...}})."""

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("mail server down")


class _Collect:
    def __init__(self, sink):
        self.sink = sink

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        if self.sink.refuse_with:
            return self.sink.refuse_with
        self.sink.messages.append(email.message_from_bytes(envelope.original_content, policy=email.policy.default))
        self.sink.envelope_senders.append(envelope.mail_from)
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SmtpSink:
    """A real SMTP server on 127.0.0.1:<port>; `stop()` leaves the port closed (connection refused),
    `start()` opens it again on the same port. Accepted messages are in `messages`."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.messages: list[email.message.EmailMessage] = []
        self.envelope_senders: list[str] = []  # MAIL FROM of each accepted message, in order
        self.refuse_with: str | None = None  # e.g. "451 4.3.0 Try again later": the server refuses DATA
        self.controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}?timeout=5"

    def start(self) -> "SmtpSink":
        self.controller = Controller(_Collect(self), hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None
