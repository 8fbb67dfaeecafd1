"""Mass e-mail that never sends anyone a message twice.

1. `mailing_start` (a compare-and-set draft → sending: a double click starts it once) freezes the
   recipients into Delivery rows in one INSERT … SELECT, unique per (mailing, contact). Contacts
   without consent (never agreed, or opted out) or without an address are frozen as "suppressed"
   and never sent to.
2. `mailing_send` (the Celery task's body, safe to run twice or side by side) claims a batch of
   pending rows with `FOR UPDATE SKIP LOCKED` and marks them "sending" in a committed UPDATE, then
   sends each and marks it "sent" in its own commit. A second worker skips claimed rows.
3. One worker at a time holds the mailing (crm/jobs.py) and beats while it sends. When it dies, the
   scheduler tick sends the mailing to a worker again within about a minute; the new holder turns the
   rows the dead one left in "sending" into "unknown" (the message may have gone out, so they are
   never sent again) and sends the rest. sent + unknown + suppressed + failed + pending
   (+ sending while running) = recipients.

Every message carries List-Unsubscribe and List-Unsubscribe-Post (RFC 8058) with a signed link
to a public page; a forged or altered link is refused.
"""

import email.message
import email.policy
import smtplib
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import pghistory
from django.conf import settings
from django.core import signing
from django.core.mail import EmailMessage, EmailMultiAlternatives, mailers
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.db import connection, transaction
from django.db import connections as db_connections
from django.db.models import Case, CharField, Count, Exists, F, Min, OuterRef, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce, Lower, Now
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from contacts.models import Contact
from crm import jobs, outbox, scheduler
from crm.models import OutboxMail, User
from crm.signed import signed_id
from marketing import bounces, mime, templating, tracking
from marketing.bounces import return_path
from marketing.models import BouncedAddress, Delivery, DeliveryStatus, Mailing, MailingStatus, TopicSubscription
from marketing.segments import contacts_in
from marketing.subscriptions import preference_token
from sales.models import Lead

BATCH = 50
HOUR = timedelta(hours=1)
MAX_SEND_ATTEMPTS = 5  # temporary SMTP refusals (4xx, server down) before the row is marked failed
RATE_LOCK = 0x4D41494C  # pg_advisory_xact_lock key: one claim at a time counts against the hourly limits
UNSUBSCRIBE_SALT = "marketing.unsubscribe"
MERGE_FIELDS = tuple(templating.FIELDS)


# --- Recipients ------------------------------------------------------------------------------


def audience(mailing: Mailing, user: User) -> QuerySet[Contact]:
    """The contacts the mailing goes to, among those the user may see."""
    if mailing.segment is not None:
        return contacts_in(mailing.segment.criteria, user)
    if mailing.static_list_id is None and mailing.topic_id is not None:  # a new-product notice: the subscribers
        return Contact.objects.visible_to(user).filter(topic_subscriptions__topic_id=mailing.topic_id)
    return Contact.objects.visible_to(user).filter(static_list_memberships__static_list_id=mailing.static_list_id)


def leads_left_out(mailing: Mailing, user: User) -> int:
    """The leads (the user may see) on the mailing's static list: a mailing goes to contacts only (a
    lead records no e-mail consent), so the draft's page says how many it leaves out."""
    if mailing.static_list_id is None:
        return 0
    return Lead.objects.visible_to(user).filter(static_list_memberships__static_list_id=mailing.static_list_id).count()


def languages_of(mailing: Mailing) -> list[str]:
    """The languages the mailing is written in: its own first, then its other versions."""
    return [mailing.language, *(code for code in mailing.versions.values_list("language", flat=True)
                                if code != mailing.language)]


def language_names(mailing: Mailing) -> list[str]:
    names = dict(settings.LANGUAGES)
    return [str(names.get(code, code)) for code in languages_of(mailing)]


