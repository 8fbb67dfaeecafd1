"""E-mail to ticket over IMAP: the desk reads its support mailboxes itself (Desk set-up → IMAP mailboxes).

Each minute the scheduler tick sends one Celery task per active mailbox (`service.tasks.read_imap_mailbox`),
which does this:

1. **Claim.** A compare-and-set UPDATE takes the mailbox for `LEASE` (`claimed_by` = a token of this
   run); a mailbox another worker holds is left alone, so two workers never read one mailbox at once.
   A worker that dies leaves a lease that runs out, and the next tick's worker takes over.
2. **Connect** over TLS only: SSL/TLS from the first byte, or STARTTLS before the password is sent. The
   server's certificate is checked against the system's authorities (plus `SERVICE_IMAP_CA_FILE`, for a
   server with a private authority); a server that offers no STARTTLS is refused.
3. **Read by UID.** The folder's UIDVALIDITY and the last UID recorded say where reading resumes
   (`UID SEARCH UID <last+1>:*`, oldest first, `BATCH` at most). Each message is fetched with
   BODY.PEEK[] (it is not marked read by the fetch) and recorded by `inbound.message_process` in one
   transaction with the step of `last_uid` to its UID. That step is conditional on this run still
   holding the claim, so a worker whose lease ran out cannot record anything beside its successor.
4. **Tidy** after each commit: the message is moved to the "processed" folder (MOVE, or COPY + \\Deleted +
   EXPUNGE on a server without MOVE), or marked \\Seen when no folder is set.

Exactly once: a run killed before a commit leaves neither the ticket nor the new `last_uid`, so the next
run does the message again, wholly; a run killed after the commit but before the tidy leaves the
message in the folder with a UID at or under `last_uid`: the next run only tidies it. Should the
server renumber the folder (a new UIDVALIDITY), reading starts over and the unique Message-ID in
`InboundEmail` still keeps every message to one ticket.
"""

import base64
import imaplib
import logging
import re
import ssl
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from crm import scheduler
from service import inbound
from service.models import ImapMailbox, MailboxSecurity

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=10)
BATCH = 100
UIDVALIDITY = re.compile(rb"UIDVALIDITY (\d+)")
FETCHED_UID = re.compile(rb"UID (\d+)")


class LostClaim(Exception):
    """The lease ran out and another worker took the mailbox: this run stops without recording."""


class MailboxError(Exception):
    """The server refused something. The text is shown on the mailbox's set-up page: one of the sentences
    below (translated when shown, `ImapMailbox.last_error_display`), then the server's own words."""


DETAIL = " — "  # between our sentence and the server's words
NO_STARTTLS = gettext_noop("The server offers no STARTTLS, so the password was not sent.")
BAD_LOGIN = gettext_noop("The server refused the user name or password.")
NO_FOLDER = gettext_noop("The folder to read cannot be opened on the server.")
NO_VALIDITY = gettext_noop("The server gave no UIDVALIDITY for the folder.")
REFUSED = gettext_noop("The server refused a command.")
CANNOT_TIDY = gettext_noop("The server refused to move or mark the processed mail.")
UNTRUSTED = gettext_noop("The server's certificate is not trusted.")
UNREACHABLE = gettext_noop("The server cannot be reached.")


def _network_error(problem: BaseException) -> str:
    what = UNTRUSTED if isinstance(problem, ssl.SSLCertVerificationError) else UNREACHABLE
    if isinstance(problem, imaplib.IMAP4.error):
        what = REFUSED
    return f"{what}{DETAIL}{problem}"[:300]


def claim(mailbox_id: int) -> str | None:
    """Takes the mailbox for this run (compare-and-set); None when another worker holds it."""
    token = uuid.uuid4().hex
    now = timezone.now()
    taken = (ImapMailbox.objects.filter(pk=mailbox_id, is_active=True)
             .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
             .update(claimed_by=token, claimed_until=now + LEASE))
    return token if taken else None


def release(mailbox_id: int, token: str) -> None:
    ImapMailbox.objects.filter(pk=mailbox_id, claimed_by=token).update(claimed_by="", claimed_until=None)


def mailboxes_due() -> list[int]:
    """The active mailboxes no worker holds now: the tick sends one task for each."""
    now = timezone.now()
    return list(ImapMailbox.objects.filter(is_active=True)
                .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
                .order_by("pk").values_list("pk", flat=True))


def ssl_context() -> ssl.SSLContext:
    """Certificates and host names are checked; SERVICE_IMAP_CA_FILE adds a private authority."""
    context = ssl.create_default_context()
    if settings.SERVICE_IMAP_CA_FILE:
        context.load_verify_locations(cafile=str(settings.SERVICE_IMAP_CA_FILE))
    return context


