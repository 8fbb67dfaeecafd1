"""Quote services: numbering, totals, versions, statuses, discount approval, stale writes, expiry."""

import datetime
import io
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from pypdf import PdfReader

from accounts.tests.factories import AccountFactory
from activities.models import Activity, ActivityKind
from contacts.tests.factories import ContactFactory
from crm import scheduler
from crm.models import Notification, OutboxMail, OutboxStatus, Role
from crm.tests.factories import TeamFactory, UserFactory
from sales import quote_services as services
from sales.models import (
    ApprovalStatus,
    CompanyProfile,
    DiscountApproval,
    DiscountThreshold,
    OpportunityLine,
    Quote,
    QuoteStatus,
)
from sales.money import compute_totals
from sales.services import StaleWrite
from sales.tests.factories import OpportunityFactory
from sales.tests.quote_factories import make_quote

pytestmark = pytest.mark.django_db


def send(quote, actor, **kwargs):
    return services.quote_send(quote=quote, actor=actor, to=["ada@acme.example"], subject="Our offer",
                               message="Please find it attached.", **kwargs)


# --- Creation, numbering, totals ----------------------------------------------------------


def test_numbers_are_gap_free_per_year(owner):
    year = timezone.localdate().year
    first = make_quote(owner)
    with pytest.raises(ValidationError):  # refused: takes no number
        services.quote_create(actor=owner, account=first.account, currency="KWD")
    second = make_quote(owner, account=first.account, contact=None)
    next_year = services.quote_create(actor=owner, account=first.account,
                                      issue_date=datetime.date(year + 1, 1, 5))
    assert [first.number, second.number] == [f"Q-{year}-0001", f"Q-{year}-0002"]
    assert next_year.number == f"Q-{year + 1}-0001"
    assert next_year.valid_until == datetime.date(year + 1, 1, 5) + datetime.timedelta(days=30)


def test_a_quote_from_an_opportunity_copies_its_lines_contact_and_currency(owner):
    profile = CompanyProfile.current()
    profile.quote_validity_days, profile.default_quote_terms = 14, "Payment within 30 days."
    profile.save()
    contact = ContactFactory(owner=owner)
    opportunity = OpportunityFactory(owner=owner, currency="USD", name="Big deal")
    contact.account = opportunity.account
    contact.save()
    opportunity.primary_contact = contact
    opportunity.save()
    OpportunityLine.objects.create(opportunity=opportunity, name="Licence", quantity=3, unit_price=Decimal("250.00"),
                                   discount_pct=Decimal(5), tax_rate=Decimal(20), position=0)
    OpportunityLine.objects.create(opportunity=opportunity, name="Setup", quantity=1, unit_price=Decimal("99.99"),
                                   tax_rate=Decimal(0), position=1)

    quote = services.quote_create(actor=owner, opportunity=opportunity)

    assert (quote.account, quote.contact, quote.currency, quote.title) == (opportunity.account, contact, "USD",
                                                                          "Big deal")
    assert quote.valid_until == timezone.localdate() + datetime.timedelta(days=14)
    assert quote.terms == "Payment within 30 days."
    assert [line.name for line in quote.lines.all()] == ["Licence", "Setup"]
    expected = compute_totals(list(quote.lines.all()), currency="USD")
    assert (quote.subtotal, quote.discount_total, quote.tax_total, quote.total) == (
        expected.subtotal, expected.discount_total, expected.tax_total, expected.total)
    assert quote.total == Decimal("954.99")  # 750 − 37.50 + 142.50 tax + 99.99


def test_totals_are_stored_on_the_quote_and_its_lines(owner):
    quote = make_quote(owner, lines=[(3, "33.33", "10", "20"), (1, "0.05", "0", "7")], discount_pct="5")
    lines = list(quote.lines.all())
    totals = compute_totals(lines, currency=quote.currency, discount_pct=quote.discount_pct)
    assert [line.line_total for line in lines] == [amounts.total for amounts in totals.lines]
    assert quote.total == totals.total == quote.subtotal - quote.discount_total + quote.tax_total


def test_a_contact_of_another_account_is_refused(owner):
    other = ContactFactory(owner=owner, account=AccountFactory(owner=owner))
    with pytest.raises(ValidationError):
        services.quote_create(actor=owner, account=AccountFactory(owner=owner), contact=other)


# --- Editing and stale writes ----------------------------------------------------------------