def _recipients(contacts: QuerySet[Contact], mailing: Mailing) -> QuerySet[Any, Any]:
    """Each contact with the address, status, reason and language its delivery row is frozen with.
    The language: the one the contact chose on the preference page when the mailing has that version,
    else the mailing's own."""
    no_consent = Q(email_opt_in=False) | Q(email_opted_out_at__isnull=False)
    contacts = contacts.order_by().annotate(
        first_address=Coalesce(F("emails__0"), Value(""), output_field=CharField()),
        chosen_language=Coalesce(F("marketing_preference__language"), Value(""), output_field=CharField()),
    )
    contacts = contacts.annotate(bounced=Exists(BouncedAddress.objects.filter(
        email=Lower(OuterRef("first_address")), suppressed_at__isnull=False)))
    reasons = [(no_consent, "no consent"), (Q(do_not_call=True), "do not contact"),
               (Q(first_address=""), "no address"), (Q(bounced=True), "bounced")]
    if mailing.topic_id is not None:
        contacts = contacts.annotate(on_topic=Exists(TopicSubscription.objects.filter(
            contact=OuterRef("pk"), topic_id=mailing.topic_id)))
        reasons.append((Q(on_topic=False), "not subscribed to the topic"))
    suppressed = Q()
    for condition, _reason in reasons:
        suppressed |= condition
    return contacts.annotate(
        frozen_status=Case(When(suppressed, then=Value(DeliveryStatus.SUPPRESSED)),
                           default=Value(DeliveryStatus.PENDING), output_field=CharField()),
        frozen_reason=Case(*(When(condition, then=Value(reason)) for condition, reason in reasons),
                           default=Value(""), output_field=CharField()),
        frozen_language=Case(When(chosen_language__in=languages_of(mailing), then=F("chosen_language")),
                             default=Value(mailing.language), output_field=CharField()),
    ).values("id", "first_address", "frozen_status", "frozen_reason", "frozen_language")


@transaction.atomic
def mailing_start(*, mailing: Mailing, actor: User, base_url: str, scheduled: bool = False) -> bool:
    """Freezes the recipients and queues the sending; False when the mailing had already started (or,
    for a scheduled start, was sent or put back to draft meanwhile)."""
    was = MailingStatus.SCHEDULED if scheduled else MailingStatus.DRAFT
    started = Mailing.objects.filter(pk=mailing.pk, status=was).update(
        status=MailingStatus.SENDING, started_at=timezone.now(), base_url=base_url.rstrip("/"),
        heartbeat_at=timezone.now())
    if not started:
        return False
    select_sql, params = _recipients(audience(mailing, actor), mailing).query.sql_with_params()
    with connection.cursor() as cursor:
        sql = (f"INSERT INTO {Delivery._meta.db_table} "  # noqa: S608 - the ORM's SELECT, params bound
               "(mailing_id, contact_id, email, status, reason, language) "
               "SELECT %s, r.id, r.first_address, r.frozen_status, r.frozen_reason, r.frozen_language "
               f"FROM ({select_sql}) AS r "
               "ON CONFLICT (mailing_id, contact_id) DO NOTHING")
        cursor.execute(sql, [mailing.pk, *params])
    transaction.on_commit(lambda: _send_to_worker(mailing.pk), robust=True)  # a dead broker: the tick sends it
    return True


@transaction.atomic
def mailing_schedule(*, mailing: Mailing, actor: User, send_at: datetime, base_url: str) -> bool:
    """draft → scheduled; the scheduler tick starts it at `send_at` with `actor`'s view of the audience.
    False when it is no longer a draft."""
    return bool(Mailing.objects.filter(pk=mailing.pk, status=MailingStatus.DRAFT).update(
        status=MailingStatus.SCHEDULED, scheduled_at=send_at, scheduled_by=actor, base_url=base_url.rstrip("/")))


@transaction.atomic
def mailing_unschedule(*, mailing: Mailing) -> bool:
    """scheduled → draft, unless the tick started it meanwhile."""
    return bool(Mailing.objects.filter(pk=mailing.pk, status=MailingStatus.SCHEDULED).update(
        status=MailingStatus.DRAFT, scheduled_at=None, scheduled_by=None))


@scheduler.source("scheduled_mailings")
def start_due_mailings(now: datetime) -> int:
    """Starts the mailings whose time has come (each a compare-and-set: two ticks start it once)."""
    started = 0
    due = Mailing.objects.filter(status=MailingStatus.SCHEDULED, scheduled_at__lte=now).select_related(
        "scheduled_by", "owner", "segment")
    for mailing in due.order_by("scheduled_at", "id")[:BATCH]:
        actor = mailing.scheduled_by or mailing.owner
        if mailing_start(mailing=mailing, actor=actor, base_url=mailing.base_url, scheduled=True):
            started += 1
    return started


