"""The one formatting layer: money, dates, date-times, relative times and the empty placeholder,
in the reader's language (the active translation). Templates use the filters of the same names
(built in, see crm/templatetags/formatting.py); PDFs, e-mails, notifications and export headers
call these functions.

- money: the amount rounded to the currency's minor unit (ISO 4217), grouped and with the decimal
  mark of the reader's locale, then the ISO code: "72,000.00 EUR", "72 000,00 EUR".
- day / moment: one date style and one date-time style per language (crm/formats/<lang>/formats.py).
- ago: "3 hours ago" for the last week, the date after that.
- EMPTY: what an absent value prints as.
"""

from __future__ import annotations

import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils import formats, timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext

EMPTY = "—"
MINUS = "−"  # U+2212: the typographic minus, as in print

# Currencies whose minor unit is not 1/100 (ISO 4217); every other code has two decimals.
MINOR_UNITS = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0, "RWF": 0,
    "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}
RECENT = datetime.timedelta(days=7)


def minor_unit(currency: str) -> int:
    return MINOR_UNITS.get((currency or "").upper(), 2)


def quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_unit(currency))


def _decimal(value: object) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def number(value: object, decimals: int = 0) -> str:
    """A figure grouped for the reader's locale, rounded half-up; never "-0"."""
    amount = _decimal(value)
    if amount is None:
        return EMPTY
    amount = amount.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    if not amount:
        amount = abs(amount)  # "−0.00" is not a figure anyone wants to read
    text = formats.number_format(abs(amount), decimal_pos=decimals, use_l10n=True, force_grouping=True)
    return f"{MINUS}{text}" if amount < 0 else text


def money(value: object, currency: str = "", *, whole: bool = False) -> str:
    """1234.5, "EUR" → "1,234.50 EUR" (en) / "1 234,50 EUR" (ru, uk); `whole` drops the minor unit
    (board columns and headline figures)."""
    text = number(value, 0 if whole else minor_unit(currency))
    if text == EMPTY:
        return EMPTY
    return f"{text} {currency.upper()}" if currency else text


def day(value: datetime.date | datetime.datetime | None) -> str:
    """The reader's one date style: "6 Dec 2026" / "06.12.2026"."""
    if value is None or value == "":
        return EMPTY
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
    return formats.date_format(value, "SHORT_DATE_FORMAT")


def moment(value: datetime.datetime | None) -> str:
    """The reader's one date-time style, in the current time zone: "6 Dec 2026, 14:05"."""
    if value is None or value == "":
        return EMPTY
    if not isinstance(value, datetime.datetime):
        return day(value)
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return formats.date_format(value, "SHORT_DATETIME_FORMAT")


def ago(value: datetime.datetime | None, now: datetime.datetime | None = None) -> str:
    """ "3 hours ago" within the last week, the date-time before that ("in 2 days" ahead)."""
    if value is None or value == "":
        return EMPTY
    if not isinstance(value, datetime.datetime):
        return day(value)
    now = now or timezone.now()
    if not timezone.is_aware(value):
        value = timezone.make_aware(value)
    delta = now - value
    if abs(delta) >= RECENT:
        return moment(value)
    if datetime.timedelta(0) <= delta < datetime.timedelta(minutes=1):
        return gettext("just now")
    if delta >= datetime.timedelta(0):
        return gettext("%(time)s ago") % {"time": timesince(value, now, depth=1)}
    return gettext("in %(time)s") % {"time": timesince(now, value, depth=1)}