def test_a_stale_write_is_refused_and_changes_nothing(owner, teammate):
    quote = make_quote(owner)
    seen = quote.lock_version
    services.quote_update(quote=quote, actor=owner, expected_version=seen, title="Changed by the first")
    with pytest.raises(StaleWrite):
        services.quote_update(quote=Quote.objects.get(pk=quote.pk), actor=owner, expected_version=seen,
                              title="Changed by the second")
    with pytest.raises(StaleWrite):
        services.quote_line_add(quote=quote, actor=owner, expected_version=seen, name="Extra", quantity=1,
                                unit_price=Decimal(1))
    quote.refresh_from_db()
    assert quote.title == "Changed by the first"
    assert quote.lines.count() == 1


def test_lines_change_the_totals_and_only_a_draft_changes(owner):
    quote = make_quote(owner)
    line = quote.lines.get()
    services.quote_line_update(line=line, actor=owner, expected_version=quote.lock_version, quantity=Decimal(5))
    quote.refresh_from_db()
    assert quote.total == Decimal("600.00")
    send(quote, owner)
    quote.refresh_from_db()
    with pytest.raises(ValidationError):
        services.quote_line_remove(line=line, actor=owner, expected_version=quote.lock_version)
    with pytest.raises(ValidationError):
        services.quote_update(quote=quote, actor=owner, expected_version=quote.lock_version, title="Too late")


def test_a_picked_product_fills_the_line(owner):
    from sales.tests.factories import PriceBookEntryFactory

    entry = PriceBookEntryFactory(unit_price=Decimal("80.00"))
    quote = make_quote(owner, lines=[], price_book=entry.price_book)
    line = services.quote_line_add(quote=quote, actor=owner, expected_version=None, product=entry.product,
                                   quantity=Decimal(2), unit_price=None, tax_rate=None, name="", unit="")
    assert (line.name, line.unit_price, line.tax_rate) == (entry.product.name, Decimal("80.00"), Decimal("20.00"))


# --- Statuses and versions ----------------------------------------------------------------------


def test_send_accept(owner):
    quote = make_quote(owner)
    send(quote, owner)
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.SENT and quote.sent_at
    services.quote_accept(quote=quote, actor=owner, expected_version=quote.lock_version)
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.ACCEPTED and quote.decided_at
    with pytest.raises(ValidationError):
        services.quote_reject(quote=quote, actor=owner)


def test_an_expired_quote_cannot_be_accepted(owner):
    quote = make_quote(owner)
    send(quote, owner)
    Quote.objects.filter(pk=quote.pk).update(valid_until=timezone.localdate() - datetime.timedelta(days=1))
    with pytest.raises(ValidationError, match="expired"):
        services.quote_accept(quote=quote, actor=owner)


def test_revising_a_sent_quote_makes_a_new_draft_version(owner):
    quote = make_quote(owner, lines=[(1, "10.00", "0", "0"), (2, "5.00", "0", "0")])
    send(quote, owner)
    quote.refresh_from_db()
    revision = services.quote_revise(quote=quote, actor=owner, expected_version=quote.lock_version)
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.SUPERSEDED
    assert (revision.number, revision.version, revision.status) == (quote.number, 2, QuoteStatus.DRAFT)
    assert revision.previous_version == quote and revision.display_number == f"{quote.number}/2"
    assert [(line.name, line.quantity) for line in revision.lines.all()] == [
        (line.name, line.quantity) for line in quote.lines.all()]
    assert revision.total == quote.total
    with pytest.raises(ValidationError):
        services.quote_revise(quote=quote, actor=owner)  # a superseded quote is revised no more
    with pytest.raises(ValidationError):
        services.quote_revise(quote=revision, actor=owner)  # a draft is just edited


def test_rejected_quote_can_be_revised(owner):
    quote = make_quote(owner)
    send(quote, owner)
    services.quote_reject(quote=quote, actor=owner)
    assert services.quote_revise(quote=quote, actor=owner).version == 2


# --- Sending ---------------------------------------------------------------------------------------


def test_sending_mails_the_pdf_and_logs_the_email_once(owner, django_capture_on_commit_callbacks):
    quote = make_quote(owner)
    with django_capture_on_commit_callbacks(execute=True):  # the queued e-mail goes out after the commit
        send(quote, owner)
    with pytest.raises(services.AlreadySent):
        send(Quote.objects.get(pk=quote.pk), owner)  # a double click
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ada@acme.example"] and message.subject == "Our offer"
    [(filename, content, mimetype)] = message.attachments
    assert filename == f"{quote.number}.pdf" and mimetype == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    assert "240.00" in text and quote.number in text
    activity = Activity.objects.get(kind=ActivityKind.EMAIL)
    assert (activity.account, activity.contact, activity.subject) == (quote.account, quote.contact, "Our offer")
    assert "Please find it attached." in activity.body


def test_an_empty_quote_is_not_sent(owner):
    quote = make_quote(owner, lines=[])
    with pytest.raises(ValidationError):
        send(quote, owner)
    assert not mail.outbox


