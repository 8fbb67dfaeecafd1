"""Writes on quotes (commercial proposals) and discount approvals.

Every write locks the quote row and checks the lock_version the person's page was rendered with
(sales.services.check_version): two people editing the same quote never overwrite each other
silently; the second gets StaleWrite and reloads. Totals are always computed by
sales.money.compute_totals and stored on the quote and its lines.

Statuses: draft → sent → accepted / rejected / expired; revising a sent, rejected or expired quote
marks it superseded and opens a new draft version with the same number.

Discount control: the largest discount a role may give without approval is a DiscountThreshold
row; a role without one may give up to DEFAULT_THRESHOLD (10 %), administrators without limit.
A quote whose effective discount (sales.money.effective_discount_pct) is above the sender's limit
is sent only once a DiscountApproval is approved by the owner's team manager, or by an
administrator when the team has no manager or the manager asks for their own quote. Any change
of the priced content after a decision makes the decision void (approval needed again).
"""

import datetime
import logging
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm import formatting, hooks, notifications, outbox, scheduler
from crm.models import Notification, NotificationKind, User
from crm.roles import Role
from sales.models import (
    ApprovalStatus,
    CompanyProfile,
    DiscountApproval,
    DiscountThreshold,
    Opportunity,
    Quote,
    QuoteLine,
    QuoteStatus,
)
from sales.money import MINOR_UNITS, compute_totals, effective_discount_pct
from sales.pdf import render_pdf
from sales.product_services import document_price
from sales.services import StaleWrite, bump_version, check_version, next_number
from webhooks.services import emit

logger = logging.getLogger(__name__)

DEFAULT_THRESHOLD = Decimal(10)  # a role without a DiscountThreshold row (administrators: no limit)
LINE_FIELDS = ["product", "name", "description", "quantity", "unit", "unit_price", "discount_pct", "tax_rate"]
HEADER_FIELDS = {"title", "contact", "price_book", "currency", "discount_pct", "issue_date", "valid_until", "terms",
                 "notes", "owner", "shared_with_team"}
PRICED_FIELDS = {"currency", "discount_pct"}
REVISABLE = {QuoteStatus.SENT, QuoteStatus.REJECTED, QuoteStatus.EXPIRED}

__all__ = ["StaleWrite"]


class AlreadySent(ValidationError):
    """A second click on "Send": the quote left the draft status meanwhile; nothing is sent twice."""


# --- Discount limits -------------------------------------------------------------------


def discount_limit(user: User) -> Decimal | None:
    """The largest discount `user` may give without approval; None means no limit."""
    row = DiscountThreshold.objects.filter(role=user.role).values_list("max_discount_pct", flat=True).first()
    if row is not None:
        return row
    return None if user.is_admin else DEFAULT_THRESHOLD


def default_limit_for_role(role: str) -> Decimal | None:
    return None if role == Role.ADMIN else DEFAULT_THRESHOLD


def quote_discount(quote: Quote, lines=None) -> Decimal:
    lines = list(quote.lines.all()) if lines is None else lines
    return effective_discount_pct(lines, discount_pct=quote.discount_pct)


def approval_required(quote: Quote, user: User, lines=None) -> bool:
    """Whether `user` may not send the quote as it is without an approved discount."""
    limit = discount_limit(user)
    if limit is None or quote_discount(quote, lines) <= limit:
        return False
    return quote.approval_status != ApprovalStatus.APPROVED


@transaction.atomic
def discount_thresholds_save(*, actor: User, limits: dict[str, Decimal | None]) -> None:
    """Admins: the largest discount per role; None removes the row (the role gets the default)."""
    if not actor.is_admin:
        raise PermissionDenied
    for role, value in limits.items():
        if value is None:
            DiscountThreshold.objects.filter(role=role).delete()
        else:
            DiscountThreshold.objects.update_or_create(role=role, defaults={"max_discount_pct": value})


# --- Totals ------------------------------------------------------------------------------------


def _recompute(quote: Quote) -> list[QuoteLine]:
    """Stores the totals of the quote and of each line (sales.money is the only arithmetic)."""
    lines = list(quote.lines.all())
    totals = compute_totals(lines, currency=quote.currency, discount_pct=quote.discount_pct)
    for line, amounts in zip(lines, totals.lines, strict=True):
        line.line_total = amounts.total
    QuoteLine.objects.bulk_update(lines, ["line_total"])
    quote.subtotal, quote.discount_total = totals.subtotal, totals.discount_total
    quote.tax_total, quote.total = totals.tax_total, totals.total
    return lines


