"""The outbox: an e-mail backend that keeps every message as an .eml file.

Used when EMAIL_URL is unset (the embedded default), so a demo shows invitations,
reminders and mailings without an SMTP server; admins read them at /admin-tools/outbox/.
"""

import email
import email.policy
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend


def outbox_dir() -> Path:
    return Path(settings.EMAIL_OUTBOX_DIR)


class OutboxBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        folder = outbox_dir()
        folder.mkdir(parents=True, exist_ok=True)
        sent = 0
        for message in email_messages:
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
            target = folder / f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
            partial = target.with_suffix(".part")
            partial.write_bytes(message.message().as_bytes())
            partial.rename(target)  # readers never see half a message
            sent += 1
        return sent


@dataclass
class OutboxMessage:
    name: str
    sender: str
    to: str
    subject: str
    date: str
    body: str


def _read(path: Path, *, with_body: bool) -> OutboxMessage:
    parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    body = ""
    if with_body:
        part = parsed.get_body(preferencelist=("plain", "html"))
        body = part.get_content() if part is not None else ""
    return OutboxMessage(
        name=path.name,
        sender=str(parsed.get("From", "")),
        to=str(parsed.get("To", "")),
        subject=str(parsed.get("Subject", "")),
        date=str(parsed.get("Date", "")),
        body=body,
    )


def list_outbox(limit: int = 200) -> list[OutboxMessage]:
    folder = outbox_dir()
    if not folder.is_dir():
        return []
    paths = sorted(folder.glob("*.eml"), reverse=True)[:limit]
    return [_read(path, with_body=False) for path in paths]


def read_outbox_message(name: str) -> OutboxMessage | None:
    """Returns one message by file name; names from the URL are checked, never joined blindly."""
    folder = outbox_dir()
    if "/" in name or "\\" in name or not name.endswith(".eml"):
        return None
    path = folder / name
    if not path.is_file():
        return None
    return _read(path, with_body=True)
