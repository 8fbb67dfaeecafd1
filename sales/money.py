"""Money arithmetic for every priced document: the one place totals are computed.

Quotes, orders, invoices and opportunity lines all call compute_totals(); nothing else adds
up money. Every amount is a Decimal rounded half-up to the currency's minor unit (ISO 4217:
JPY has none, KWD three), per line, so the printed lines always add up to the printed totals:

    line gross      = quantity × unit price
    line discount   = line gross × line discount %
    line total      = line gross − line discount                  (shown on the line)
    overall share   = line total × overall discount %             (spread over the lines,
    taxable         = line total − overall share                   so each line is taxed on
    line tax        = taxable × line tax rate %                    what the customer pays)

    subtotal       = Σ line gross
    discount total = Σ line discount + Σ overall share
    tax total      = Σ line tax
    total          = subtotal − discount total + tax total
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from crm.formatting import MINOR_UNITS as MINOR_UNITS  # one table of minor units, shared with display
from crm.formatting import quantum as quantum

HUNDRED = Decimal(100)
ZERO = Decimal(0)


def round_money(value: Decimal, currency: str) -> Decimal:
    return Decimal(value).quantize(quantum(currency), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class LineAmounts:
    gross: Decimal
    discount: Decimal  # the line's own discount plus its share of the overall discount
    total: Decimal     # after the line's own discount, before the overall discount and tax
    tax: Decimal


@dataclass(frozen=True)
class Totals:
    lines: list[LineAmounts]
    subtotal: Decimal
    discount_total: Decimal
    tax_total: Decimal
    total: Decimal

    @property
    def net(self) -> Decimal:
        """What the customer pays before tax: a deal's amount (pipelines and forecasts are net of tax)."""
        return self.subtotal - self.discount_total


def compute_totals(lines: Iterable, *, currency: str, discount_pct: Decimal = ZERO) -> Totals:
    """`lines` are objects with quantity, unit_price, discount_pct and tax_rate (model lines or
    form rows); `discount_pct` is the document's overall discount."""
    overall = Decimal(discount_pct or 0) / HUNDRED
    results = []
    for line in lines:
        gross = round_money(Decimal(line.quantity) * Decimal(line.unit_price), currency)
        own_discount = round_money(gross * Decimal(line.discount_pct or 0) / HUNDRED, currency)
        line_total = gross - own_discount
        overall_share = round_money(line_total * overall, currency)
        tax = round_money((line_total - overall_share) * Decimal(line.tax_rate or 0) / HUNDRED, currency)
        results.append(LineAmounts(gross=gross, discount=own_discount + overall_share, total=line_total, tax=tax))
    subtotal = sum((line.gross for line in results), ZERO)
    discount_total = sum((line.discount for line in results), ZERO)
    tax_total = sum((line.tax for line in results), ZERO)
    q = quantum(currency)
    return Totals(lines=results, subtotal=subtotal.quantize(q), discount_total=discount_total.quantize(q),
                  tax_total=tax_total.quantize(q), total=(subtotal - discount_total + tax_total).quantize(q))


def effective_discount_pct(lines: Iterable, *, discount_pct: Decimal = ZERO) -> Decimal:
    """The largest discount any line gets, its own and the overall one combined
    (10 % on the line and 10 % overall is 19 %): what discount approval compares."""
    overall = Decimal(discount_pct or 0) / HUNDRED
    largest = ZERO
    for line in lines:
        own = Decimal(line.discount_pct or 0) / HUNDRED
        largest = max(largest, 1 - (1 - own) * (1 - overall))
    if largest == ZERO:
        largest = overall
    return (largest * HUNDRED).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def to_base(amount: Decimal, rate: Decimal | None) -> Decimal:
    """An amount in DEFAULT_CURRENCY, given the currency's rate (None: the same currency)."""
    if rate is None:
        return Decimal(amount).quantize(Decimal("0.01"))
    return (Decimal(amount) * rate).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