def _check_currency(currency: str) -> None:
    # Document amounts are stored with two decimals; a three-decimal currency would be rounded twice.
    if MINOR_UNITS.get(currency.upper(), 2) > 2:
        raise ValidationError({"currency": _("Quotes in %(currency)s are not supported yet: amounts are kept "
                                             "with at most two decimals.") % {"currency": currency}})


ISSUE_DATE_SLACK = datetime.timedelta(days=366)


def _check_dates(quote: Quote) -> None:
    """The issue date is a real date near today (it also picks the number's year), and the quote is
    valid from it on: the same rules as the other dates people type."""
    today = timezone.localdate()
    issue, valid_until = quote.issue_date, quote.valid_until
    if not isinstance(issue, datetime.date):
        raise ValidationError({"issue_date": _("Enter the date of the quote.")})
    if not today - ISSUE_DATE_SLACK <= issue <= today + ISSUE_DATE_SLACK:
        raise ValidationError({"issue_date": _("The date of a quote must be within a year of today (%(today)s).")
                               % {"today": formatting.day(today)}})
    if isinstance(valid_until, datetime.date) and valid_until < issue:
        raise ValidationError({"valid_until": _("A quote cannot expire before its date (%(date)s).")
                               % {"date": formatting.day(issue)}})


def _check_price_book(quote: Quote) -> None:
    book = quote.price_book if quote.price_book_id else None
    if book is not None and book.currency.upper() != (quote.currency or "").upper():
        raise ValidationError({"price_book": _(
            "The price book %(book)s is in %(book_currency)s, this quote is in %(currency)s: choose a price book in "
            "%(currency)s.") % {"book": book.name, "book_currency": book.currency, "currency": quote.currency}})


def _check_contact(quote: Quote) -> None:
    contact = quote.contact if quote.contact_id else None
    if contact is not None and contact.account_id != quote.account_id:
        raise ValidationError({"contact": _("This contact belongs to another account.")})


def _check_draft(quote: Quote) -> None:
    if quote.status != QuoteStatus.DRAFT:
        raise ValidationError(_("Only a draft can be changed. Revise the quote to make a new version."))


def _locked(quote: Quote, expected_version: int | None) -> Quote:
    """The current, row-locked quote; StaleWrite when it changed since `expected_version`."""
    return check_version(Quote, pk=quote.pk, expected=expected_version)


def _save(quote: Quote, *, content_changed: bool, actor: User) -> Quote:
    if content_changed:
        _recompute(quote)
        _content_changed(quote, actor)
    bump_version(quote)
    quote.save()
    quote.refresh_from_db(fields=["lock_version"])
    return quote


def _content_changed(quote: Quote, actor: User) -> None:
    """A decision covers the content it was taken on: after a change it no longer applies."""
    if quote.approval_status in (ApprovalStatus.APPROVED, ApprovalStatus.REJECTED):
        quote.approval_status = ApprovalStatus.NOT_NEEDED
    elif quote.approval_status == ApprovalStatus.PENDING:
        pending = quote.approvals.filter(status=ApprovalStatus.PENDING).first()
        discount = quote_discount(quote)
        if pending is not None and discount > pending.threshold_pct:
            pending.discount_pct = discount  # the approver decides on the figures as they are now
            pending.save(update_fields=["discount_pct"])
        else:
            if pending is not None:
                pending.status, pending.decided_at = ApprovalStatus.REJECTED, timezone.now()
                pending.comment = _("Withdrawn: the discount is now within the limit.")
                pending.save(update_fields=["status", "decided_at", "comment"])
            quote.approval_status = ApprovalStatus.NOT_NEEDED


# --- Quotes --------------------------------------------------------------------------------------