def test_a_mail_server_that_is_down_queues_the_quote_e_mail(owner, settings, django_capture_on_commit_callbacks):
    """It used to answer 500 with nothing queued: now the quote is sent and its e-mail waits in the outbox."""
    quote = make_quote(owner)
    settings.MAILERS = {"default": {"BACKEND": "crm.tests.mail_helpers.RefusingBackend"}}
    with django_capture_on_commit_callbacks(execute=True):
        send(quote, owner)
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.SENT
    assert Activity.objects.filter(kind=ActivityKind.EMAIL).count() == 1
    queued = OutboxMail.objects.get(key=services.quote_mail_key(quote))
    assert queued.status == OutboxStatus.QUEUED and "mail server down" in queued.last_error and mail.outbox == []
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    scheduler.tick(now=queued.next_attempt_at)
    scheduler.tick(now=queued.next_attempt_at)
    assert len(mail.outbox) == 1 and mail.outbox[0].attachments[0][0] == f"{quote.number}.pdf"


# --- Discount control ------------------------------------------------------------------------------


def test_default_limits(owner, manager, admin_user):
    assert services.discount_limit(owner) == Decimal(10)
    assert services.discount_limit(manager) == Decimal(10)
    assert services.discount_limit(admin_user) is None
    DiscountThreshold.objects.create(role=Role.SALES_MANAGER, max_discount_pct=Decimal(25))
    assert services.discount_limit(manager) == Decimal(25)


def test_a_discount_over_the_limit_needs_the_managers_approval(owner, teammate, manager):
    quote = make_quote(owner, lines=[(1, "1000.00", "10", "20")], discount_pct="5")  # 14.5 % effective
    assert services.quote_discount(quote) == Decimal("14.50")
    assert services.approval_required(quote, owner)
    with pytest.raises(ValidationError, match="approval"):
        send(quote, owner)

    approval = services.quote_request_approval(quote=quote, actor=owner, expected_version=quote.lock_version)
    assert (approval.approver, approval.discount_pct, approval.threshold_pct) == (manager, Decimal("14.50"), 10)
    assert Notification.objects.filter(user=manager, text__contains=quote.number).exists()
    with pytest.raises(ValidationError):
        services.quote_request_approval(quote=quote, actor=owner)  # already waiting
    with pytest.raises(PermissionDenied):
        services.approval_decide(quote=quote, actor=teammate, approve=True)
    with pytest.raises(PermissionDenied):
        services.approval_decide(quote=quote, actor=owner, approve=True)  # not one's own

    services.approval_decide(quote=quote, actor=manager, approve=True, comment="Strategic customer")
    quote.refresh_from_db()
    approval.refresh_from_db()
    assert quote.approval_status == ApprovalStatus.APPROVED
    assert (approval.status, approval.decided_by, approval.comment) == (ApprovalStatus.APPROVED, manager,
                                                                        "Strategic customer")
    assert Notification.objects.filter(user=owner, text__contains="approved").exists()
    send(quote, owner)
    assert Quote.objects.get(pk=quote.pk).status == QuoteStatus.SENT


def test_changing_lines_after_approval_needs_a_new_one(owner, manager):
    quote = make_quote(owner, lines=[(1, "1000.00", "15", "0")])
    services.quote_request_approval(quote=quote, actor=owner)
    services.approval_decide(quote=quote, actor=manager, approve=True)
    quote.refresh_from_db()
    services.quote_line_add(quote=quote, actor=owner, expected_version=quote.lock_version, name="Extra",
                            quantity=Decimal(1), unit_price=Decimal(10))
    quote.refresh_from_db()
    assert quote.approval_status == ApprovalStatus.NOT_NEEDED
    assert services.approval_required(quote, owner)
    with pytest.raises(ValidationError):
        send(quote, owner)


def test_a_pending_request_follows_the_changes_or_is_withdrawn(owner, manager):
    quote = make_quote(owner, lines=[(1, "1000.00", "15", "0")])
    approval = services.quote_request_approval(quote=quote, actor=owner)
    line = quote.lines.get()
    services.quote_line_update(line=line, actor=owner, expected_version=None, discount_pct=Decimal(20))
    approval.refresh_from_db()
    assert approval.status == ApprovalStatus.PENDING and approval.discount_pct == Decimal("20.00")
    services.quote_line_update(line=line, actor=owner, expected_version=None, discount_pct=Decimal(5))
    approval.refresh_from_db()
    quote.refresh_from_db()
    assert approval.status == ApprovalStatus.REJECTED and "Withdrawn" in approval.comment
    assert quote.approval_status == ApprovalStatus.NOT_NEEDED and not services.approval_required(quote, owner)


