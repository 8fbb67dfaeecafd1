"""The mail outbox: e-mail that is never lost when the mail server is down.

1. `queue(message, key=...)` stores the message (`OutboxMail`) in the caller's transaction: the change
   and its e-mail commit together or not at all. `key` names the cause ("invoice-overdue:12"): queueing
   the same cause twice keeps one message. The Message-ID is derived from the key.
2. After the commit a task tries to send it at once; the scheduler source `outbox` (every tick) sends
   whatever is due: new messages the task did not get to, and retries.
3. `deliver(pk)` claims the row (compare-and-set: queued and due → sending), hands the message to
   the mail server and marks it sent only after the server accepted it. A refusal or a server that
   does not answer puts it back with exponential back-off (1, 2, 4 … minutes, at most 6 hours between
   attempts) and records the error; after MAX_ATTEMPTS it is marked failed. A worker that dies while
   sending leaves the row "sending": after STALE_SENDING it is due again.

What "exactly once" means for mail: SMTP cannot give it. A worker that dies after the server
accepted a message but before the row was marked sent sends it again when the claim goes stale:
at least once, rarely twice, never zero times (as long as the server comes back within the
attempts). The second copy carries the same Message-ID, so mail clients and servers that drop
duplicates (most do) show it once. See docs/operations.md.
"""

import email
import email.policy
import logging
import re
from datetime import datetime, timedelta
from email.header import Header
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, mailers
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from crm import scheduler
from crm.models import OutboxMail, OutboxStatus

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 12
FIRST_RETRY = timedelta(minutes=1)
LONGEST_WAIT = timedelta(hours=6)
STALE_SENDING = timedelta(minutes=5)  # longer than any SMTP timeout: the sender died
KEEP_SENT = timedelta(days=30)  # sent messages are kept this long (what went out, and when), then deleted
BATCH = 100


def mail_domain() -> str:
    """The configured site domain (SITE_DOMAIN, else PUBLIC_URL's host): one domain in every Message-ID."""
    return str(settings.SITE_DOMAIN)


def message_id_for(key: str) -> str:
    """The same cause always gets the same Message-ID: <invoice-overdue.12@example.com>."""
    return f"<{re.sub(r'[^A-Za-z0-9.-]+', '.', key).strip('.')}@{mail_domain()}>"


SUBJECT_LINE = re.compile(rb"^Subject:[^\r\n]*(?:\r?\n[ \t][^\r\n]*)*", re.MULTILINE | re.IGNORECASE)


def fold_subject(raw: bytes, subject: str) -> bytes:
    """A non-ASCII subject in RFC 2047 encoded words of at most 75 characters each. Python's folding
    of a header sometimes makes a 76-character word (a Cyrillic reminder subject did), which strict
    readers reject; the legacy Header encoder keeps every word within the limit."""
    if subject.isascii():
        return raw
    head, separator, body = raw.partition(b"\r\n\r\n") if b"\r\n\r\n" in raw else raw.partition(b"\n\n")
    newline = b"\r\n" if separator == b"\r\n\r\n" else b"\n"
    encoded = Header(subject, "utf-8", header_name="Subject").encode(linesep=newline.decode(), maxlinelen=75)
    head = SUBJECT_LINE.sub(lambda _match: b"Subject: " + encoded.encode("ascii"), head, count=1)
    return head + separator + body


def backoff(attempts: int) -> timedelta:
    """How long to wait after the n-th failed attempt: 1, 2, 4, 8 … minutes, at most LONGEST_WAIT."""
    wait: timedelta = FIRST_RETRY * 2 ** max(attempts - 1, 0)
    return min(wait, LONGEST_WAIT)


def queue(message: EmailMessage, *, key: str) -> OutboxMail:
    """Queues the message in the current transaction; sent after the commit. Idempotent per key."""
    message_id = message_id_for(key)
    message.extra_headers["Message-ID"] = message_id
    from_email = message.from_email or settings.DEFAULT_FROM_EMAIL
    message.from_email = from_email
    mail, created = OutboxMail.objects.get_or_create(key=key[:200], defaults={
        "message_id": message_id, "from_email": from_email, "recipients": list(message.recipients()),
        "subject": str(message.subject)[:300], "raw": fold_subject(message.message().as_bytes(), str(message.subject))})
    if created:
        # robust: a broker that is down must not undo or break the change; the tick sends it anyway.
        transaction.on_commit(lambda: send_soon(mail.pk), robust=True)
    return mail


def send_soon(pk: int) -> None:
    from crm.tasks import send_outbox_mail

    send_outbox_mail.delay(pk)