@transaction.atomic
def quote_create(*, actor: User, opportunity: Opportunity | None = None, account=None, owner: User | None = None,
                 **fields) -> Quote:
    """A new draft: from an opportunity (its lines, account, primary contact and currency are copied)
    or from scratch for an account. Numbered Q-<year>-<n>, gap-free per year."""
    profile = CompanyProfile.current()
    if opportunity is not None:
        account = opportunity.account
        contact = opportunity.primary_contact
        fields.setdefault("contact", contact if contact and contact.account_id == account.pk else None)
        fields.setdefault("currency", opportunity.currency)
        fields.setdefault("title", opportunity.name)
    if account is None:
        raise ValidationError({"account": _("Choose the customer this quote is for.")})
    owner = owner or actor
    today = timezone.localdate()
    fields.setdefault("issue_date", today)
    fields.setdefault("valid_until", fields["issue_date"] + datetime.timedelta(days=profile.quote_validity_days))
    fields.setdefault("terms", profile.default_quote_terms)
    if not fields.get("title"):
        fields["title"] = _("Quote for %(account)s") % {"account": account.name}
    quote = Quote(owner=owner, team_id=owner.team_id, account=account, opportunity=opportunity, **fields)
    _check_currency(quote.currency)
    _check_dates(quote)
    _check_price_book(quote)
    _check_contact(quote)
    quote.number = "-"  # full_clean wants a value; the real number is taken last, after validation
    quote.full_clean()
    quote.number = next_number("quote", "Q", on=quote.issue_date)
    quote.save()
    if opportunity is not None:
        QuoteLine.objects.bulk_create([
            QuoteLine(quote=quote, position=line.position, **{name: getattr(line, name) for name in LINE_FIELDS})
            for line in opportunity.lines.all()
        ])
    _recompute(quote)
    quote.save(update_fields=["subtotal", "discount_total", "tax_total", "total"])
    emit("quote.created", quote, actor=actor)
    return quote


@transaction.atomic
def quote_update(*, quote: Quote, actor: User, expected_version: int | None, **fields) -> Quote:
    """Changes the header of a draft. StaleWrite when somebody changed the quote meanwhile."""
    unknown = set(fields) - HEADER_FIELDS
    if unknown:
        raise ValueError(f"Not editable: {sorted(unknown)}")
    current = _locked(quote, expected_version)
    _check_draft(current)
    for name, value in fields.items():
        setattr(current, name, value)
    if "owner" in fields:
        current.team_id = current.owner.team_id  # the record follows its owner's team
    _check_currency(current.currency)
    if {"issue_date", "valid_until"} & set(fields):
        _check_dates(current)
    _check_price_book(current)
    _check_contact(current)
    current.full_clean()
    return _save(current, content_changed=True, actor=actor)


def _line_defaults(quote: Quote, fields: dict) -> dict:
    """Fills what a picked product knows (name, unit, price from the quote's price book, tax)."""
    product = fields.get("product")
    if product is None:
        return fields
    fields = dict(fields)
    if not fields.get("name"):
        fields["name"] = product.name
    if not fields.get("unit"):
        fields["unit"] = product.unit
    price = document_price(product, quote.price_book, quote.currency)  # refused unless priced in its currency
    if fields.get("unit_price") is None:
        fields["unit_price"] = price
    if fields.get("tax_rate") is None:
        fields["tax_rate"] = product.tax_rate
    return fields


def _clean_line(line: QuoteLine) -> None:
    if line.discount_pct is None:
        line.discount_pct = Decimal(0)
    if line.tax_rate is None:
        line.tax_rate = Decimal(0)
    line.full_clean(exclude=["quote"])


@transaction.atomic
def quote_line_add(*, quote: Quote, actor: User, expected_version: int | None, **fields) -> QuoteLine:
    current = _locked(quote, expected_version)
    _check_draft(current)
    fields = _line_defaults(current, fields)
    last = current.lines.order_by("-position").values_list("position", flat=True).first()
    line = QuoteLine(quote=current, position=(last + 1) if last is not None else 0, **fields)
    _clean_line(line)
    line.save()
    _save(current, content_changed=True, actor=actor)
    quote.lock_version = current.lock_version
    return line


@transaction.atomic
def quote_line_update(*, line: QuoteLine, actor: User, expected_version: int | None, **fields) -> QuoteLine:
    current = _locked(line.quote, expected_version)
    _check_draft(current)
    fields = _line_defaults(current, fields)
    for name, value in fields.items():
        setattr(line, name, value)
    _clean_line(line)
    line.save()
    _save(current, content_changed=True, actor=actor)
    return line


@transaction.atomic
def quote_line_remove(*, line: QuoteLine, actor: User, expected_version: int | None) -> None:
    current = _locked(line.quote, expected_version)
    _check_draft(current)
    line.delete()
    _save(current, content_changed=True, actor=actor)


