"""Billing template helpers: money with its currency, and the receivables card of the account page."""

from decimal import Decimal

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma

from crm.visibility import Scope, read_scope
from sales.models import Invoice
from sales.money import round_money

register = template.Library()


@register.filter
def money(value, currency: str = "") -> str:
    """1234.5 + "EUR" → "1,234.50 EUR" (rounded to the currency's minor unit)."""
    if value in (None, ""):
        return "—"
    amount = round_money(Decimal(value), currency or "XXX")
    return f"{intcomma(amount, use_l10n=False)} {currency}".strip()


@register.inclusion_tag("sales/receivables_card.html", takes_context=True)
def receivables_card(context, account):
    """The account page's Receivables card: one query, and none for people who see no sales data."""
    from sales.receivables import account_receivables

    user = context["request"].user
    if read_scope(user, Invoice) == Scope.NONE:
        return {"show": False}
    return {"show": True, "account": account, "rows": account_receivables(user, account)}
