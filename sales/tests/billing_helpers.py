"""Builders for billing tests: an accepted quote with lines (made directly, so these tests do not
depend on the quote pages), and invoices with a given due date."""

import datetime
from decimal import Decimal

from django.utils import timezone

from accounts.tests.factories import AccountFactory
from sales import billing_services
from sales.models import Quote, QuoteLine, QuoteStatus

_counter = iter(range(1, 10**6))


def accepted_quote(owner, *, account=None, lines=None, status=QuoteStatus.ACCEPTED, currency="EUR",
                   discount_pct=Decimal(0)) -> Quote:
    account = account or AccountFactory(owner=owner, team=owner.team, name="Acme Corp")
    quote = Quote.objects.create(
        owner=owner, team=owner.team, number=f"Q-T-{next(_counter):05d}", title="Fleet renewal", account=account,
        status=status, valid_until=timezone.localdate() + datetime.timedelta(days=30), currency=currency,
        discount_pct=discount_pct)
    for position, (name, quantity, price, discount, tax) in enumerate(lines or [
            ("Widget", "2", "100.00", "10", "20"), ("Support plan", "1", "250.00", "0", "20")]):
        QuoteLine.objects.create(quote=quote, name=name, quantity=Decimal(quantity), unit_price=Decimal(price),
                                 discount_pct=Decimal(discount), tax_rate=Decimal(tax), position=position)
    return quote


def order_for(owner, **quote_kwargs):
    return billing_services.order_create_from_quote(quote=accepted_quote(owner, **quote_kwargs), actor=owner)


def invoice_for(owner, *, due_in_days: int | None = None, **quote_kwargs):
    """An issued invoice; `due_in_days` moves its due date (negative: already past due)."""
    invoice = billing_services.invoice_create_from_order(order=order_for(owner, **quote_kwargs), actor=owner)
    if due_in_days is not None:
        invoice.due_date = timezone.localdate() + datetime.timedelta(days=due_in_days)
        invoice.save(update_fields=["due_date"])
    return invoice