def connect(mailbox: ImapMailbox) -> imaplib.IMAP4:
    """A signed-in connection, encrypted before the password is sent."""
    timeout = settings.SERVICE_IMAP_TIMEOUT
    if mailbox.security == MailboxSecurity.SSL:
        connection: imaplib.IMAP4 = imaplib.IMAP4_SSL(mailbox.host, mailbox.port, ssl_context=ssl_context(),
                                                      timeout=timeout)
    else:
        connection = imaplib.IMAP4(mailbox.host, mailbox.port, timeout=timeout)
        if "STARTTLS" not in connection.capabilities:
            connection.shutdown()
            raise MailboxError(NO_STARTTLS)
        connection.starttls(ssl_context=ssl_context())
    try:
        if (mailbox.username + mailbox.password).isascii():
            connection.login(mailbox.username, mailbox.password)
        else:  # LOGIN is ASCII only; SASL PLAIN carries UTF-8
            plain = f"\0{mailbox.username}\0{mailbox.password}".encode()
            connection.authenticate("PLAIN", lambda _challenge: plain)
    except imaplib.IMAP4.error:
        connection.shutdown()
        raise MailboxError(BAD_LOGIN) from None
    # What the server can do once signed in (MOVE, UIDPLUS): imaplib keeps the list from before it.
    data = _check(connection.capability(), REFUSED)
    connection.capabilities = tuple((data[-1] or b"").decode().upper().split())
    return connection


def folder_name(folder: str) -> str:
    """A folder name as IMAP spells it (RFC 3501's modified UTF-7): «Обработано» is "&BB4EMQRABDAEMQQ+BEIEMAQ9BD4-"."""
    spelled, pending = [], []

    def flush():
        if pending:
            encoded = base64.b64encode("".join(pending).encode("utf-16-be")).decode().rstrip("=")
            spelled.append("&" + encoded.replace("/", ",") + "-")
            pending.clear()

    for char in folder:
        if " " <= char <= "~":
            flush()
            spelled.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    return "".join(spelled)


def _quoted(folder: str) -> str:
    name = folder_name(folder)
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _check(answer: tuple[str, list], what: str) -> list:
    status, data = answer
    if status != "OK":
        detail = b" ".join(item for item in data if isinstance(item, bytes)).decode(errors="replace")
        raise MailboxError(f"{what}{DETAIL}{detail}"[:300])
    return data


def read(mailbox_id: int, now: datetime | None = None) -> int:
    """Reads one mailbox if this run can claim it; returns how many messages were new to the desk."""
    token = claim(mailbox_id)
    if token is None:
        return 0
    done = 0
    error = ""
    try:
        mailbox = ImapMailbox.objects.select_related("queue").get(pk=mailbox_id)
        connection = connect(mailbox)
        try:
            done = _read_folder(connection, mailbox, token, now)
        finally:
            try:
                connection.logout()
            except (imaplib.IMAP4.error, OSError):
                pass
    except LostClaim:
        logger.warning("IMAP mailbox %s: the claim was lost mid-way; the new holder goes on", mailbox_id)
        return done
    except MailboxError as problem:
        error = str(problem)
    except (imaplib.IMAP4.error, OSError) as problem:  # ssl.SSLError and timeouts are OSErrors
        error = _network_error(problem)
    except BaseException:
        # A bug, not the server: free the mailbox for the next tick (a killed worker's lease runs out instead).
        release(mailbox_id, token)
        raise
    if error:
        logger.warning("IMAP mailbox %s: %s", mailbox_id, error)
    ImapMailbox.objects.filter(pk=mailbox_id, claimed_by=token).update(
        last_read_at=timezone.now(), last_error=error[:300], claimed_by="", claimed_until=None)
    return done


