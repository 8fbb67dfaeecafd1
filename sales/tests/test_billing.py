"""Orders, invoices, payments, receivables and overdue notices: the services."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from crm import scheduler
from crm.models import Notification
from sales import billing_notices, billing_services, receivables
from sales.models import (
    CompanyProfile,
    Invoice,
    InvoiceStatus,
    Order,
    OrderStatus,
    Payment,
    QuoteStatus,
)
from sales.services import StaleWrite
from sales.tests.billing_helpers import accepted_quote, invoice_for, order_for

pytestmark = pytest.mark.django_db


# --- Orders ---------------------------------------------------------------------------------


def test_order_from_accepted_quote_copies_lines_and_totals(owner):
    quote = accepted_quote(owner, discount_pct=Decimal("5"))
    order = billing_services.order_create_from_quote(quote=quote, actor=owner)
    year = timezone.localdate().year
    assert order.number == f"SO-{year}-0001"
    assert (order.owner, order.team, order.account, order.quote) == (owner, owner.team, quote.account, quote)
    assert order.status == OrderStatus.NEW and order.currency == "EUR" and order.discount_pct == Decimal("5")
    lines = list(order.lines.order_by("position"))
    assert [(line.name, line.quantity, line.unit_price, line.line_total) for line in lines] == [
        ("Widget", Decimal("2.000"), Decimal("100.00"), Decimal("180.00")),
        ("Support plan", Decimal("1.000"), Decimal("250.00"), Decimal("250.00")),
    ]
    # 430 after line discounts, 5 % overall (9.00 + 12.50), tax 20 % of 171.00 and 237.50
    assert (order.subtotal, order.discount_total, order.tax_total, order.total) == (
        Decimal("450.00"), Decimal("41.50"), Decimal("81.70"), Decimal("490.20"))


def test_lines_are_frozen_when_the_quote_changes_later(owner):
    quote = accepted_quote(owner)
    order = billing_services.order_create_from_quote(quote=quote, actor=owner)
    quote.lines.update(unit_price=Decimal("999.00"))
    order.refresh_from_db()
    assert order.total == Decimal("516.00")
    assert order.lines.filter(unit_price=Decimal("999.00")).count() == 0


@pytest.mark.parametrize("status", [QuoteStatus.DRAFT, QuoteStatus.SENT, QuoteStatus.REJECTED, QuoteStatus.EXPIRED])
def test_only_an_accepted_quote_becomes_an_order(owner, status):
    quote = accepted_quote(owner, status=status)
    with pytest.raises(ValidationError, match="Only an accepted quote"):
        billing_services.order_create_from_quote(quote=quote, actor=owner)
    assert not Order.objects.exists()


def test_a_quote_becomes_an_order_once(owner):
    quote = accepted_quote(owner)
    first = billing_services.order_create_from_quote(quote=quote, actor=owner)
    with pytest.raises(ValidationError, match=f"already became order {first.number}"):
        billing_services.order_create_from_quote(quote=quote, actor=owner)
    assert Order.objects.count() == 1


def test_order_status_transitions(owner):
    order = order_for(owner)
    with pytest.raises(ValidationError, match="cannot become delivered"):
        billing_services.order_set_status(order=order, status=OrderStatus.DELIVERED, actor=owner)
    order = billing_services.order_set_status(order=order, status=OrderStatus.CONFIRMED, actor=owner,
                                              expected_version=order.lock_version)
    assert order.status == OrderStatus.CONFIRMED and order.lock_version == 2
    billing_services.order_set_status(order=order, status=OrderStatus.SHIPPED, actor=owner)
    billing_services.order_set_status(order=order, status=OrderStatus.DELIVERED, actor=owner)
    with pytest.raises(ValidationError, match="cannot become cancelled"):
        billing_services.order_set_status(order=order, status=OrderStatus.CANCELLED, actor=owner)
    with pytest.raises(ValidationError):
        billing_services.order_set_status(order=order, status="teleported", actor=owner)


def test_cancel_from_new_and_confirmed_only_without_invoice(owner):
    new = order_for(owner)
    assert billing_services.order_set_status(order=new, status=OrderStatus.CANCELLED, actor=owner).status == "cancelled"
    confirmed = order_for(owner)
    billing_services.order_set_status(order=confirmed, status=OrderStatus.CONFIRMED, actor=owner)
    billing_services.invoice_create_from_order(order=confirmed, actor=owner)
    with pytest.raises(ValidationError, match="cancel the invoice"):
        billing_services.order_set_status(order=confirmed, status=OrderStatus.CANCELLED, actor=owner)


def test_stale_status_change_is_refused(owner):
    order = order_for(owner)
    billing_services.order_set_status(order=order, status=OrderStatus.CONFIRMED, actor=owner, expected_version=1)
    with pytest.raises(StaleWrite):
        billing_services.order_set_status(order=order, status=OrderStatus.CANCELLED, actor=owner, expected_version=1)
    assert Order.objects.get().status == OrderStatus.CONFIRMED


def test_shipment_moves_confirmed_order_to_shipped(owner):
    order = order_for(owner)
    with pytest.raises(ValidationError, match="Confirm the order"):
        billing_services.shipment_record(order=order, actor=owner, carrier="DHL")
    billing_services.order_set_status(order=order, status=OrderStatus.CONFIRMED, actor=owner)
    shipment = billing_services.shipment_record(order=order, actor=owner, carrier="DHL", tracking_number="JD0001",
                                                note="Pallet 1 of 2")
    assert shipment.recorded_by == owner and shipment.shipped_on == timezone.localdate()
    assert Order.objects.get().status == OrderStatus.SHIPPED
    billing_services.shipment_record(order=order, actor=owner, carrier="DHL", note="Pallet 2 of 2")
    assert order.shipments.count() == 2


# --- Invoices -------------------------------------------------------------------------------


def test_invoice_from_order_numbered_and_due(owner):
    profile = CompanyProfile.current()
    profile.invoice_due_days = 30
    profile.save()
    first = billing_services.invoice_create_from_order(order=order_for(owner), actor=owner)
    second = billing_services.invoice_create_from_order(order=order_for(owner), actor=owner)
    year = timezone.localdate().year
    assert (first.number, second.number) == (f"INV-{year}-0001", f"INV-{year}-0002")
    assert first.issue_date == timezone.localdate()
    assert first.due_date == timezone.localdate() + datetime.timedelta(days=30)
    assert first.total == Decimal("516.00") and first.lines.count() == 2 and first.status == InvoiceStatus.ISSUED
    assert (first.owner, first.account) == (owner, first.order.account)


def test_order_invoiced_once_unless_cancelled(owner):
    order = order_for(owner)
    invoice = billing_services.invoice_create_from_order(order=order, actor=owner)
    with pytest.raises(ValidationError, match="already invoiced"):
        billing_services.invoice_create_from_order(order=order, actor=owner)
    billing_services.invoice_cancel(invoice=invoice, actor=owner)
    again = billing_services.invoice_create_from_order(order=order, actor=owner)
    assert again.number != invoice.number and order.invoices.count() == 2


def test_cancelled_order_is_not_invoiced(owner):
    order = order_for(owner)
    billing_services.order_set_status(order=order, status=OrderStatus.CANCELLED, actor=owner)
    with pytest.raises(ValidationError, match="cancelled order"):
        billing_services.invoice_create_from_order(order=order, actor=owner)


# --- Payments -------------------------------------------------------------------------------


def test_partial_payments_then_paid(owner):
    invoice = invoice_for(owner)
    billing_services.payment_record(invoice=invoice, amount=Decimal("200.00"), paid_on=timezone.localdate(),
                                    method="bank_transfer", reference="TX-1", actor=owner)
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PARTLY_PAID and invoice.balance == Decimal("316.00")
    billing_services.payment_record(invoice=invoice, amount="316.00", paid_on=None, method="card", reference="",
                                    actor=owner)
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID and invoice.amount_paid == Decimal("516.00")
    with pytest.raises(ValidationError, match="paid in full"):
        billing_services.payment_record(invoice=invoice, amount="1", paid_on=None, method="cash", reference="",
                                        actor=owner)


@pytest.mark.parametrize(("amount", "message"), [
    ("516.01", "more than the balance"), ("0", "more than zero"), ("-5", "more than zero"),
    ("10.005", "at most 2 decimal"), ("abc", "as a number"),
])
def test_bad_payments_change_nothing(owner, amount, message):
    invoice = invoice_for(owner)
    with pytest.raises(ValidationError, match=message):
        billing_services.payment_record(invoice=invoice, amount=amount, paid_on=None, method="cash", reference="",
                                        actor=owner)
    invoice.refresh_from_db()
    assert invoice.amount_paid == 0 and invoice.status == InvoiceStatus.ISSUED and not Payment.objects.exists()


def test_payment_in_the_future_or_on_cancelled_invoice_refused(owner):
    invoice = invoice_for(owner)
    with pytest.raises(ValidationError, match="future"):
        billing_services.payment_record(invoice=invoice, amount="10", actor=owner,
                                        paid_on=timezone.localdate() + datetime.timedelta(days=1))
    billing_services.invoice_cancel(invoice=invoice, actor=owner)
    with pytest.raises(ValidationError, match="cancelled"):
        billing_services.payment_record(invoice=invoice, amount="10", actor=owner)


def test_invoice_with_payments_cannot_be_cancelled(owner):
    invoice = invoice_for(owner)
    billing_services.payment_record(invoice=invoice, amount="10", actor=owner)
    with pytest.raises(ValidationError, match="Payments were recorded"):
        billing_services.invoice_cancel(invoice=invoice, actor=owner)


@pytest.mark.django_db(transaction=True)
def test_two_payments_at_once_never_overpay(owner):
    """Each pays 300 of a 516 balance: under the invoice lock exactly one succeeds."""
    invoice = invoice_for(owner)
    barrier = threading.Barrier(2, timeout=10)
    outcomes = []

    def pay():
        try:
            barrier.wait()
            billing_services.payment_record(invoice=Invoice.objects.get(pk=invoice.pk), amount="300.00",
                                            actor=owner)
            outcomes.append("paid")
        except ValidationError as error:
            outcomes.append(" ".join(error.messages))
        finally:
            connection.close()

    threads = [threading.Thread(target=pay) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes)[0].startswith("300.00 EUR is more than the balance of 216.00")
    assert sorted(outcomes)[1] == "paid"
    invoice.refresh_from_db()
    assert invoice.amount_paid == Decimal("300.00") and Payment.objects.count() == 1


# --- Receivables ------------------------------------------------------------------------------


@pytest.mark.parametrize(("days_past_due", "bucket"), [
    (-1, "not_due"), (0, "b0_30"), (30, "b0_30"), (31, "b31_60"), (60, "b31_60"), (61, "b61_90"), (90, "b61_90"),
    (91, "b90"),
])
def test_ageing_buckets_at_their_boundaries(owner, days_past_due, bucket):
    invoice = invoice_for(owner, due_in_days=-days_past_due)
    billing_services.payment_record(invoice=invoice, amount="16.00", actor=owner)  # balance 500.00
    [row] = receivables.account_receivables(owner, invoice.account)
    assert row["currency"] == "EUR" and row["outstanding"] == Decimal("500.00")
    for name in ("not_due", *receivables.BUCKETS):
        assert row[name] == (Decimal("500.00") if name == bucket else 0), name
    assert row["overdue"] == (Decimal("500.00") if days_past_due > 0 else 0)


def test_receivables_per_currency_only_outstanding_and_visible(owner, outsider, teammate):
    invoice = invoice_for(owner, due_in_days=-10)
    account = invoice.account
    invoice_for(owner, account=account, currency="USD", due_in_days=5)
    paid = invoice_for(owner, account=account)
    billing_services.payment_record(invoice=paid, amount=paid.total, actor=owner)
    cancelled = invoice_for(owner, account=account)
    billing_services.invoice_cancel(invoice=cancelled, actor=owner)
    rows = {row["currency"]: row for row in receivables.account_receivables(owner, account)}
    assert rows["EUR"]["outstanding"] == rows["EUR"]["overdue"] == rows["EUR"]["b0_30"] == Decimal("516.00")
    assert rows["USD"]["outstanding"] == rows["USD"]["not_due"] == Decimal("516.00") and rows["USD"]["overdue"] == 0
    assert receivables.account_receivables(outsider, account) == []
    assert receivables.account_receivables(teammate, account) == []
    by_account = list(receivables.receivables_by_account(owner))
    assert [(row["account_id"], row["currency"]) for row in by_account] == [(account.pk, "EUR"), (account.pk, "USD")]


# --- Overdue notices --------------------------------------------------------------------------


def test_overdue_notice_once_to_the_owner(owner, django_capture_on_commit_callbacks):
    overdue = invoice_for(owner, due_in_days=-1)
    invoice_for(owner, due_in_days=0)  # due today: not overdue yet
    paid = invoice_for(owner, due_in_days=-5)
    billing_services.payment_record(invoice=paid, amount=paid.total, actor=owner)
    assert scheduler.SOURCES["overdue_invoices"] is billing_notices.notify_overdue_invoices  # the tick runs it
    with django_capture_on_commit_callbacks(execute=True):  # the queued e-mail goes out after the commit
        assert billing_notices.notify_overdue_invoices(timezone.now()) == 1
        assert billing_notices.notify_overdue_invoices(timezone.now()) == 0
    notification = Notification.objects.get(user=owner)
    assert overdue.number in notification.text and notification.url == overdue.get_absolute_url()
    assert len(mail.outbox) == 1 and overdue.number in mail.outbox[0].subject
    assert mail.outbox[0].to == [owner.email]
    assert Invoice.objects.get(pk=overdue.pk).overdue_notified_at is not None


@pytest.mark.django_db(transaction=True)
def test_two_ticks_at_once_notify_once(owner):
    invoice_for(owner, due_in_days=-3)
    invoice_for(owner, due_in_days=-4)
    barrier = threading.Barrier(2, timeout=10)
    counts = []

    def run():
        try:
            barrier.wait()
            counts.append(billing_notices.notify_overdue_invoices(timezone.now()))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sum(counts) == 2
    assert Notification.objects.filter(user=owner).count() == 2
    assert len(mail.outbox) == 2