@transaction.atomic
def company_profile_update(*, actor: User, profile: CompanyProfile, remove_logo: bool = False) -> CompanyProfile:
    """Admins: our company as printed on documents, and the PDF templates (already syntax-checked)."""
    if not actor.is_admin:
        raise PermissionDenied
    if remove_logo and profile.logo:
        profile.logo.delete(save=False)
        profile.logo = ""
    profile.full_clean()
    profile.save()
    return profile


@transaction.atomic
def quote_delete(*, quote: Quote, actor: User, expected_version: int | None = None) -> None:
    """Soft delete of a draft (its number stays taken: numbers are never reused)."""
    current = _locked(quote, expected_version)
    _check_draft(current)
    current.deleted_at = timezone.now()
    current.save(update_fields=["deleted_at", "updated_at"])


# --- Discount approval ------------------------------------------------------------------------


def _approver_for(quote: Quote, requester: User) -> User | None:
    """The owner's team manager; None (any administrator) when there is none, or when the manager
    asks for a quote of their own."""
    team = quote.team
    manager = team.manager if team is not None else None
    if manager is None or not manager.is_active or manager.pk in (requester.pk, quote.owner_id):
        return None
    return manager


def _admins():
    return User.objects.filter(is_active=True, role=Role.ADMIN)


def can_decide(user: User, approval: DiscountApproval) -> bool:
    """The addressed manager (while they still manage the quote's team) or an administrator;
    nobody decides their own request."""
    if approval.status != ApprovalStatus.PENDING or approval.requested_by_id == user.pk:
        return False
    if user.is_admin:
        return True
    quote = approval.quote
    team = quote.team if quote.team_id is not None else None
    return approval.approver_id == user.pk and team is not None and team.manager_id == user.pk


def pending_approvals_for(user: User):
    pending = DiscountApproval.objects.filter(status=ApprovalStatus.PENDING, quote__deleted_at__isnull=True)
    if user.is_admin:
        return pending.exclude(requested_by=user)
    return pending.filter(approver=user, quote__team__manager=user).exclude(requested_by=user)


APPROVAL_ASKED = notifications.message(
    "quote.approval_asked",
    gettext_lazy("%(actor)s asks you to approve a %(discount)s%% discount on quote %(number)s (%(account)s)."))
DISCOUNT_APPROVED = notifications.message(
    "quote.discount_approved", gettext_lazy("%(actor)s approved the discount on quote %(number)s."))
DISCOUNT_REJECTED = notifications.message(
    "quote.discount_rejected", gettext_lazy("%(actor)s rejected the discount on quote %(number)s."))
DISCOUNT_APPROVED_WITH_COMMENT = notifications.message(
    "quote.discount_approved_comment",
    gettext_lazy("%(actor)s approved the discount on quote %(number)s. Comment: %(comment)s"))
DISCOUNT_REJECTED_WITH_COMMENT = notifications.message(
    "quote.discount_rejected_comment",
    gettext_lazy("%(actor)s rejected the discount on quote %(number)s. Comment: %(comment)s"))
QUOTE_EXPIRED = notifications.message(
    "quote.expired",
    gettext_lazy("Quote %(number)s expired on %(date)s without an answer: revise it to send a new version."))


def _notify(users, *, message: notifications.Message, params: dict, url: str) -> None:
    Notification.objects.bulk_create([
        notifications.build(user=user, kind=NotificationKind.ASSIGNMENT, message=message, params=params, url=url)
        for user in users])


@transaction.atomic
def quote_request_approval(*, quote: Quote, actor: User, expected_version: int | None = None) -> DiscountApproval:
    current = _locked(quote, expected_version)
    _check_draft(current)
    if current.approval_status == ApprovalStatus.PENDING:
        raise ValidationError(_("Approval was already requested; the approver has been notified."))
    discount = quote_discount(current)
    limit = discount_limit(actor)
    if limit is None or discount <= limit:
        raise ValidationError(_("The discount is within your limit: no approval is needed."))
    approver = _approver_for(current, actor)
    approval = DiscountApproval.objects.create(quote=current, requested_by=actor, discount_pct=discount,
                                               threshold_pct=limit, approver=approver)
    current.approval_status = ApprovalStatus.PENDING
    _save(current, content_changed=False, actor=actor)
    approvers = [approver] if approver is not None else list(_admins().exclude(pk=actor.pk)) or list(_admins())
    _notify(approvers, url=reverse("sales:approval_list"), message=APPROVAL_ASKED,
            params={"actor": str(actor), "discount": notifications.figure(discount, 2),
                    "number": current.display_number, "account": str(current.account)})
    return approval


