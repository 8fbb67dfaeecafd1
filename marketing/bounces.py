"""Bounces: a VERP-style return path per recipient, and the processor that reads what comes back.

Every mailing message is sent with the envelope sender `<local>+<delivery id>-<signature>@<domain>`
(`return_path`); the From header stays DEFAULT_FROM_EMAIL. A mail server that cannot deliver the
message sends its report (a DSN) to that address; the MTA (or fetchmail/getmail) delivers it into the
Maildir MARKETING_BOUNCE_MAILDIR, read by the scheduler tick (source `marketing_bounces`) or by
`manage.py process_bounces`, like the support mailbox (service/inbound.py).

The signature is an HMAC of the delivery id (Django's salted_hmac with its own salt): a report to a
made-up address (`bounce+123-000000000000@…`) names no delivery and changes nothing, so nobody can get
someone else's address suppressed by mailing us.

- A **hard** bounce (DSN status 5.x.x) suppresses the address for good.
- A **soft** bounce (4.x.x, or "Action: delayed") is counted; the address is suppressed after
  MARKETING_SOFT_BOUNCE_LIMIT of them (3 by default), each from a different message.
- A message with no status (an out-of-office reply to the return path) is not a bounce: ignored.

**Unsubscribing by mail** (the mailto form of List-Unsubscribe, RFC 2369): every message also names
`unsubscribe+<delivery id>-<signature>@<bounce domain>` (its own salt). A mail to that address landing
in the same Maildir unsubscribes the delivery's contact, like the one-click link; a made-up or altered
address changes nothing.

Each delivery counts once: its `bounced_at` is set with a compare-and-set, in the same transaction as
the address's counter, so a report read twice (a run killed before it removed the file) counts once.
"""

import email
import email.policy
import logging
import mailbox
import re
from dataclasses import dataclass
from datetime import datetime
from email.message import Message
from email.utils import getaddresses, parseaddr
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from contacts.models import Contact
from crm import scheduler
from crm.visibility import Scope, can_create, read_scope
from marketing.models import BouncedAddress, Campaign, Delivery

logger = logging.getLogger(__name__)

SALT = "marketing.bounce"
UNSUBSCRIBE_SALT = "marketing.unsubscribe-mail"
UNSUBSCRIBE_LOCAL = "unsubscribe"
BATCH = 200
HARD, SOFT = "hard", "soft"
ADDRESS_HEADERS = ("Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To", "To")
STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")


def bounce_address() -> tuple[str, str]:
    """(local part, domain) of the bounce address."""
    configured = getattr(settings, "MARKETING_BOUNCE_ADDRESS", "") or ""
    address = parseaddr(configured)[1] if configured else ""
    if "@" not in address:
        domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "localhost"
        address = f"bounce@{domain}"
    local, _at, domain = address.rpartition("@")
    return local, domain


def _signature(delivery_id: int, salt: str = SALT) -> str:
    return salted_hmac(salt, str(delivery_id), algorithm="sha256").hexdigest()[:16]


def unsubscribe_address(delivery_id: int) -> str:
    """The address a mail to which unsubscribes the delivery's contact (List-Unsubscribe's mailto)."""
    return f"{UNSUBSCRIBE_LOCAL}+{delivery_id}-{_signature(delivery_id, UNSUBSCRIBE_SALT)}@{bounce_address()[1]}"


def unsubscribe_delivery_id(address: str) -> int | None:
    """The delivery an unsubscribe address names, or None when it is not one or its signature is wrong."""
    match = re.fullmatch(rf"{UNSUBSCRIBE_LOCAL}\+(\d{{1,18}})-([0-9a-f]{{16}})@{re.escape(bounce_address()[1])}",
                         address.strip().lower())
    if match is None or not constant_time_compare(match.group(2), _signature(int(match.group(1)), UNSUBSCRIBE_SALT)):
        return None
    return int(match.group(1))


