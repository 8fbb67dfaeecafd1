"""Quotes for tests, made through the services (numbering, totals and approval rules included)."""

from decimal import Decimal

from accounts.tests.factories import AccountFactory
from contacts.tests.factories import ContactFactory
from sales import quote_services


def make_quote(owner, *, lines=((2, "100.00", "0", "20"),), discount_pct="0", account=None, contact=True, **fields):
    """A draft owned by `owner`; each line is (quantity, unit price, discount %, tax %)."""
    account = account or AccountFactory(owner=owner, name="Acme Ltd")
    if contact is True:
        contact = ContactFactory(owner=owner, account=account, first_name="Ada", last_name="Buyer",
                                 emails=["ada@acme.example"])
    quote = quote_services.quote_create(actor=owner, account=account, contact=contact or None,
                                        discount_pct=Decimal(discount_pct), **fields)
    for number, (quantity, price, discount, tax) in enumerate(lines):
        quote_services.quote_line_add(
            quote=quote, actor=owner, expected_version=None, name=f"Item {number + 1}", quantity=Decimal(quantity),
            unit_price=Decimal(price), discount_pct=Decimal(discount), tax_rate=Decimal(tax))
    quote.refresh_from_db()
    return quote
