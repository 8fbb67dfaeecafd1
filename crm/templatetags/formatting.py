"""The formatting layer's template filters (built into every template, see TEMPLATES in settings):

    {{ quote.total|money:quote.currency }}     72,000.00 EUR / 72 000,00 EUR
    {{ column.total|money_whole:currency }}    72,000 EUR
    {{ invoice.due_date|day }}                 6 Dec 2026 / 06.12.2026
    {{ activity.starts_at|moment }}            6 Dec 2026, 14:05 / 06.12.2026, 14:05
    {{ note.created_at|ago }}                  <time …>3 hours ago</time>
    {{ account.website|or_empty }}             —
"""

from django import template
from django.utils import timezone
from django.utils.html import format_html

from crm import formatting

register = template.Library()


@register.filter
def money(value, currency: str = "") -> str:
    return formatting.money(value, currency or "")


@register.filter
def money_whole(value, currency: str = "") -> str:
    return formatting.money(value, currency or "", whole=True)


@register.filter
def figure(value, decimals: int = 0) -> str:
    """A plain grouped number (counts, percentages) in the reader's locale."""
    return formatting.number(value, int(decimals))


@register.filter
def day(value) -> str:
    return formatting.day(value)


@register.filter
def moment(value) -> str:
    return formatting.moment(value)


@register.filter
def ago(value) -> str:
    """A relative time in a <time> element whose title is the full date-time."""
    if not value:
        return formatting.EMPTY
    stamp = value.isoformat() if not hasattr(value, "astimezone") else timezone.localtime(value).isoformat() \
        if timezone.is_aware(value) else value.isoformat()
    return format_html('<time datetime="{}" title="{}">{}</time>', stamp, formatting.moment(value),
                       formatting.ago(value))


@register.filter
def or_empty(value):
    """The one empty placeholder for a value that is absent (None, "", an empty list); 0 is a value."""
    if value is None or value == "" or value == [] or value == ():
        return formatting.EMPTY
    return value
