"""Property-based tests of sales/money.py: whatever the lines, the document adds up exactly."""

from dataclasses import dataclass
from decimal import Decimal

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from sales.money import MINOR_UNITS, compute_totals, effective_discount_pct, quantum, round_money, to_base

# The machine is shared and slow at times: no per-example deadline, no "too slow" health check.
RELAXED = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}

CURRENCIES = ["EUR", "USD", "JPY", "KWD", "BHD", "KRW", "GBP"]


@dataclass
class Line:
    quantity: Decimal
    unit_price: Decimal
    discount_pct: Decimal
    tax_rate: Decimal


# The shapes the model fields allow: quantity 12 digits / 3 decimals (at least 0.001), prices 16 / 2,
# percentages 0–100 with 2 decimals.
quantities = st.decimals(min_value=Decimal("0.001"), max_value=Decimal("100000"), places=3)
prices = st.decimals(min_value=Decimal(0), max_value=Decimal("1000000"), places=2)
percents = st.decimals(min_value=Decimal(0), max_value=Decimal(100), places=2)
lines_strategy = st.lists(st.builds(Line, quantities, prices, percents, percents), max_size=12)


def is_quantized(value: Decimal, currency: str) -> bool:
    expected = quantum(currency)
    return value == value.quantize(expected) and value.as_tuple().exponent == expected.as_tuple().exponent


@settings(max_examples=300, **RELAXED)
@given(lines=lines_strategy, overall=percents, currency=st.sampled_from(CURRENCIES))
def test_totals_add_up(lines, overall, currency):
    totals = compute_totals(lines, currency=currency, discount_pct=overall)
    assert totals.total == totals.subtotal - totals.discount_total + totals.tax_total
    assert totals.subtotal == sum((line.gross for line in totals.lines), Decimal(0))
    assert totals.discount_total == sum((line.discount for line in totals.lines), Decimal(0))
    assert totals.tax_total == sum((line.tax for line in totals.lines), Decimal(0))
    assert len(totals.lines) == len(lines)


@settings(max_examples=300, **RELAXED)
@given(lines=lines_strategy, overall=percents, currency=st.sampled_from(CURRENCIES))
def test_every_amount_is_rounded_to_the_minor_unit(lines, overall, currency):
    totals = compute_totals(lines, currency=currency, discount_pct=overall)
    amounts = [totals.subtotal, totals.discount_total, totals.tax_total, totals.total]
    for line in totals.lines:
        amounts += [line.gross, line.discount, line.total, line.tax]
    assert all(is_quantized(amount, currency) for amount in amounts), amounts


@settings(max_examples=300, **RELAXED)
@given(lines=lines_strategy, overall=percents, currency=st.sampled_from(CURRENCIES))
def test_discount_never_exceeds_the_subtotal_and_nothing_is_negative(lines, overall, currency):
    totals = compute_totals(lines, currency=currency, discount_pct=overall)
    assert Decimal(0) <= totals.discount_total <= totals.subtotal
    assert totals.tax_total >= 0
    assert totals.total >= 0
    for line in totals.lines:
        assert 0 <= line.discount <= line.gross
        assert 0 <= line.total <= line.gross
        assert line.tax >= 0


@settings(max_examples=200, **RELAXED)
@given(lines=lines_strategy, currency=st.sampled_from(CURRENCIES))
def test_without_discounts_or_taxes_the_total_is_the_sum_of_the_lines(lines, currency):
    plain = [Line(line.quantity, line.unit_price, Decimal(0), Decimal(0)) for line in lines]
    totals = compute_totals(plain, currency=currency)
    assert totals.discount_total == 0 and totals.tax_total == 0
    assert totals.total == totals.subtotal == sum(
        (round_money(line.quantity * line.unit_price, currency) for line in plain), Decimal(0))