def _send_to_worker(mailing_id: int) -> None:
    from marketing.tasks import send_mailing

    send_mailing.delay(mailing_id)


def _give_up(mailing_id: int) -> None:
    """A mailing that stopped its worker every time: what is left is recorded as not sent."""
    _interrupted(mailing_id)
    Delivery.objects.filter(mailing_id=mailing_id, status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.FAILED, reason="the mailing stopped its worker every time it ran")
    Mailing.objects.filter(pk=mailing_id, status=MailingStatus.SENDING).update(
        status=MailingStatus.SENT, finished_at=timezone.now())


# A paused mailing (hourly limit reached, messages waiting to be tried again) waits for no worker until
# next_run_at; then the tick sends it to one.
MAILING_JOBS = jobs.register(jobs.JobKind(
    name="mailings", model=Mailing,
    waiting=Q(status=MailingStatus.SENDING) & (Q(next_run_at__isnull=True) | Q(next_run_at__lte=Now())),
    resend=_send_to_worker, give_up=_give_up,
    label=gettext_lazy("Mailings"), title=lambda mailing: mailing.subject))  # at most once: no retry


# --- Sending -----------------------------------------------------------------------------------


def site_hourly_limit() -> int:
    return int(getattr(settings, "MARKETING_HOURLY_LIMIT", 0) or 0)


def _used(now: datetime, mailing_id: int | None = None) -> QuerySet[Delivery]:
    """The messages claimed in the last hour (sent, being sent or perhaps sent): what the limits count."""
    rows = Delivery.objects.filter(claimed_at__gt=now - HOUR, status__in=[
        DeliveryStatus.SENDING, DeliveryStatus.SENT, DeliveryStatus.UNKNOWN])
    return rows.filter(mailing_id=mailing_id) if mailing_id is not None else rows


def room(mailing: Mailing, now: datetime) -> int | None:
    """How many more messages the hourly limits allow now (None: no limit)."""
    rooms = []
    if mailing.hourly_limit:
        rooms.append(mailing.hourly_limit - _used(now, mailing.pk).count())
    if site_hourly_limit():
        rooms.append(site_hourly_limit() - _used(now).count())
    return max(min(rooms), 0) if rooms else None


def _limit_frees_at(mailing: Mailing, now: datetime) -> datetime | None:
    """When the hourly limit that stops the mailing lets the next message go (None: nothing stops it)."""
    waits = []
    if mailing.hourly_limit and _used(now, mailing.pk).count() >= mailing.hourly_limit:
        waits.append(_used(now, mailing.pk).aggregate(first=Min("claimed_at"))["first"])
    if site_hourly_limit() and _used(now).count() >= site_hourly_limit():
        waits.append(_used(now).aggregate(first=Min("claimed_at"))["first"])
    waits = [first + HOUR for first in waits if first is not None]
    return max(waits) if waits else None


def _wake_at(mailing: Mailing, now: datetime) -> datetime:
    """When a paused mailing can send again: when the hour has room, else when the first row waiting
    to be tried again is due."""
    frees = _limit_frees_at(mailing, now)
    if frees is not None:
        return frees
    retry = Delivery.objects.filter(mailing=mailing, status=DeliveryStatus.PENDING).aggregate(
        first=Min("next_attempt_at"))["first"]
    return max(retry, now) if retry is not None else now


def _claim(mailing: Mailing, limit: int) -> list[int]:
    """Pending rows → sending, committed before any is sent; rows another worker holds are skipped.
    With an hourly limit, the count and the claim happen under one advisory lock, so two workers (two
    mailings under the site limit) never claim the same room twice."""
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        if mailing.hourly_limit or site_hourly_limit():
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [RATE_LOCK])
            allowed = room(mailing, now)
            limit = min(limit, allowed) if allowed is not None else limit
            if limit <= 0:
                return []
        cursor.execute(
            f"""UPDATE {Delivery._meta.db_table} SET status = %s, claimed_at = %s
                WHERE id IN (SELECT id FROM {Delivery._meta.db_table}
                             WHERE mailing_id = %s AND status = %s
                               AND (next_attempt_at IS NULL OR next_attempt_at <= %s)
                             ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED)
                RETURNING id""",  # noqa: S608 - table names are ours, values bound  # nosec B608
            [DeliveryStatus.SENDING, now, mailing.pk, DeliveryStatus.PENDING, now, limit])
        return sorted(row[0] for row in cursor.fetchall())