def unsubscribe_request(raw: bytes) -> int | None:
    """The delivery whose unsubscribe address a message was sent to (any address header), or None."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    for header in ADDRESS_HEADERS:
        for _name, address in getaddresses([str(value) for value in message.get_all(header, [])]):
            delivery_id = unsubscribe_delivery_id(address)
            if delivery_id is not None:
                return delivery_id
    return None


def unsubscribe_by_mail(delivery_id: int) -> bool:
    """The contact of the delivery opts out (as with the one-click link); False when it is gone or had."""
    from marketing.mailings import unsubscribe

    delivery = Delivery.objects.filter(pk=delivery_id).first()
    return delivery is not None and unsubscribe(delivery=delivery, source="unsubscribe e-mail")


def return_path(delivery_id: int) -> str:
    local, domain = bounce_address()
    return f"{local}+{delivery_id}-{_signature(delivery_id)}@{domain}"


def delivery_id_from(address: str) -> int | None:
    """The delivery a return path names, or None when it is not ours or its signature is wrong."""
    local, domain = bounce_address()
    match = re.fullmatch(rf"{re.escape(local)}\+(\d{{1,18}})-([0-9a-f]{{16}})@{re.escape(domain)}",
                         address.strip().lower())
    if match is None or not constant_time_compare(match.group(2), _signature(int(match.group(1)))):
        return None
    return int(match.group(1))


@dataclass(frozen=True)
class Bounce:
    delivery_id: int
    kind: str  # HARD or SOFT
    reason: str


def _status_of(message: Message) -> tuple[str, str] | None:
    """(kind, reason) from the DSN's per-recipient fields; else from the first status code in the text."""
    for part in message.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        for block in part.get_payload() or []:
            status, action = str(block.get("Status", "")), str(block.get("Action", "")).lower()
            if not status and action != "delayed":
                continue
            diagnostic = str(block.get("Diagnostic-Code", "")).strip()
            kind = SOFT if action == "delayed" or status.startswith("4") else HARD if status.startswith("5") else None
            if kind:
                return kind, (f"{status} {diagnostic}".strip())[:300]
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            found = STATUS.search(part.get_content() if hasattr(part, "get_content") else str(part.get_payload()))
            if found and found.group(1) in "45":
                return (HARD if found.group(1) == "5" else SOFT), found.group(0)
    return None


def parse(raw: bytes) -> Bounce | None:
    """The bounce a message reports, or None (not addressed to a signed return path, or not a bounce)."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    delivery_id = None
    for header in ADDRESS_HEADERS:
        for _name, address in getaddresses([str(value) for value in message.get_all(header, [])]):
            delivery_id = delivery_id_from(address)
            if delivery_id is not None:
                break
        if delivery_id is not None:
            break
    if delivery_id is None:
        return None
    status = _status_of(message)
    if status is None:
        return None
    return Bounce(delivery_id, *status)


@transaction.atomic
def record(bounce: Bounce, now: datetime | None = None) -> bool:
    """Marks the delivery bounced and counts it against its address; False when it was counted already
    (or the delivery is gone)."""
    now = now or timezone.now()
    marked = Delivery.objects.filter(pk=bounce.delivery_id, bounced_at__isnull=True).exclude(email="").update(
        bounce=bounce.kind, bounced_at=now)
    if not marked:
        return False
    address = Delivery.objects.values_list("email", flat=True).get(pk=bounce.delivery_id).strip().lower()
    row, _created = BouncedAddress.objects.select_for_update().get_or_create(email=address)
    row.last_bounce_at, row.last_reason = now, bounce.reason
    if bounce.kind == HARD:
        row.hard_bounced_at = row.hard_bounced_at or now
    else:
        row.soft_bounces += 1
    if row.suppressed_at is None and (bounce.kind == HARD or row.soft_bounces >= soft_limit()):
        row.suppressed_at = now
    row.save()
    return True


def soft_limit() -> int:
    return max(int(getattr(settings, "MARKETING_SOFT_BOUNCE_LIMIT", 3)), 1)


def read_maildir(folder: Path | None = None, now: datetime | None = None, batch: int | None = BATCH) -> int:
    """Processes the reports waiting in the bounce Maildir; returns how many bounces were new. Each file
    is removed once it is recorded (or found not to be a bounce of ours)."""
    folder = Path(folder or settings.MARKETING_BOUNCE_MAILDIR)
    if not (folder / "new").is_dir():
        return 0
    box = mailbox.Maildir(folder, factory=None, create=False)
    counted = 0
    for key in sorted(box.iterkeys())[:batch]:
        try:
            raw = box.get_bytes(key)
        except (KeyError, FileNotFoundError):
            continue  # another run took it
        unsubscribing = unsubscribe_request(raw)
        bounce = parse(raw) if unsubscribing is None else None
        if unsubscribing is not None:
            logger.info("Bounce mailbox: %s asks to unsubscribe delivery %s", key, unsubscribing)
            unsubscribe_by_mail(unsubscribing)
        elif bounce is None:
            logger.info("Bounce mailbox: %s is not a bounce of a mailing message, removed", key)
        elif record(bounce, now):
            counted += 1
        try:
            box.discard(key)
        except FileNotFoundError:
            pass
    return counted


@scheduler.source("marketing_bounces")
def read_maildir_tick(now: datetime) -> int:
    return read_maildir(now=now)


def may_manage(user) -> bool:
    """The bounced-address page names addresses of every customer: for roles that read every contact and
    run campaigns (marketers, admins), not for a rep who sees only their own book."""
    return read_scope(user, Contact) == Scope.ALL and can_create(user, Campaign)


@transaction.atomic
def bounce_clear(*, address: BouncedAddress, actor) -> bool:
    """The address works again (the customer fixed their mailbox): later mailings send to it until it
    bounces anew; the counts start afresh. False when it was not suppressed (cleared meanwhile)."""
    return bool(BouncedAddress.objects.filter(pk=address.pk, suppressed_at__isnull=False).update(
        suppressed_at=None, hard_bounced_at=None, soft_bounces=0, cleared_at=timezone.now(), cleared_by=actor))