@transaction.atomic
def approval_decide(*, quote: Quote, actor: User, approve: bool, comment: str = "",
                    expected_version: int | None = None) -> DiscountApproval:
    """The approver's decision on the quote as they saw it: a quote changed since (a bigger discount)
    raises StaleWrite instead of approving what they never looked at."""
    current = _locked(quote, expected_version)
    approval = current.approvals.select_for_update().filter(status=ApprovalStatus.PENDING).first()
    if approval is None:
        raise ValidationError(_("There is no request waiting for a decision on this quote."))
    approval.quote = current
    if not can_decide(actor, approval):
        raise PermissionDenied
    comment = comment.strip()
    if not approve and not comment:
        raise ValidationError({"comment": _("Say why the discount is rejected, so the rep can rework the quote.")})
    approval.status = ApprovalStatus.APPROVED if approve else ApprovalStatus.REJECTED
    approval.decided_by, approval.decided_at, approval.comment = actor, timezone.now(), comment[:500]
    approval.save(update_fields=["status", "decided_by", "decided_at", "comment"])
    current.approval_status = approval.status
    _save(current, content_changed=False, actor=actor)
    people = {approval.requested_by_id, current.owner_id} - {actor.pk}
    if comment:
        message = DISCOUNT_APPROVED_WITH_COMMENT if approve else DISCOUNT_REJECTED_WITH_COMMENT
    else:
        message = DISCOUNT_APPROVED if approve else DISCOUNT_REJECTED
    params = {"actor": str(actor), "number": current.display_number}
    if comment:
        params["comment"] = comment
    _notify(User.objects.filter(pk__in=people), message=message, params=params, url=current.get_absolute_url())
    return approval


# --- PDF and sending ---------------------------------------------------------------------------------


def quote_pdf_context(quote: Quote, lines=None) -> dict:
    profile = CompanyProfile.current()
    lines = list(quote.lines.all()) if lines is None else lines
    return {
        "quote": quote, "lines": lines, "company": profile, "account": quote.account, "contact": quote.contact,
        "logo_url": profile.logo.name if profile.logo else "",
        "discount_pct": quote.discount_pct, "currency": quote.currency,
    }


def quote_pdf(quote: Quote, *, source: str | None = None, lines=None) -> bytes:
    """The quote as a PDF: the admin's template when set (CompanyProfile.quote_template), else the built-in one."""
    if source is None:
        source = CompanyProfile.current().quote_template
    return render_pdf(builtin="sales/pdf/quote.html", source=source, context=quote_pdf_context(quote, lines))


def pdf_filename(quote: Quote) -> str:
    suffix = f"-v{quote.version}" if quote.version > 1 else ""
    return f"{quote.number}{suffix}.pdf"


@transaction.atomic
def quote_send(*, quote: Quote, actor: User, to: list[str], subject: str, message: str,
               expected_version: int | None = None) -> Quote:
    """E-mails the quote with its PDF, marks it sent and logs the e-mail on the timeline. The status is
    checked under the row lock, so a double click sends once (the second gets AlreadySent)."""
    current = _locked(quote, None)
    if current.status == QuoteStatus.SENT:
        raise AlreadySent(_("This quote was already sent."))
    _check_draft(current)
    if expected_version is not None and current.lock_version != expected_version:
        raise StaleWrite(current)
    lines = list(current.lines.all())
    if not lines:
        raise ValidationError(_("Add at least one line before sending the quote."))
    if approval_required(current, actor, lines):
        raise ValidationError(_("The discount is above your limit: request approval before sending."))
    if not to:
        raise ValidationError({"to": _("Give at least one e-mail address.")})
    pdf = quote_pdf(current, lines=lines)
    current.status, current.sent_at = QuoteStatus.SENT, timezone.now()
    _save(current, content_changed=False, actor=actor)
    # Logged on the customer's timeline by activities/hooks.py.
    hooks.publish(hooks.QUOTE_SENT, quote=current, actor=actor, subject=subject,
                  body=_("To: %(to)s\nAttached: %(file)s\n\n%(message)s") % {
                      "to": ", ".join(to), "file": pdf_filename(current), "message": message})
    email = EmailMultiAlternatives(subject=subject, body=message, to=to,
                                   reply_to=[actor.email] if actor.email else None)
    # An HTML part beside the plain text: the message as typed (escaped) and the quote's key figures.
    email.attach_alternative(render_to_string("sales/email/quote.html", {
        "subject": subject, "message": message, "quote": current, "filename": pdf_filename(current),
        "company": CompanyProfile.current()}), "text/html")
    email.attach(pdf_filename(current), pdf, "application/pdf")
    # Queued with the change (crm/outbox.py): a mail server that is down delays the e-mail, never loses it.
    outbox.queue(email, key=quote_mail_key(current))
    emit("quote.sent", current, actor=actor)
    return current