class _StoredMessage(EmailMessage):
    """The queued bytes, given to the configured mail backend as they are. Subject, body and
    attachments are read back too, for backends that look at them (the test suite's memory backend)."""

    def __init__(self, mail: OutboxMail) -> None:
        self._raw = bytes(mail.raw)
        parsed = email.message_from_bytes(self._raw, policy=email.policy.default)
        body = parsed.get_body(preferencelist=("plain", "html")) if parsed.is_multipart() else parsed
        super().__init__(
            subject=str(parsed.get("Subject", "")), body=body.get_content() if body is not None else "",
            from_email=mail.from_email, to=list(mail.recipients),
            headers={name: str(parsed[name]) for name in ("Message-ID", "Reply-To") if parsed[name]})
        if parsed.is_multipart():
            for part in parsed.iter_attachments():
                self.attachments.append((part.get_filename(), part.get_content(), part.get_content_type()))

    def message(self, *, policy: email.policy.Policy | None = None) -> Any:
        return email.message_from_bytes(self._raw, policy=policy or email.policy.default)

    def recipients(self) -> list[str]:
        return list(self.to)


def claim(pk: int, now: datetime) -> bool:
    due = Q(status=OutboxStatus.QUEUED, next_attempt_at__lte=now) | Q(
        status=OutboxStatus.SENDING, claimed_at__lt=now - STALE_SENDING)
    return OutboxMail.objects.filter(due, pk=pk).update(
        status=OutboxStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1) == 1


def deliver(pk: int) -> bool:
    """Sends one queued message if it is due and nobody else is sending it; True once the server accepted it."""
    return _deliver(pk) == SENT


SENT, SKIPPED, REFUSED = "sent", "skipped", "refused"


def _deliver(pk: int, now: datetime | None = None) -> str:
    now = now or timezone.now()
    if not claim(pk, now):
        return SKIPPED
    mail = OutboxMail.objects.get(pk=pk)
    try:
        mailers["default"].send_messages([_StoredMessage(mail)])
    except Exception as error:  # noqa: BLE001 - any failure: try again later, and say why
        failed = max(now, timezone.now())
        final = mail.attempts >= MAX_ATTEMPTS
        OutboxMail.objects.filter(pk=pk, status=OutboxStatus.SENDING, claimed_at=now).update(
            status=OutboxStatus.FAILED if final else OutboxStatus.QUEUED,
            next_attempt_at=failed + backoff(mail.attempts), failed_at=failed,
            last_error=f"{type(error).__name__}: {error}"[:1000])
        logger.warning("Mail %s (%s): attempt %s failed: %s", pk, mail.key, mail.attempts, error)
        return REFUSED
    OutboxMail.objects.filter(pk=pk, status=OutboxStatus.SENDING, claimed_at=now).update(
        status=OutboxStatus.SENT, sent_at=max(now, timezone.now()))
    return SENT


def deliver_now(key: str) -> OutboxMail | None:
    """For a page that wants to say what happened: tries the message at once (if nobody else is on it)
    and answers the row as it is then (sent, queued after a refusal, or being sent by a worker)."""
    mail = OutboxMail.objects.filter(key=key).only("pk").first()
    if mail is None:
        return None
    _deliver(mail.pk)
    return OutboxMail.objects.get(pk=mail.pk)


@scheduler.source("outbox", last=True)  # after the sources that queue mail in the same tick
def send_due_mail(now: datetime) -> int:
    now = max(now, timezone.now())  # what the tick's other sources queued a moment ago is due too
    due = OutboxMail.objects.filter(
        Q(status=OutboxStatus.QUEUED, next_attempt_at__lte=now)
        | Q(status=OutboxStatus.SENDING, claimed_at__lt=now - STALE_SENDING))
    sent = 0
    for pk in list(due.order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:BATCH]):
        outcome = _deliver(pk, now)
        if outcome == REFUSED:
            break  # the server refused or did not answer: the rest would wait for it too (next tick)
        sent += outcome == SENT
    old = OutboxMail.objects.filter(status=OutboxStatus.SENT, sent_at__lt=now - KEEP_SENT).order_by("sent_at")
    OutboxMail.objects.filter(pk__in=list(old.values_list("pk", flat=True)[:1000])).delete()
    return sent


def health() -> dict[str, Any]:
    """For /healthz: "ok", or "failing" with the last refusal when nothing was sent since; two indexed reads."""
    last_failure = OutboxMail.objects.filter(failed_at__isnull=False).order_by("-failed_at").values(
        "failed_at", "last_error").first()
    last_sent = OutboxMail.objects.filter(sent_at__isnull=False).order_by("-sent_at").values_list(
        "sent_at", flat=True).first()
    failed_at: datetime | None = last_failure["failed_at"] if last_failure else None
    failing = failed_at is not None and (last_sent is None or last_sent < failed_at)
    report: dict[str, Any] = {"state": "failing" if failing else "ok",
                              "last_sent_at": last_sent.isoformat() if last_sent else None}
    if last_failure is not None and failed_at is not None:
        report["last_failure_at"] = failed_at.isoformat()
        report["last_error"] = last_failure["last_error"]
    return report