@settings(max_examples=200, **RELAXED)
@given(lines=lines_strategy, currency=st.sampled_from(CURRENCIES))
def test_a_full_overall_discount_leaves_nothing_to_pay(lines, currency):
    totals = compute_totals(lines, currency=currency, discount_pct=Decimal(100))
    assert totals.discount_total == totals.subtotal
    assert totals.tax_total == 0
    assert totals.total == 0


@settings(max_examples=200, **RELAXED)
@given(line=st.builds(Line, quantities, prices, percents, percents), overall=percents,
       currency=st.sampled_from(CURRENCIES))
def test_line_amounts_follow_the_documented_formula(line, overall, currency):
    [amounts] = compute_totals([line], currency=currency, discount_pct=overall).lines
    gross = round_money(line.quantity * line.unit_price, currency)
    own = round_money(gross * line.discount_pct / 100, currency)
    share = round_money((gross - own) * overall / 100, currency)
    assert amounts.gross == gross
    assert amounts.total == gross - own
    assert amounts.discount == own + share
    assert amounts.tax == round_money((gross - own - share) * line.tax_rate / 100, currency)


@settings(**RELAXED)
@given(currency=st.sampled_from(CURRENCIES))
def test_minor_units_per_iso_4217(currency):
    assert quantum("JPY") == Decimal(1) and quantum("EUR") == Decimal("0.01") and quantum("KWD") == Decimal("0.001")
    assert quantum(currency.lower()) == quantum(currency)
    assert -quantum(currency).as_tuple().exponent == MINOR_UNITS.get(currency, 2)


def test_rounding_is_half_up():
    assert round_money(Decimal("0.005"), "EUR") == Decimal("0.01")
    assert round_money(Decimal("0.5"), "JPY") == Decimal(1)
    assert round_money(Decimal("0.0005"), "KWD") == Decimal("0.001")
    assert compute_totals([Line(Decimal(3), Decimal("0.335"), Decimal(0), Decimal(0))],
                          currency="EUR").total == Decimal("1.01")  # 1.005 → 1.01


# --- effective_discount_pct -------------------------------------------------------


@settings(max_examples=300, **RELAXED)
@given(lines=lines_strategy, overall=percents)
def test_effective_discount_is_between_the_largest_part_and_100(lines, overall):
    effective = effective_discount_pct(lines, discount_pct=overall)
    assert Decimal(0) <= effective <= Decimal(100)
    assert effective >= overall
    assert all(effective >= line.discount_pct for line in lines)
    assert effective == effective.quantize(Decimal("0.01"))


@settings(max_examples=300, **RELAXED)
@given(lines=lines_strategy, overall=percents)
def test_effective_discount_combines_line_and_overall(lines, overall):
    assume(lines)
    expected = max(100 - (100 - line.discount_pct) * (100 - overall) / 100 for line in lines)
    assert abs(effective_discount_pct(lines, discount_pct=overall) - expected) <= Decimal("0.005")


@settings(max_examples=200, **RELAXED)
@given(lines=lines_strategy, low=percents, high=percents)
def test_effective_discount_grows_with_the_overall_discount(lines, low, high):
    low, high = sorted((low, high))
    assert effective_discount_pct(lines, discount_pct=low) <= effective_discount_pct(lines, discount_pct=high)


@settings(**RELAXED)
@given(overall=percents)
def test_effective_discount_of_no_lines_is_the_overall_discount(overall):
    assert effective_discount_pct([], discount_pct=overall) == overall


def test_ten_and_ten_is_nineteen():
    line = Line(Decimal(1), Decimal(100), Decimal(10), Decimal(0))
    assert effective_discount_pct([line], discount_pct=Decimal(10)) == Decimal("19.00")


@settings(**RELAXED)
@given(amount=prices, rate=st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(1000), places=8))
def test_to_base_is_rounded_to_cents(amount, rate):
    assert to_base(amount, rate) == to_base(amount, rate).quantize(Decimal("0.01"))
    assert to_base(amount, None) == amount