def merge(text: str, contact: Contact) -> str:
    """Fills the merge fields of a subject or a plain text (marketing/templating.py's sandbox: only the
    fields it offers are reachable); the links are empty here (a preview without a delivery)."""
    return templating.render_text(text, templating.Recipient.of(contact, needed=templating.names_in(text)))


def unsubscribe_token(delivery_id: int) -> str:
    return signing.dumps(delivery_id, salt=UNSUBSCRIBE_SALT, compress=True)


def delivery_for_token(token: str) -> Delivery | None:
    """The delivery a link names, or None when the link is forged or altered."""
    delivery_id = signed_id(token, UNSUBSCRIBE_SALT)
    if delivery_id is None:
        return None
    return Delivery.objects.select_related("contact", "mailing").filter(pk=delivery_id).first()


class MailingMessage(EmailMultiAlternatives):
    """Headers folded only past 998 characters (RFC 5322's limit): folding at 78 would turn the long
    List-Unsubscribe URL into RFC 2047 encoded words, which no mail client follows (RFC 2369 wants
    the URL as it is, in angle brackets)."""

    def message(self, *, policy: email.policy.Policy | None = None) -> email.message.EmailMessage:
        return super().message(policy=(policy or email.policy.default).clone(max_line_length=998))


def texts_of(mailing: Mailing) -> dict[str, tuple[str, str]]:
    """Subject and text per language: the mailing's own and its versions (one query)."""
    texts = {version.language: (version.subject, version.body) for version in mailing.versions.all()}
    texts[mailing.language] = (mailing.subject, mailing.body)
    return texts


def htmls_of(mailing: Mailing) -> dict[str, str]:
    """The HTML per language (empty: a plain-text mailing), read once per mailing object."""
    cached = getattr(mailing, "_htmls", None)
    if cached is None:
        cached = {language: html for language, html in mailing.versions.values_list("language", "html")}
        cached[mailing.language] = mailing.html
        mailing._htmls = cached  # type: ignore[attr-defined]
    return cached


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str  # "" for a plain-text mailing without tracking


def render(*, subject: str, body: str, html: str, contact: Contact, language: str, unsubscribe_url: str,
           preferences_url: str, base_url: str = "", delivery_id: int | None = None, track: bool = False) -> Rendered:
    """One recipient's message in `language`: the merge fields filled in the sandbox, the footer with the
    links, the HTML (sanitised, values escaped) with the open pixel and tracked links when `track`."""
    needed = templating.names_in(subject, body, html)
    recipient = templating.Recipient.of(contact, needed=needed, unsubscribe_url=unsubscribe_url,
                                        preferences_url=preferences_url)
    tracked_id = delivery_id if track else None
    if tracked_id is not None:  # the template's own links (before merging), so only they can be click targets
        body = tracking.with_tracked_links(body, base_url, tracked_id)
    with translation.override(language):
        footer_text = _("You receive this because you agreed to e-mail from us. Unsubscribe with one "
                        "click: %(url)s") % {"url": unsubscribe_url}
        preferences_text = _("Choose your topics and language: %(url)s") % {"url": preferences_url}
        footer_html = (
            "<hr><p><small>"
            + escape(_("You receive this because you agreed to e-mail from us.")) + " "
            + f'<a href="{escape(unsubscribe_url)}">' + escape(_("Unsubscribe with one click")) + "</a> · "
            + f'<a href="{escape(preferences_url)}">' + escape(_("Choose your topics and language"))
            + "</a></small></p>")
    text = templating.render_text(body, recipient) + "\n\n--\n" + footer_text + "\n" + preferences_text
    pixel = tracking.open_url(base_url, tracked_id) if tracked_id is not None else ""
    if html:
        href = partial(tracking.click_url, base_url, tracked_id) if tracked_id is not None else None
        content = templating.render_html(html, recipient, href=href)
        image = f'<img src="{escape(pixel)}" width="1" height="1" alt="">' if pixel else ""
        html_part = (f'<!DOCTYPE html><html lang="{escape(language)}"><head><meta charset="utf-8"></head><body>'
                     f"<div>{content}{footer_html}</div>{image}</body></html>")
    else:
        html_part = tracking.html_version(text, pixel) if pixel else ""
    return Rendered(templating.render_text(subject, recipient), text, html_part)