def test_rejection_needs_a_comment_and_is_told_to_the_rep(owner, manager):
    quote = make_quote(owner, lines=[(1, "1000.00", "30", "0")])
    services.quote_request_approval(quote=quote, actor=owner)
    with pytest.raises(ValidationError):
        services.approval_decide(quote=quote, actor=manager, approve=False, comment=" ")
    services.approval_decide(quote=quote, actor=manager, approve=False, comment="Too deep")
    quote.refresh_from_db()
    assert quote.approval_status == ApprovalStatus.REJECTED
    assert Notification.objects.filter(user=owner, text__contains="Too deep").exists()
    assert services.approval_required(quote, owner)


def test_the_managers_own_quote_goes_to_the_admins(manager, admin_user):
    quote = make_quote(manager, lines=[(1, "1000.00", "30", "0")])
    approval = services.quote_request_approval(quote=quote, actor=manager)
    assert approval.approver is None
    assert Notification.objects.filter(user=admin_user).exists()
    assert not services.pending_approvals_for(manager).exists()
    assert list(services.pending_approvals_for(admin_user)) == [approval]
    with pytest.raises(PermissionDenied):
        services.approval_decide(quote=quote, actor=manager, approve=True)
    services.approval_decide(quote=quote, actor=admin_user, approve=True)
    assert Quote.objects.get(pk=quote.pk).approval_status == ApprovalStatus.APPROVED


def test_a_team_without_a_manager_goes_to_the_admins(admin_user):
    rep = UserFactory(role=Role.SALES_REP, team=TeamFactory(name="Unmanaged"))
    quote = make_quote(rep, lines=[(1, "100.00", "50", "0")])
    approval = services.quote_request_approval(quote=quote, actor=rep)
    assert approval.approver is None and services.can_decide(admin_user, approval)


def test_a_manager_of_another_team_cannot_decide(owner, admin_user):
    quote = make_quote(owner, lines=[(1, "100.00", "50", "0")])
    approval = services.quote_request_approval(quote=quote, actor=owner)
    other_manager = UserFactory(role=Role.SALES_MANAGER)
    TeamFactory(name="Elsewhere", manager=other_manager)
    approval = DiscountApproval.objects.select_related("quote__team").get(pk=approval.pk)
    assert not services.can_decide(other_manager, approval)
    assert services.can_decide(admin_user, approval)


def test_within_the_limit_no_approval_is_asked(owner, manager, admin_user):
    quote = make_quote(owner, lines=[(1, "100.00", "10", "0")])  # exactly the limit
    assert not services.approval_required(quote, owner)
    with pytest.raises(ValidationError):
        services.quote_request_approval(quote=quote, actor=owner)
    big = make_quote(owner, lines=[(1, "100.00", "40", "0")], account=quote.account, contact=None)
    assert services.approval_required(big, owner) and not services.approval_required(big, admin_user)
    DiscountThreshold.objects.create(role=Role.SALES_REP, max_discount_pct=Decimal(50))
    assert not services.approval_required(big, owner)


def test_thresholds_are_saved_by_admins_only(owner, admin_user):
    with pytest.raises(PermissionDenied):
        services.discount_thresholds_save(actor=owner, limits={Role.SALES_REP: Decimal(90)})
    services.discount_thresholds_save(actor=admin_user, limits={Role.SALES_REP: Decimal(15), Role.ADMIN: None})
    assert services.discount_limit(owner) == Decimal(15)
    services.discount_thresholds_save(actor=admin_user, limits={Role.SALES_REP: None})
    assert services.discount_limit(owner) == Decimal(10)


# --- Expiry ---------------------------------------------------------------------------------------------


def test_sent_quotes_past_validity_expire_once(owner):
    quote = make_quote(owner)
    send(quote, owner)
    draft = make_quote(owner, account=quote.account, contact=None)
    past = timezone.localdate() - datetime.timedelta(days=1)
    Quote.objects.filter(pk__in=[quote.pk, draft.pk]).update(valid_until=past)

    assert scheduler.tick()["quote_expiry"] == 1
    assert scheduler.tick()["quote_expiry"] == 0  # a second tick finds nothing to do
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.EXPIRED
    assert Quote.objects.get(pk=draft.pk).status == QuoteStatus.DRAFT
    assert Notification.objects.filter(user=owner, text__contains="expired").count() == 1


# --- PDF -------------------------------------------------------------------------------------------------------


def test_pdf_uses_the_admin_template_when_set(owner):
    quote = make_quote(owner)
    profile = CompanyProfile.current()
    profile.quote_template = "<html><body><h1>Custom {{ quote.number }}</h1> total {{ quote.total }}</body></html>"
    profile.save()
    text = PdfReader(io.BytesIO(services.quote_pdf(quote))).pages[0].extract_text()
    assert f"Custom {quote.number}" in text and "240.00" in text
