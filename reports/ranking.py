"""The customer ranking: each account's ABC and RFM class, stored on the account and refreshed every night by
the scheduler (the `customer_ranking` source below), so the account list, the account page and marketing's
segments read them as plain columns.

A *purchase* is a won deal (dated by its close, in the company's time zone) or an order that did not come
from a deal (a direct order, not cancelled, dated by its order date): an order made from a won deal's
quote is that deal's purchase, not a second one. Money is in DEFAULT_CURRENCY at today's rates (the
dashboards' conversion); an order in a currency with no rate counts as a purchase with no amount.

- ABC, over the 12 months up to the refresh: accounts by revenue, largest first; an account is A while the
  accounts before it hold less than 80% of the revenue (the one that crosses 80% is A), B below 95%, C
  after. An account with no revenue in the window has no ABC class.
- RFM, over the accounts with any purchase: recency (days since the last purchase), frequency and money
  (purchases and revenue in the 12 months) each scored 1-5 by the account's mid-rank among them (ties share
  a score; no purchase or no revenue in the window scores 1). The class reads recency against the average of
  the other two scores (FM): *new* (first purchase in the last 90 days), *champions* (R ≥ 4, FM ≥ 4),
  *loyal* (R ≥ 3, FM ≥ 3), *promising* (R ≥ 3), *at risk* (FM ≥ 3), *hibernating* (R = 2), *lost*.
- Movement: the first refresh of a month keeps the classes as `abc_previous` / `rfm_previous` before
  writing the new ones; the dashboard compares the two.
"""

import datetime
import logging
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, Count, ExpressionWrapper, F, Max, Min, Q, Sum, Value, When
from django.utils import timezone

from accounts.models import RfmClass
from crm import scheduler
from reports.models import CustomerRanking
from reports.pipeline import CENT, MONEY_FIELD, Rate, converted_amount, current_rates
from sales.models import Opportunity, Order, OrderStatus

logger = logging.getLogger(__name__)

WINDOW_MONTHS = 12
A_SHARE, B_SHARE = Decimal("0.80"), Decimal("0.95")
NEW_DAYS = 90
REFRESH_AT = datetime.time(2, 0)  # each night in the company's time zone (settings.TIME_ZONE)


@dataclass
class Purchases:
    first: datetime.date
    last: datetime.date
    count: int = 0  # in the window
    revenue: Decimal = Decimal(0)  # in the window, DEFAULT_CURRENCY


@dataclass
class Rank:
    abc: str
    rfm: str
    score: str
    purchases: Purchases