def unsubscribe_mailto(delivery_id: int) -> str:
    """The mailto form of List-Unsubscribe (RFC 2369): a mail to it unsubscribes (marketing/bounces.py)."""
    return f"mailto:{bounces.unsubscribe_address(delivery_id)}?subject=unsubscribe"


def message_for(delivery: Delivery, mailing: Mailing, texts: dict[str, tuple[str, str]] | None = None) -> EmailMessage:
    """The message for one recipient, in the language frozen on the delivery (its version, and the
    footer in that language): multipart/alternative (text, HTML) for an HTML mailing or with tracking."""
    texts = texts if texts is not None else texts_of(mailing)
    language = delivery.language if delivery.language in texts else mailing.language
    subject, body = texts[language]
    unsubscribe_url = mailing.base_url + reverse("marketing:unsubscribe", args=[unsubscribe_token(delivery.pk)])
    preferences_url = mailing.base_url + reverse("marketing:preferences", args=[preference_token(delivery.contact_id)])
    rendered = render(subject=subject, body=body, html=htmls_of(mailing).get(language, ""), contact=delivery.contact,
                      language=language, unsubscribe_url=unsubscribe_url, preferences_url=preferences_url,
                      base_url=mailing.base_url, delivery_id=delivery.pk, track=mailing.track)
    domain = outbox.mail_domain()  # the site's domain, as every Message-ID we make
    # The envelope sender is the delivery's signed return path (marketing/bounces.py); From stays ours.
    message = MailingMessage(
        subject=rendered.subject, body=rendered.text, to=[delivery.email],
        from_email=return_path(delivery.pk),
        headers={"From": settings.DEFAULT_FROM_EMAIL,
                 "Message-ID": f"<mailing-{mailing.pk}.delivery-{delivery.pk}@{domain}>",
                 "Content-Language": language,
                 "List-Unsubscribe": f"<{unsubscribe_url}>, <{unsubscribe_mailto(delivery.pk)}>",
                 "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"})
    if rendered.html:
        message.attach_alternative(rendered.html, "text/html")
    return message


TEST_SENDS_PER_HOUR = 10
TEST_KEY = "marketing-test"
TEST_LOCK = 0x54455354  # pg_advisory_xact_lock(TEST_LOCK, user id): two clicks at once count one after the other


def _tests_sent(user: User, now: datetime) -> int:
    return OutboxMail.objects.filter(key__startswith=f"{TEST_KEY}:{user.pk}:", created_at__gt=now - HOUR).count()


def test_send_allowed(user: User) -> bool:
    return _tests_sent(user, timezone.now()) < TEST_SENDS_PER_HOUR


