"""Billing template helpers: money with its currency."""

from decimal import Decimal

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma

from sales.money import round_money

register = template.Library()


@register.filter
def money(value, currency: str = "") -> str:
    """1234.5 + "EUR" → "1,234.50 EUR" (rounded to the currency's minor unit)."""
    if value in (None, ""):
        return "—"
    amount = round_money(Decimal(value), currency or "XXX")
    return f"{intcomma(amount, use_l10n=False)} {currency}".strip()