def _read_folder(connection: imaplib.IMAP4, mailbox: ImapMailbox, token: str, now: datetime | None) -> int:
    _check(connection.select(_quoted(mailbox.folder)), NO_FOLDER)
    validity = _uid_validity(connection, mailbox.folder)
    if validity != mailbox.uid_validity:
        # A new folder, or the server renumbered it: read it from the start (Message-IDs keep it to once).
        if not ImapMailbox.objects.filter(pk=mailbox.pk, claimed_by=token).update(uid_validity=validity, last_uid=0):
            raise LostClaim
        mailbox.uid_validity, mailbox.last_uid = validity, 0
    if mailbox.done_folder:
        connection.create(_quoted(mailbox.done_folder))  # answers NO when it exists: fine
    _tidy_recorded(connection, mailbox)
    done = 0
    for uid in _new_uids(connection, mailbox.last_uid)[:BATCH]:
        raw = _fetch(connection, uid)
        if raw is None:
            continue  # gone meanwhile (another client deleted it)
        with transaction.atomic():
            stepped = (ImapMailbox.objects.filter(pk=mailbox.pk, claimed_by=token, last_uid__lt=uid)
                       .update(last_uid=uid, claimed_until=timezone.now() + LEASE))
            if not stepped:
                raise LostClaim
            if inbound.message_process(raw, now=now or timezone.now(), mailbox=mailbox):
                done += 1
        mailbox.last_uid = uid
        _dispose(connection, mailbox, str(uid))
    return done


def _uid_validity(connection: imaplib.IMAP4, folder: str) -> int:
    answer = connection.response("UIDVALIDITY")[1]
    if answer and answer[0]:
        return int(answer[0])
    data = _check(connection.status(_quoted(folder), "(UIDVALIDITY)"), NO_VALIDITY)
    found = UIDVALIDITY.search(data[0] or b"")
    if not found:
        raise MailboxError(NO_VALIDITY)
    return int(found.group(1))


def _search(connection: imaplib.IMAP4, *criteria: str) -> list[int]:
    data = _check(connection.uid("SEARCH", *criteria), REFUSED)
    return sorted(int(value) for value in (data[0] or b"").split())


def _new_uids(connection: imaplib.IMAP4, last_uid: int) -> list[int]:
    # "n:*" always matches the newest message, even below n: keep only what is really new.
    return [uid for uid in _search(connection, "UID", f"{last_uid + 1}:*") if uid > last_uid]


def _tidy_recorded(connection: imaplib.IMAP4, mailbox: ImapMailbox) -> None:
    """Messages recorded by a run that died before tidying them are tidied now (never recorded again)."""
    if mailbox.last_uid <= 0:
        return
    criteria = ("UID", f"1:{mailbox.last_uid}") if mailbox.done_folder else ("UID", f"1:{mailbox.last_uid}", "UNSEEN")
    left = [uid for uid in _search(connection, *criteria) if uid <= mailbox.last_uid]
    if left:
        _dispose(connection, mailbox, ",".join(str(uid) for uid in left))


def _fetch(connection: imaplib.IMAP4, uid: int) -> bytes | None:
    data = _check(connection.uid("FETCH", str(uid), "(UID BODY.PEEK[])"), REFUSED)
    for item in data:
        if isinstance(item, tuple) and FETCHED_UID.search(item[0]) and int(FETCHED_UID.search(item[0]).group(1)) == uid:
            return item[1]
    return None


def _dispose(connection: imaplib.IMAP4, mailbox: ImapMailbox, uids: str) -> None:
    """Moves recorded messages out of the way, or marks them read when no folder is set."""
    if not mailbox.done_folder:
        _check(connection.uid("STORE", uids, "+FLAGS.SILENT", r"(\Seen)"), CANNOT_TIDY)
        return
    target = _quoted(mailbox.done_folder)
    if "MOVE" in connection.capabilities:
        _check(connection.uid("MOVE", uids, target), CANNOT_TIDY)
        return
    _check(connection.uid("COPY", uids, target), CANNOT_TIDY)
    _check(connection.uid("STORE", uids, "+FLAGS.SILENT", r"(\Deleted)"), CANNOT_TIDY)
    if "UIDPLUS" in connection.capabilities:
        _check(connection.uid("EXPUNGE", uids), CANNOT_TIDY)
    else:
        _check(connection.expunge(), CANNOT_TIDY)


def try_connection(mailbox: ImapMailbox) -> str:
    """Signs in and opens the folder; the number of messages waiting there, or raises MailboxError."""
    try:
        connection = connect(mailbox)
    except (imaplib.IMAP4.error, OSError) as problem:
        raise MailboxError(_network_error(problem)) from None
    try:
        data = _check(connection.select(_quoted(mailbox.folder), readonly=True), NO_FOLDER)
        return (data[0] or b"0").decode()
    finally:
        try:
            connection.logout()
        except (imaplib.IMAP4.error, OSError):
            pass


@scheduler.source("service_imap_mailboxes")
def read_mailboxes_tick(now: datetime) -> int:
    """One Celery task per mailbox no worker holds (each task claims its mailbox before reading)."""
    from service.tasks import read_imap_mailbox

    due = mailboxes_due()
    for mailbox_id in due:
        read_imap_mailbox.delay(mailbox_id)
    return len(due)