@transaction.atomic
def send_test(*, rendered: Rendered, user: User, language: str) -> bool:
    """A test of a template or a mailing to the user's own address only, through the outbox (crm/outbox.py);
    False (nothing sent) past TEST_SENDS_PER_HOUR in the last hour."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [TEST_LOCK, user.pk])
    if _tests_sent(user, timezone.now()) >= TEST_SENDS_PER_HOUR:
        return False
    with translation.override(language):
        subject = _("[Test] %(subject)s") % {"subject": rendered.subject}
    message = EmailMultiAlternatives(subject=subject, body=rendered.text, to=[user.email],
                                     headers={"Content-Language": language})
    if rendered.html:
        message.attach_alternative(rendered.html, "text/html")
    outbox.queue(message, key=f"{TEST_KEY}:{user.pk}:{uuid.uuid4().hex}")
    return True


def _interrupted(mailing_id: int) -> int:
    return Delivery.objects.filter(mailing_id=mailing_id, status=DeliveryStatus.SENDING).update(
        status=DeliveryStatus.UNKNOWN, reason="interrupted while sending")


def smtp_connections() -> int:
    """How many SMTP connections one mailing sends over at once (MARKETING_SMTP_CONNECTIONS, default 1)."""
    return max(int(getattr(settings, "MARKETING_SMTP_CONNECTIONS", 1) or 1), 1)


def mailing_send(mailing_id: int, *, batch: int = BATCH, connections: int | None = None) -> int:
    """Sends the pending deliveries; returns how many this call sent. Safe to run twice at once: only
    one run holds the mailing, the other returns 0. `connections` (default: the setting) senders
    share the run, each with its own SMTP and database connection, each claiming its own batches
    (SKIP LOCKED keeps them apart)."""
    run = jobs.claim(MAILING_JOBS.name, mailing_id)
    if run is None:
        return 0
    mailing = Mailing.objects.select_related("owner").get(pk=mailing_id)
    # We hold the mailing, so rows still "sending" belong to a run whose worker died mid-batch.
    _interrupted(mailing_id)
    sent = 0
    try:
        sent = _send_batches(mailing, run, batch, connections or smtp_connections())
    except jobs.LostClaim:
        return sent
    done = not Delivery.objects.filter(mailing_id=mailing_id,
                                       status__in=[DeliveryStatus.PENDING, DeliveryStatus.SENDING]).exists()
    if done:
        run.finish(status=MailingStatus.SENT, finished_at=timezone.now(), next_run_at=None)
    else:
        # Paused, not dead: the claim counter starts again (it counts workers that died), and the tick
        # sends the mailing to a worker when the hour has room again.
        now = timezone.now()
        run.finish(next_run_at=_wake_at(mailing, now), run_attempts=0)
    return sent


def _send_batches(mailing: Mailing, run: jobs.Run, batch: int, connections: int = 1) -> int:
    # Bounded: the rows pending now, batch by batch (rows are never added to a started mailing).
    rounds = Delivery.objects.filter(mailing_id=mailing.pk, status=DeliveryStatus.PENDING).count() // batch + 1
    texts = texts_of(mailing)
    if connections <= 1:
        return _sender(mailing, run, batch, rounds, texts, threading.Event())
    stop = threading.Event()  # one sender lost the claim (or failed): the others stop before their next batch
    results = [0] * connections
    errors: list[BaseException] = []

    def sender(index: int) -> None:
        try:
            results[index] = _sender(mailing, run, batch, rounds, texts, stop)
        except BaseException as error:  # noqa: BLE001 - raised again in the calling thread below
            errors.append(error)
            stop.set()
        finally:
            db_connections.close_all()  # this thread's own database connection

    threads = [threading.Thread(target=sender, args=(index,), name=f"mailing-{mailing.pk}-{index}")
               for index in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return sum(results)


def _sender(mailing: Mailing, run: jobs.Run, batch: int, rounds: int, texts: dict[str, tuple[str, str]],
            stop: threading.Event) -> int:
    """Claims batches and sends each over one SMTP connection, opened for the batch and reused by its
    messages (a refused or broken send closes it and opens a new one). Each row is still marked sent
    by one UPDATE in its own commit as soon as the server has accepted its message."""
    sent = 0
    mailer = mailers["default"]
    for _round in range(rounds):
        run.beat()  # taken over (we were thought dead)? Stop before claiming more rows
        if stop.is_set():
            break
        ids = _claim(mailing, batch)
        if not ids:
            break
        try:
            _open(mailer)
            for delivery in Delivery.objects.filter(pk__in=ids).select_related("contact__account").order_by("id"):
                run.beat()
                try:
                    _deliver(mailer, message_for(delivery, mailing, texts))
                except Exception as error:  # noqa: BLE001 - the row records why, the others go on
                    _not_sent(delivery, error)
                    _close(mailer)  # the connection may be broken
                    _open(mailer)
                    continue
                _mark_sent(delivery.pk)
                sent += 1
        finally:
            _close(mailer)
    return sent


def _deliver(mailer: Any, message: EmailMessage) -> None:
    """Sends one message. Over an open SMTP connection its bytes come from marketing/mime.py (the same
    message, about 4 ms sooner); other backends (the outbox, the tests' locmem) get it from Django."""
    if not isinstance(mailer, SMTPBackend) or mailer.connection is None or not mime.simple(message):
        mailer.send_messages([message])
        return
    recipients = [mime.envelope(address) for address in message.recipients()]
    mailer.connection.sendmail(mime.envelope(message.from_email), recipients, mime.as_bytes(message))


def _mark_sent(delivery_id: int) -> None:
    """The row is marked sent in its own commit, without waiting for that commit to reach the disk
    (synchronous_commit off for this transaction only): the claim that made the row "sending" was
    durable, so if PostgreSQL crashes and loses this mark, the row is still "sending" and becomes
    "unknown", never sent again. Waiting for the disk here cost about 1 ms a message."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit = off")
        Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.SENDING).update(
            status=DeliveryStatus.SENT, sent_at=timezone.now())


def _open(mailer: Any) -> None:
    """Opens the mailer's connection for a batch. A server that cannot be reached is not an error
    here: each send then tries on its own, and its row records why it failed."""
    try:
        mailer.open()
    except Exception:  # noqa: BLE001, S110 - send_messages reports the same error per row  # nosec B110
        pass


def _close(mailer: Any) -> None:
    try:
        mailer.close()
    except Exception:  # noqa: BLE001, S110 - a connection already gone  # nosec B110
        pass


def temporary(error: Exception) -> bool:
    """A refusal the server may not repeat later: a 4xx reply, or no server to talk to. Nothing was
    accepted, so sending again cannot make a second message."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(400 <= code < 500 for code, _message in error.recipients.values())
    if isinstance(error, smtplib.SMTPResponseException):
        return 400 <= error.smtp_code < 500
    return isinstance(error, (smtplib.SMTPConnectError, smtplib.SMTPServerDisconnected, ConnectionRefusedError,
                              ConnectionResetError))


def _not_sent(delivery: Delivery, error: Exception) -> None:
    """A temporary refusal: back to pending, tried again after 1, 2, 4 … minutes (crm/outbox.py's back-off),
    failed after MAX_SEND_ATTEMPTS. A timeout may have come after the server took the message: unknown,
    never sent again. Anything else: failed."""
    reason = f"{type(error).__name__}: {error}"[:200]
    row = Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENDING)
    attempts = delivery.attempts + 1
    if isinstance(error, TimeoutError):
        row.update(status=DeliveryStatus.UNKNOWN, reason=reason, attempts=attempts)
    elif temporary(error) and attempts < MAX_SEND_ATTEMPTS:
        row.update(status=DeliveryStatus.PENDING, reason=reason, attempts=attempts,
                   next_attempt_at=timezone.now() + outbox.backoff(attempts))
    else:
        row.update(status=DeliveryStatus.FAILED, reason=reason, attempts=attempts)