def window_start(today: datetime.date) -> datetime.date:
    """The same day WINDOW_MONTHS earlier (28 February for a 29th that year lacks)."""
    try:
        return today.replace(year=today.year - WINDOW_MONTHS // 12)
    except ValueError:
        return today.replace(year=today.year - WINDOW_MONTHS // 12, day=28)


def _document_amount(rates: list[Rate]) -> Case:
    whens = [When(currency=settings.DEFAULT_CURRENCY, then=F("total"))]
    whens += [When(currency=rate.currency, then=ExpressionWrapper(F("total") * Value(rate.rate),
                                                                  output_field=MONEY_FIELD)) for rate in rates]
    return Case(*whens, default=Value(None, output_field=MONEY_FIELD), output_field=MONEY_FIELD)


def purchases(today: datetime.date, rates: list[Rate]) -> dict[int, Purchases]:
    """Each live account's purchases: two grouped queries."""
    zone = timezone.get_default_timezone()
    start = window_start(today)
    since = datetime.datetime.combine(start, datetime.time.min, tzinfo=zone)
    until = datetime.datetime.combine(today + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone)
    deals = (Opportunity.objects.won()
             .filter(deleted_at__isnull=True, account__deleted_at__isnull=True, closed_at__lt=until)
             .values("account_id")
             .annotate(first=Min("closed_at"), last=Max("closed_at"),
                       count=Count("id", filter=Q(closed_at__gte=since)),
                       revenue=Sum(converted_amount(rates), filter=Q(closed_at__gte=since)))
             .order_by())
    orders = (Order.objects.filter(deleted_at__isnull=True, opportunity__isnull=True,
                                   account__deleted_at__isnull=True, ordered_on__lte=today)
              .exclude(status=OrderStatus.CANCELLED)
              .values("account_id")
              .annotate(first=Min("ordered_on"), last=Max("ordered_on"),
                        count=Count("id", filter=Q(ordered_on__gte=start)),
                        revenue=Sum(_document_amount(rates), filter=Q(ordered_on__gte=start)))
              .order_by())
    found: dict[int, Purchases] = {}
    for row in [*deals, *orders]:
        first, last = row["first"], row["last"]
        if isinstance(first, datetime.datetime):
            first, last = timezone.localtime(first, zone).date(), timezone.localtime(last, zone).date()
        known = found.get(row["account_id"])
        if known is None:
            known = found[row["account_id"]] = Purchases(first=first, last=last)
        known.first, known.last = min(known.first, first), max(known.last, last)
        known.count += row["count"]
        known.revenue += row["revenue"] or Decimal(0)
    for known in found.values():
        known.revenue = known.revenue.quantize(CENT, rounding=ROUND_HALF_UP)
    return found


def abc_classes(revenue: dict[int, Decimal]) -> dict[int, str]:
    """A while the accounts before this one (largest first) hold less than 80% of the revenue, B below 95%."""
    ranked = sorted(((amount, pk) for pk, amount in revenue.items() if amount > 0), key=lambda row: (-row[0], row[1]))
    total = sum((amount for amount, _pk in ranked), Decimal(0))
    classes, before = {}, Decimal(0)
    for amount, pk in ranked:
        share = before / total
        classes[pk] = "A" if share < A_SHARE else "B" if share < B_SHARE else "C"
        before += amount
    return classes


def scores(values: dict[int, Decimal | int]) -> dict[int, int]:
    """1-5 by mid-rank (higher value, higher score); tied values share a score."""
    ordered = sorted(values.values())
    total = len(ordered)
    result = {}
    for pk, value in values.items():
        below = bisect_left(ordered, value)
        equal = bisect_right(ordered, value) - below
        result[pk] = min(5, 1 + int(Decimal(5) * (below + Decimal(equal) / 2) / total))
    return result


def rfm_class(recency: int, frequency: int, money: int, first: datetime.date, today: datetime.date) -> str:
    fm = Decimal(frequency + money) / 2
    if (today - first).days < NEW_DAYS:
        return RfmClass.NEW
    if recency >= 4 and fm >= 4:
        return RfmClass.CHAMPIONS
    if recency >= 3 and fm >= 3:
        return RfmClass.LOYAL
    if recency >= 3:
        return RfmClass.PROMISING
    if fm >= 3:
        return RfmClass.AT_RISK
    return RfmClass.HIBERNATING if recency == 2 else RfmClass.LOST


def rank(found: dict[int, Purchases], today: datetime.date) -> dict[int, Rank]:
    abc = abc_classes({pk: row.revenue for pk, row in found.items()})
    recency = scores({pk: -(today - row.last).days for pk, row in found.items()})
    frequency = scores({pk: row.count for pk, row in found.items()})
    money = scores({pk: row.revenue for pk, row in found.items()})
    ranks = {}
    for pk, row in found.items():
        r, f, m = recency[pk], frequency[pk] if row.count else 1, money[pk] if row.revenue > 0 else 1
        ranks[pk] = Rank(abc=abc.get(pk, ""), rfm=rfm_class(r, f, m, row.first, today), score=f"{r}{f}{m}",
                         purchases=row)
    return ranks


SHIFT = """UPDATE accounts_account SET abc_previous = abc_class, rfm_previous = rfm_class
           WHERE abc_previous <> abc_class OR rfm_previous <> rfm_class"""
CLEAR = """UPDATE accounts_account SET abc_class = '', rfm_class = '', rfm_score = '', purchases_12m = 0,
                  revenue_12m = 0, last_purchase_on = NULL
           WHERE (abc_class <> '' OR rfm_class <> '' OR rfm_score <> '' OR purchases_12m <> 0 OR revenue_12m <> 0
                  OR last_purchase_on IS NOT NULL)
             AND id NOT IN (SELECT unnest(%s::bigint[]))"""  # a hashed anti-join (= ANY(array) scans per row)
WRITE = """UPDATE accounts_account AS account
           SET abc_class = v.abc, rfm_class = v.rfm, rfm_score = v.score, purchases_12m = v.purchases,
               revenue_12m = v.revenue, last_purchase_on = v.last
           FROM unnest(%s::bigint[], %s::varchar[], %s::varchar[], %s::varchar[], %s::integer[], %s::numeric[],
                       %s::date[]) AS v(id, abc, rfm, score, purchases, revenue, last)
           WHERE account.id = v.id AND (account.abc_class, account.rfm_class, account.rfm_score, account.purchases_12m,
                 account.revenue_12m, account.last_purchase_on)
                 IS DISTINCT FROM (v.abc, v.rfm, v.score, v.purchases, v.revenue, v.last)"""


def ranking_refresh(*, now: datetime.datetime | None = None) -> int:
    """Ranks every live account and stores the classes; the first refresh of a month first keeps the
    current classes as last month's. Returns the number of accounts with a purchase. Holds the state
    row's lock for the whole run, so a run taken over from a worker thought dead cannot shift twice."""
    now = now or timezone.now()
    today = timezone.localtime(now, timezone.get_default_timezone()).date()
    month = today.replace(day=1)
    with transaction.atomic():
        state, _created = CustomerRanking.objects.get_or_create(pk=1, defaults={"next_run_at": now})
        state = CustomerRanking.objects.select_for_update().get(pk=1)
        ranks = rank(purchases(today, current_rates()), today)
        ids = sorted(ranks)
        with connection.cursor() as cursor:
            if state.month is not None and state.month != month:
                cursor.execute(SHIFT)
            cursor.execute(CLEAR, [ids])
            cursor.execute(WRITE, [
                ids, [ranks[pk].abc for pk in ids], [ranks[pk].rfm for pk in ids], [ranks[pk].score for pk in ids],
                [ranks[pk].purchases.count for pk in ids], [ranks[pk].purchases.revenue for pk in ids],
                [ranks[pk].purchases.last for pk in ids]])
        CustomerRanking.objects.filter(pk=1).update(month=month, refreshed_at=now, accounts_ranked=len(ids))
    return len(ids)


def next_run(after: datetime.datetime) -> datetime.datetime:
    """The next REFRESH_AT in the company's time zone strictly after `after`."""
    zone = timezone.get_default_timezone()
    local = timezone.localtime(after, zone)
    slot = datetime.datetime.combine(local.date(), REFRESH_AT, tzinfo=zone)
    return slot if slot > local else datetime.datetime.combine(local.date() + datetime.timedelta(days=1), REFRESH_AT,
                                                               tzinfo=zone)


def claim(state: CustomerRanking, now: datetime.datetime) -> bool:
    """Compare-and-set on the state row as it was read: of two ticks, one UPDATE matches."""
    matched = CustomerRanking.objects.filter(due(now), pk=state.pk, next_run_at=state.next_run_at,
                                             claimed_at=state.claimed_at)
    return matched.update(claimed_at=now, attempts=F("attempts") + 1) == 1


def due(now: datetime.datetime) -> Q:
    return Q(next_run_at__lte=now) & (Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - scheduler.STALE_CLAIM))


@scheduler.source("customer_ranking")
def refresh_due_ranking(now: datetime.datetime) -> int:
    """Once a night (and at the first tick ever): claims the ranking's state row and refreshes it. A failed run
    retries with back-off (2, 4, 8… minutes), then waits for the next night."""
    state, _created = CustomerRanking.objects.get_or_create(pk=1, defaults={"next_run_at": now})
    if not claim(state, now):
        return 0
    try:
        ranking_refresh(now=now)
    except Exception as exc:
        logger.exception("The customer ranking could not be refreshed")
        attempts = state.attempts + 1
        error = f"{type(exc).__name__}: {exc}"[:300]
        retry = now + datetime.timedelta(minutes=2 ** attempts)
        given_up = attempts >= scheduler.MAX_ATTEMPTS
        CustomerRanking.objects.filter(pk=state.pk).update(
            claimed_at=None, last_error=error, attempts=0 if given_up else attempts,
            next_run_at=next_run(now) if given_up else retry)
        return 0
    CustomerRanking.objects.filter(pk=state.pk).update(claimed_at=None, attempts=0, last_error="",
                                                       next_run_at=next_run(now))
    return 1


def refreshed() -> CustomerRanking | None:
    return CustomerRanking.objects.filter(pk=1).first()