def quote_mail_key(quote: Quote) -> str:
    """The outbox key of the quote's e-mail: one per quote version (a revision is a new row)."""
    return f"quote:{quote.pk}"


def _decide(quote: Quote, actor: User, status: str, expected_version: int | None) -> Quote:
    current = _locked(quote, expected_version)
    if current.status != QuoteStatus.SENT:
        raise ValidationError(_("Only a sent quote can be accepted or rejected."))
    if status == QuoteStatus.ACCEPTED and current.valid_until < timezone.localdate():
        raise ValidationError(_("This quote expired on %(date)s: revise it to make a new version.")
                              % {"date": current.valid_until})
    current.status, current.decided_at = status, timezone.now()
    return _save(current, content_changed=False, actor=actor)


@transaction.atomic
def quote_accept(*, quote: Quote, actor: User, expected_version: int | None = None) -> Quote:
    current = _decide(quote, actor, QuoteStatus.ACCEPTED, expected_version)
    emit("quote.accepted", current, actor=actor)
    return current


@transaction.atomic
def quote_reject(*, quote: Quote, actor: User, expected_version: int | None = None) -> Quote:
    current = _decide(quote, actor, QuoteStatus.REJECTED, expected_version)
    emit("quote.rejected", current, actor=actor)
    return current


@transaction.atomic
def quote_revise(*, quote: Quote, actor: User, expected_version: int | None = None) -> Quote:
    """The quote (sent, rejected or expired) becomes superseded; a new draft version with the same
    number, a fresh validity and the same lines takes its place."""
    current = _locked(quote, expected_version)
    if current.status not in REVISABLE:
        raise ValidationError(_("Only a sent, rejected or expired quote can be revised."))
    current.status = QuoteStatus.SUPERSEDED
    _save(current, content_changed=False, actor=actor)
    profile = CompanyProfile.current()
    today = timezone.localdate()
    revision = Quote.objects.create(
        number=current.number, version=current.version + 1, previous_version=current, title=current.title,
        opportunity=current.opportunity, account=current.account, contact=current.contact,
        price_book=current.price_book, currency=current.currency, discount_pct=current.discount_pct,
        owner=current.owner, team_id=current.team_id, shared_with_team=current.shared_with_team,
        issue_date=today, valid_until=today + datetime.timedelta(days=profile.quote_validity_days),
        terms=current.terms, notes=current.notes,
    )
    QuoteLine.objects.bulk_create([
        QuoteLine(quote=revision, position=line.position, **{name: getattr(line, name) for name in LINE_FIELDS})
        for line in current.lines.all()
    ])
    _recompute(revision)
    revision.save(update_fields=["subtotal", "discount_total", "tax_total", "total"])
    emit("quote.created", revision, actor=actor)
    return revision


# --- Expiry (scheduler) --------------------------------------------------------------------------------

EXPIRY_BATCH = 500


@scheduler.source("quote_expiry")
def expire_quotes(now: datetime.datetime) -> int:
    """Sent quotes past their validity become expired. Each is claimed with a compare-and-set
    UPDATE (status still "sent"), so of two ticks at once only one expires it and notifies."""
    today = timezone.localdate(now)
    due = Quote.objects.filter(status=QuoteStatus.SENT, valid_until__lt=today, deleted_at__isnull=True)
    expired = 0
    for quote in due.only("id", "number", "version", "owner_id", "valid_until").order_by("valid_until")[:EXPIRY_BATCH]:
        claimed = Quote.objects.filter(pk=quote.pk, status=QuoteStatus.SENT).update(
            status=QuoteStatus.EXPIRED, lock_version=F("lock_version") + 1, updated_at=now)
        if not claimed:
            continue
        expired += 1
        notifications.notify(
            user=quote.owner_id, kind=NotificationKind.ASSIGNMENT, url=quote.get_absolute_url(),
            message=QUOTE_EXPIRED, params={"number": quote.display_number,
                                           "date": notifications.date(quote.valid_until)})
    return expired