# --- Figures and unsubscribing -------------------------------------------------------------------


@dataclass
class MailingCounts:
    recipients: int = 0
    pending: int = 0
    sending: int = 0
    sent: int = 0
    suppressed: int = 0
    failed: int = 0
    unknown: int = 0
    unsubscribed: int = 0
    retrying: int = 0
    hard_bounces: int = 0
    soft_bounces: int = 0
    opened: int = 0
    clicked: int = 0


def counts(mailing: Mailing) -> MailingCounts:
    """All the mailing's figures in one query."""
    by_status: dict[str, Any] = {status: Count("pk", filter=Q(status=status)) for status in DeliveryStatus.values}
    row = Delivery.objects.filter(mailing=mailing).aggregate(
        recipients=Count("pk"), unsubscribed=Count("pk", filter=Q(unsubscribed_at__isnull=False)),
        retrying=Count("pk", filter=Q(status=DeliveryStatus.PENDING, attempts__gt=0)),
        hard_bounces=Count("pk", filter=Q(bounce="hard")), soft_bounces=Count("pk", filter=Q(bounce="soft")),
        opened=Count("pk", filter=Q(opened_at__isnull=False)), clicked=Count("pk", filter=Q(clicked_at__isnull=False)),
        **by_status)
    return MailingCounts(**row)


@transaction.atomic
def unsubscribe(*, delivery: Delivery, source: str = "unsubscribe link") -> bool:
    """The recipient opts out of marketing e-mail (recorded in the contact's history with its source);
    False when they had already."""
    now = timezone.now()
    Delivery.objects.filter(pk=delivery.pk, unsubscribed_at__isnull=True).update(unsubscribed_at=now)
    with pghistory.context(source=source, mailing=delivery.mailing_id):
        changed = Contact.objects.filter(pk=delivery.contact_id, email_opted_out_at__isnull=True).update(
            email_opt_in=False, email_opted_out_at=now, updated_at=now)
    return bool(changed)
