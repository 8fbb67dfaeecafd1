"""The customers dashboard (/reports/customers/): the customer ranking stored on the accounts (reports/ranking.py)
and the receivables, in a constant number of queries whatever the number of accounts.

- ABC and RFM: the visible accounts per class now and at the end of last month (the classes the first refresh
  of this month kept), and the movement between them; each count links to the account list with the filters
  that select exactly those accounts (`abc_class`, `abc_previous`, `rfm_class`, `rfm_previous`, `owner`).
- Repeat-purchase rate: of the visible accounts with a purchase in the ranking's 12 months, the share with two
  or more (`purchases_min=1` and `=2` in the list).
- Churn risk: the visible accounts that bought before and not in the last N months (`churn_months`, in the
  URL as `months`, 6 by default): their last purchase (`last_purchase_on`, the ranking's) is before the day N
  months ago. Counted per month of that last purchase over the year before it (earlier ones together), with
  what they bought in the ranking's 12 months; each count links to the account list with `last_purchase_after`
  and `last_purchase_before`.
- Receivables: the outstanding invoices the reader may see (`Invoice.visible_to`), their balances converted to
  DEFAULT_CURRENCY at today's rates (an invoice in a currency with no rate is counted apart, not converted), in
  the ageing buckets of sales/receivables.py, in total and for the clients that owe most; each figure links to
  the invoice list (`outstanding`, `due_after`, `due_before`, `account`, `owner`).
- Purchases by month, region and product family, for the period picked against the previous one: the ranking's
  purchases (won deals, direct orders) the reader may see; each count links to the opportunity list or the
  order list (`purchase_figures` below).
- Shipments by product family and month, with the on-time share, for the same period against the previous one:
  the orders the reader may see, each counted once in the month of its first shipment (`shipment_figures`).
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Case, Count, DateField, DecimalField, ExpressionWrapper, F, Min, Q, Sum, Value, When
from django.db.models.functions import Cast, Coalesce, Lower, NullIf, TruncMonth
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.filters import UNRANKED
from accounts.models import AbcClass, Account, RfmClass
from crm import lookups
from crm.models import User
from crm.visibility import with_visibility_flag
from reports.pipeline import CENT, MONEY_FIELD, MONTH, Period, Rate, converted_amount
from reports.ranking import _document_amount
from sales.models import (
    Invoice,
    Opportunity,
    OpportunityLine,
    Order,
    OrderLine,
    OrderStatus,
    Punctuality,
    StageKind,
    first_shipment_day,
    punctuality_condition,
)

CLIENTS_SHOWN = 15
ZERO = Decimal(0)


def account_list_url(owner: User | None, **params: object) -> str:
    query = {**({"owner": owner.pk} if owner else {}), **params}
    return reverse("accounts:list") + "?" + urlencode(query)


def invoice_list_url(owner: User | None, **params: object) -> str:
    query = {"outstanding": "true", **({"owner": owner.pk} if owner else {}), **params}
    return reverse("sales:invoice_list") + "?" + urlencode(
        {name: value.isoformat() if isinstance(value, datetime.date) else value for name, value in query.items()})


@dataclass
class ClassRow:
    key: str  # "" = no class
    label: str
    count: int = 0
    previous: int = 0
    revenue: Decimal = ZERO
    share: Decimal | None = None
    url: str = ""
    previous_url: str = ""

    @property
    def change(self) -> int:
        return self.count - self.previous


@dataclass
class Movement:
    """Accounts per (last month's class, this month's class): rows are last month, columns this month."""

    keys: list[tuple[str, str]]
    cells: dict[tuple[str, str], tuple[int, str]] = field(default_factory=dict)

    def rows(self) -> list[tuple[str, list[tuple[int, str, bool]]]]:
        return [(label, [(*self.cells.get((before, now), (0, "")), before == now) for now, _label in self.keys])
                for before, label in self.keys]

    @property
    def moved(self) -> int:
        return sum(count for (before, now), (count, _url) in self.cells.items() if before != now)


RANKING_COLUMNS = ("abc_class", "abc_previous", "rfm_class", "rfm_previous")


def _grouped(accounts) -> list[dict]:
    """One scan of the visible accounts: counts per (ABC, last month's ABC, RFM, last month's RFM) — at most
    4 × 4 × 8 × 8 groups — with their revenue and how many bought once or more, twice or more."""
    return list(accounts.values(*RANKING_COLUMNS).annotate(
        accounts=Count("id"), revenue=Sum("revenue_12m"), buyers=Count("id", filter=Q(purchases_12m__gte=1)),
        repeat=Count("id", filter=Q(purchases_12m__gte=2))).order_by())


def _classes(groups: list[dict], field_name: str, choices, owner: User | None, with_revenue: bool):
    """The accounts per class now and last month, and the movement between them, from the grouped counts."""
    previous_name = field_name.replace("_class", "_previous")
    # An ABC class reads as its letter (the page explains the letters); an RFM class by its name.
    keys = [(key, key if with_revenue else str(label)) for key, label in choices] + [("", _("No class"))]
    rows = {key: ClassRow(key=key, label=label) for key, label in keys}
    movement = Movement(keys=keys)
    for row in groups:
        now, before = row[field_name], row[previous_name]
        rows[now].count += row["accounts"]
        rows[now].revenue += row["revenue"] or ZERO
        rows[before].previous += row["accounts"]
        count = movement.cells.get((before, now), (0, ""))[0] + row["accounts"]
        movement.cells[(before, now)] = (count, account_list_url(
            owner, **{field_name: now or UNRANKED, previous_name: before or UNRANKED}))
    total = sum((row.revenue for row in rows.values()), ZERO)
    for key, row in rows.items():
        row.url = account_list_url(owner, **{field_name: key or UNRANKED})
        row.previous_url = account_list_url(owner, **{previous_name: key or UNRANKED})
        if with_revenue and total:
            row.share = (row.revenue * 100 / total).quantize(Decimal("0.1"))
    return [rows[key] for key, _label in keys], movement


@dataclass
class Ageing:
    key: str
    label: str
    amount: Decimal
    url: str


@dataclass
class Client:
    account_id: int
    name: str
    visible: bool
    outstanding: Decimal
    overdue: Decimal
    buckets: list[Decimal]
    invoices: int
    url: str
    account_url: str


@dataclass
class Receivables:
    outstanding: Decimal
    overdue: Decimal
    invoices: int
    unconverted: int
    ageing: list[Ageing]
    clients: list[Client]
    outstanding_url: str
    overdue_url: str


def _balance(rates: list[Rate]) -> Case:
    balance = ExpressionWrapper(F("total") - F("amount_paid"), output_field=MONEY_FIELD)
    whens = [When(currency=settings.DEFAULT_CURRENCY, then=balance)]
    whens += [When(currency=rate.currency, then=ExpressionWrapper(balance * Value(rate.rate), output_field=MONEY_FIELD))
              for rate in rates]
    return Case(*whens, default=Value(None, output_field=MONEY_FIELD), output_field=MONEY_FIELD)


def _bucket_ranges(today: datetime.date) -> list[tuple[str, str, datetime.date | None, datetime.date | None]]:
    """(key, label, first due date, last due date) of the ageing buckets, as sales/receivables.py draws them."""
    days = datetime.timedelta
    return [
        ("not_due", _("Not yet due"), today + days(1), None),
        ("b0_30", _("0–30 days"), today - days(30), today),
        ("b31_60", _("31–60 days"), today - days(60), today - days(31)),
        ("b61_90", _("61–90 days"), today - days(90), today - days(61)),
        ("b90", _("Over 90 days"), None, today - days(91)),
    ]


def _sum(amount, condition: Q | None = None):
    zero = Value(ZERO, output_field=DecimalField(max_digits=30, decimal_places=10))
    return Coalesce(Sum(amount, filter=condition), zero)


def _range(first: datetime.date | None, last: datetime.date | None) -> Q:
    condition = Q()
    if first:
        condition &= Q(due_date__gte=first)
    if last:
        condition &= Q(due_date__lte=last)
    return condition


def _range_params(first: datetime.date | None, last: datetime.date | None) -> dict[str, datetime.date]:
    return {**({"due_after": first} if first else {}), **({"due_before": last} if last else {})}


def receivables(user: User, owner: User | None, rates: list[Rate], today: datetime.date | None = None) -> Receivables:
    """Two queries: the totals by bucket, and the clients that owe most."""
    today = today or timezone.localdate()
    invoices = Invoice.objects.visible_to(user).outstanding()
    if owner is not None:
        invoices = invoices.filter(owner=owner)
    amount = _balance(rates)
    ranges = _bucket_ranges(today)
    figures = {key: _sum(amount, _range(first, last)) for key, _label, first, last in ranges}
    totals = invoices.aggregate(outstanding=_sum(amount), overdue=_sum(amount, Q(due_date__lt=today)),
                                invoices=Count("id"), unconverted=Count("id", filter=_unconverted(rates)), **figures)
    ageing = [Ageing(key, label, _cents(totals[key]), invoice_list_url(owner, **_range_params(first, last)))
              for key, label, first, last in ranges]
    rows = (with_visibility_flag(invoices, user, "account")
            .values("account_id", "account__name", "account_visible")
            .annotate(owed=_sum(amount), late=_sum(amount, Q(due_date__lt=today)), count=Count("id"), **figures)
            .order_by("-late", "-owed", "account_id")[:CLIENTS_SHOWN])
    clients = [Client(account_id=row["account_id"], name=row["account__name"], visible=row["account_visible"],
                      outstanding=_cents(row["owed"]), overdue=_cents(row["late"]),
                      buckets=[_cents(row[key]) for key, _label, _first, _last in ranges], invoices=row["count"],
                      url=invoice_list_url(owner, account=row["account_id"]),
                      account_url=reverse("accounts:detail", args=[row["account_id"]]))
               for row in rows]
    return Receivables(outstanding=_cents(totals["outstanding"]), overdue=_cents(totals["overdue"]),
                       invoices=totals["invoices"], unconverted=totals["unconverted"], ageing=ageing, clients=clients,
                       outstanding_url=invoice_list_url(owner),
                       overdue_url=invoice_list_url(owner, due_before=today - datetime.timedelta(days=1)))


def _unconverted(rates: list[Rate]) -> Q:
    return ~Q(currency__in=[settings.DEFAULT_CURRENCY, *(rate.currency for rate in rates)])


def _cents(value: Decimal | None) -> Decimal:
    return (value or ZERO).quantize(CENT)


CHURN_MONTHS = 6
CHURN_SHOWN_MONTHS = 12


def months_before(day: datetime.date, months: int) -> datetime.date:
    """The same day `months` earlier (the month's last day when it is shorter)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = index // 12, index % 12 + 1
    following = datetime.date(year + month // 12, month % 12 + 1, 1)
    return min(day.replace(year=year, month=month, day=1) + datetime.timedelta(days=day.day - 1),
               following - datetime.timedelta(days=1))


@dataclass
class ChurnBucket:
    label: str
    count: int
    revenue: Decimal
    url: str


@dataclass
class ChurnRisk:
    months: int
    since: datetime.date  # no purchase on or after this day
    accounts: int
    revenue: Decimal  # their revenue in the ranking's 12 months
    buckets: list[ChurnBucket]
    url: str


def churn_risk(accounts, owner: User | None, months: int, today: datetime.date | None = None) -> ChurnRisk:
    """One query: the accounts with a purchase, none since `months` ago, by the month of their last one."""
    today = today or timezone.localdate()
    since = months_before(today, months)
    oldest = months_before(since.replace(day=1), CHURN_SHOWN_MONTHS - 1)
    rows = (accounts.filter(last_purchase_on__lt=since).annotate(month=TruncMonth("last_purchase_on"))
            .values("month").annotate(count=Count("id"), revenue=Sum("revenue_12m")).order_by())
    found: dict[datetime.date | None, dict] = {}
    for row in rows:
        key = row["month"] if row["month"] >= oldest else None
        target = found.setdefault(key, {"count": 0, "revenue": ZERO})
        target["count"] += row["count"]
        target["revenue"] += row["revenue"] or ZERO
    last_day = since - datetime.timedelta(days=1)
    buckets = []
    earlier = found.get(None)
    if earlier:
        buckets.append(ChurnBucket(_("Earlier"), earlier["count"], _cents(earlier["revenue"]), account_list_url(
            owner, last_purchase_before=(oldest - datetime.timedelta(days=1)).isoformat())))
    month = oldest
    while month <= last_day:
        following = months_before(month, -1)
        row = found.get(month, {"count": 0, "revenue": None})
        buckets.append(ChurnBucket(date_format(month, "YEAR_MONTH_FORMAT"), row["count"], _cents(row["revenue"]),
                                   account_list_url(owner, last_purchase_after=month.isoformat(),
                                                    last_purchase_before=min(following - datetime.timedelta(days=1),
                                                                             last_day).isoformat())))
        month = following
    return ChurnRisk(months=months, since=since, accounts=sum(bucket.count for bucket in buckets),
                     revenue=sum((bucket.revenue for bucket in buckets), ZERO), buckets=buckets,
                     url=account_list_url(owner, last_purchase_before=last_day.isoformat()))


@dataclass
class CustomersDashboard:
    abc: list[ClassRow]
    abc_movement: Movement
    rfm: list[ClassRow]
    rfm_movement: Movement
    buyers: int
    repeat_buyers: int
    buyers_url: str
    repeat_url: str
    receivables: Receivables
    churn: ChurnRisk

    @property
    def repeat_rate(self) -> Decimal | None:
        if not self.buyers:
            return None
        return (Decimal(self.repeat_buyers) * 100 / self.buyers).quantize(Decimal("0.1"))


def build(user: User, owner: User | None, rates: list[Rate], churn_months: int = CHURN_MONTHS) -> CustomersDashboard:
    accounts = Account.objects.visible_to(user).filter(deleted_at__isnull=True)
    if owner is not None:
        accounts = accounts.filter(owner=owner)
    groups = _grouped(accounts)
    abc, abc_movement = _classes(groups, "abc_class", AbcClass.choices, owner, with_revenue=True)
    rfm, rfm_movement = _classes(groups, "rfm_class", RfmClass.choices, owner, with_revenue=False)
    return CustomersDashboard(
        abc=abc, abc_movement=abc_movement, rfm=rfm, rfm_movement=rfm_movement,
        buyers=sum(row["buyers"] for row in groups), repeat_buyers=sum(row["repeat"] for row in groups),
        buyers_url=account_list_url(owner, purchases_min=1), repeat_url=account_list_url(owner, purchases_min=2),
        receivables=receivables(user, owner, rates), churn=churn_risk(accounts, owner, churn_months))


# --- Purchases by month, region and product family --------------------------------------------------------
# A purchase is the ranking's (reports/ranking.py): a won deal, dated by its close (in the reader's time zone,
# as the opportunity list's `closed_from`/`closed_to` read it), or a direct order (no deal, not cancelled),
# dated by its order date. Each figure links to the two lists that hold its records: the won deals
# (`status=won&closed_from&closed_to`) and the direct orders (`purchase=true&ordered_from&ordered_to`), with
# `territory` (a region rolls up its sub-regions) or `product_family` when the figure is one of those.


@dataclass
class PurchaseCell:
    deals: int = 0
    deal_amount: Decimal = ZERO
    orders: int = 0
    order_amount: Decimal = ZERO
    deals_url: str = ""
    orders_url: str = ""

    @property
    def count(self) -> int:
        return self.deals + self.orders

    @property
    def amount(self) -> Decimal:
        return self.deal_amount + self.order_amount

    def add(self, other: "PurchaseCell") -> None:
        self.deals += other.deals
        self.orders += other.orders
        self.deal_amount += other.deal_amount
        self.order_amount += other.order_amount


@dataclass
class PurchaseRow:
    key: object
    label: str
    now: PurchaseCell = field(default_factory=PurchaseCell)
    before: PurchaseCell = field(default_factory=PurchaseCell)

    @property
    def change(self) -> Decimal | None:
        """The amount's change against the previous period, in per cent (None when there was nothing)."""
        if not self.before.amount:
            return None
        return ((self.now.amount - self.before.amount) * 100 / self.before.amount).quantize(Decimal("0.1"))


@dataclass
class PurchaseFigures:
    period: Period
    previous: Period
    months: list[PurchaseRow]  # the period's months; `before` is the same month of the previous period
    regions: list[PurchaseRow]
    families: list[PurchaseRow]
    total: PurchaseRow
    unconverted: int  # direct orders in a currency with no rate: counted, not in the amounts


def deal_list_url(owner: User | None, period: Period, **params: object) -> str:
    query = {"status": StageKind.WON, "closed_from": period.start.isoformat(),
             "closed_to": period.last_day.isoformat(), **({"owner": owner.pk} if owner else {}), **params}
    return reverse("sales:opportunity_list") + "?" + urlencode(query)


def order_list_url(owner: User | None, period: Period, **params: object) -> str:
    query = {"purchase": "true", "ordered_from": period.start.isoformat(), "ordered_to": period.last_day.isoformat(),
             **({"owner": owner.pk} if owner else {}), **params}
    return reverse("sales:order_list") + "?" + urlencode(query)


def _line_amount(currency_path: str, rates: list[Rate], saved_rate=None) -> Case:
    """A line's quantity × price less its discount, in DEFAULT_CURRENCY at today's rates."""
    line = ExpressionWrapper(F("quantity") * F("unit_price") * (100 - F("discount_pct")) / 100,
                             output_field=MONEY_FIELD)
    whens = [When(**{currency_path: settings.DEFAULT_CURRENCY}, then=line)]
    whens += [When(**{currency_path: rate.currency}, then=ExpressionWrapper(line * Value(rate.rate),
                                                                            output_field=MONEY_FIELD))
              for rate in rates]
    default = (ExpressionWrapper(line * saved_rate, output_field=MONEY_FIELD) if saved_rate is not None
               else Value(None, output_field=MONEY_FIELD))
    return Case(*whens, default=default, output_field=MONEY_FIELD)


def purchase_figures(user: User, owner: User | None, rates: list[Rate], period: Period) -> PurchaseFigures:
    """Two queries whatever the number of purchases: deals and direct orders by (month, territory), and their
    lines by product family (the territory tree is cached)."""
    previous = period.previous()
    first, after = previous.bounds()[0], period.bounds()[1]
    deals = (Opportunity.objects.visible_to(user).won()
             .filter(deleted_at__isnull=True, account__deleted_at__isnull=True, closed_at__gte=first,
                     closed_at__lt=after))
    orders = (Order.objects.visible_to(user)
              .filter(deleted_at__isnull=True, opportunity__isnull=True, account__deleted_at__isnull=True,
                      ordered_on__gte=previous.start, ordered_on__lt=period.end)
              .exclude(status=OrderStatus.CANCELLED))
    if owner is not None:
        deals, orders = deals.filter(owner=owner), orders.filter(owner=owner)
    cells: dict[tuple[datetime.date, int | None], PurchaseCell] = {}
    # One query for both kinds: the deals' and the direct orders' groups side by side (UNION ALL).
    money = DecimalField(max_digits=30, decimal_places=10)
    deal_groups = (deals.annotate(month=Cast(TruncMonth("closed_at"), DateField()), region=F("account__territory_id"))
                   .values("month", "region")
                   .annotate(kind=Value("deal"), count=Count("id"),
                             amount=Cast(Sum(converted_amount(rates)), money), unconverted=Value(0))
                   .order_by())
    order_groups = (orders.annotate(month=Cast(TruncMonth("ordered_on"), DateField()),
                                    region=F("account__territory_id"))
                    .values("month", "region")
                    .annotate(kind=Value("order"), count=Count("id"), amount=Cast(Sum(_document_amount(rates)), money),
                              unconverted=Count("id", filter=_unconverted(rates)))
                    .order_by())
    unconverted = 0
    for row in deal_groups.union(order_groups, all=True).order_by():
        cell = cells.setdefault((row["month"], row["region"]), PurchaseCell())
        if row["kind"] == "deal":
            cell.deals += row["count"]
            cell.deal_amount += row["amount"] or ZERO
        else:
            cell.orders += row["count"]
            cell.order_amount += row["amount"] or ZERO
            if row["month"] >= period.start:
                unconverted += row["unconverted"]
    current = period.start

    def in_period(month: datetime.date) -> bool:
        return month >= current

    # By month: the period's months against the same months of the previous one.
    months = []
    for index, start in enumerate(period.month_starts()):
        month_period = Period(MONTH, start)
        earlier = Period(MONTH, previous.month_starts()[index])
        row = PurchaseRow(key=start.isoformat(), label=date_format(start, "YEAR_MONTH_FORMAT"))
        for (month, _region), cell in cells.items():
            if month == start:
                row.now.add(cell)
            elif month == earlier.start:
                row.before.add(cell)
        _link(row.now, owner, month_period)
        _link(row.before, owner, earlier)
        months.append(row)
    total = PurchaseRow(key="total", label=_("Total"))
    for row in months:
        total.now.add(row.now)
        total.before.add(row.before)
    _link(total.now, owner, period)
    _link(total.before, owner, previous)
    # By region: each top-level territory with its sub-regions, then the accounts with none.
    tree = lookups.get("territories")  # cached: no query
    parents = {territory.pk: territory.parent_id for territory in tree}

    def root(pk: int | None) -> int | None:
        seen = set()
        while pk is not None and parents.get(pk) is not None and pk not in seen:
            seen.add(pk)
            pk = parents[pk]
        return pk

    regions: dict[int | None, PurchaseRow] = {}
    names = {territory.pk: str(territory) for territory in tree}
    for (month, region), cell in cells.items():
        key = root(region)
        row = regions.setdefault(key, PurchaseRow(key=key, label=names.get(key, "") if key else _("No region")))
        (row.now if in_period(month) else row.before).add(cell)
    for key, row in regions.items():
        if key is not None:  # the lists cannot select "no territory": that row has no links
            _link(row.now, owner, period, territory=key)
            _link(row.before, owner, previous, territory=key)
    region_rows = sorted(regions.values(), key=lambda row: (row.key is None, -row.now.amount, row.label.lower()))
    return PurchaseFigures(period=period, previous=previous, months=months, regions=region_rows,
                           families=_families(deals, orders, owner, rates, period, previous), total=total,
                           unconverted=unconverted)


def _link(cell: PurchaseCell, owner: User | None, period: Period, **params: object) -> None:
    cell.deals_url = deal_list_url(owner, period, **params)
    cell.orders_url = order_list_url(owner, period, **params)


def _families(deals, orders, owner: User | None, rates: list[Rate], period: Period,
              previous: Period) -> list[PurchaseRow]:
    """The purchases with a line of each family and those lines' amounts; a purchase with several families
    counts in each (the lists' `product_family` selects the same)."""
    first, _after = period.bounds()
    saved_rate = F("opportunity__amount_base") / NullIf(F("opportunity__amount"), Value(0))
    deal_now = Q(opportunity__closed_at__gte=first)
    order_now = Q(order__ordered_on__gte=period.start)
    found: dict[str, PurchaseRow] = {}
    groups = []
    for lines, kind, now, amount in (
            (OpportunityLine.objects.filter(opportunity__in=deals.values("pk")), "deal", deal_now,
             _line_amount("opportunity__currency", rates, saved_rate)),
            (OrderLine.objects.filter(order__in=orders.values("pk")), "order", order_now,
             _line_amount("order__currency", rates))):
        parent = "opportunity" if kind == "deal" else "order"
        money = DecimalField(max_digits=30, decimal_places=10)
        groups.append(lines.annotate(group=Coalesce(Lower("product__family"), Value(""))).values("group")
                      .annotate(kind=Value(kind), label=Min("product__family"),
                                count=Count(parent, distinct=True, filter=now),
                                amount=Cast(Sum(amount, filter=now), money),
                                previous=Count(parent, distinct=True, filter=~now),
                                previous_amount=Cast(Sum(amount, filter=~now), money))
                      .order_by())
    for item in groups[0].union(groups[1], all=True).order_by():  # one query for both kinds
        kind = item["kind"]
        label = item["label"] or _("No product family")
        row = found.setdefault(item["group"], PurchaseRow(key=item["group"], label=label))
        if kind == "deal":
            row.now.deals += item["count"]
            row.now.deal_amount += item["amount"] or ZERO
            row.before.deals += item["previous"]
            row.before.deal_amount += item["previous_amount"] or ZERO
        else:
            row.now.orders += item["count"]
            row.now.order_amount += item["amount"] or ZERO
            row.before.orders += item["previous"]
            row.before.order_amount += item["previous_amount"] or ZERO
    for row in found.values():
        if row.key:
            _link(row.now, owner, period, product_family=row.label)
            _link(row.before, owner, previous, product_family=row.label)
    return sorted(found.values(), key=lambda row: (not row.key, -row.now.amount, -row.before.amount,
                                                    row.label.lower()))


# --- Shipments by product family and month, and the on-time share -------------------------------------------
# The rule (docs/reports.md): an order counts as shipped once, in the month of its FIRST shipment
# (Order.objects.shipped: not cancelled, on a live account; later shipments of the same order add nothing). Its
# amount is net of tax: each line's total less the order's overall discount, in DEFAULT_CURRENCY at today's
# rates; a line goes to its product's family (ignoring case; no product or no family: "No product family"), so
# the families add up to the month. It is on time when that first shipment left on or before `promised_on`,
# late after it; an order with no promised date is counted apart and left out of the on-time share. Every
# figure links to the order list with `shipped_from`/`shipped_to` (and `product_family`, `no_product_family`,
# `punctuality`, `owner`), which selects through the same queryset method.


@dataclass
class ShippedCell:
    orders: int = 0
    amount: Decimal = ZERO
    url: str = ""

    def add(self, other: "ShippedCell") -> None:
        self.orders += other.orders
        self.amount += other.amount


@dataclass
class ShippedMonth:
    """Orders shipped in a month (or a whole period): how many, their amount, and how they kept the promise."""

    orders: int = 0
    amount: Decimal = ZERO
    on_time: int = 0
    late: int = 0
    no_promise: int = 0
    unconverted: int = 0
    url: str = ""
    on_time_url: str = ""
    late_url: str = ""
    no_promise_url: str = ""

    @property
    def on_time_share(self) -> Decimal | None:
        """On time ÷ (on time + late), in per cent; None when no shipped order had a promised date."""
        promised = self.on_time + self.late
        if not promised:
            return None
        return (Decimal(self.on_time) * 100 / promised).quantize(Decimal("0.1"))

    def add(self, other: "ShippedMonth") -> None:
        for name in ("orders", "amount", "on_time", "late", "no_promise", "unconverted"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class ShipmentMonthRow:
    key: str
    label: str
    now: ShippedMonth
    before: ShippedMonth  # the same month of the previous period

    @property
    def change(self) -> Decimal | None:
        return _change(self.now.amount, self.before.amount)


@dataclass
class FamilyRow:
    key: str  # the family in lower case; "" = no product family
    label: str
    months: list[ShippedCell]  # the period's months
    total: ShippedCell
    before: ShippedCell  # the previous period

    @property
    def change(self) -> Decimal | None:
        return _change(self.total.amount, self.before.amount)


@dataclass
class ShipmentFigures:
    period: Period
    previous: Period
    months: list[ShipmentMonthRow]
    total: ShipmentMonthRow  # the period against the previous one
    families: list[FamilyRow]

    @property
    def any(self) -> bool:
        return bool(self.total.now.orders or self.total.before.orders)


def _change(now: Decimal, before: Decimal) -> Decimal | None:
    if not before:
        return None
    return ((now - before) * 100 / before).quantize(Decimal("0.1"))


def shipped_list_url(owner: User | None, first: datetime.date, last: datetime.date, **params: object) -> str:
    query = {"shipped_from": first.isoformat(), "shipped_to": last.isoformat(),
             **({"owner": owner.pk} if owner else {}), **params}
    return reverse("sales:order_list") + "?" + urlencode(query)


def shipped_orders(user: User, owner: User | None, first: datetime.date, last: datetime.date):
    """The orders the reader may see that shipped from `first` to `last` (the order list's filters select the
    same: visible_to, then `owner`, then Order.objects.shipped)."""
    orders = Order.objects.visible_to(user).shipped(first, last)
    return orders.filter(owner=owner) if owner is not None else orders


def _shipped_line_amount(rates: list[Rate]) -> Case:
    """A line's total less its share of the order's overall discount (net of tax), in DEFAULT_CURRENCY."""
    net = ExpressionWrapper(F("line_total") * (100 - F("order__discount_pct")) / 100, output_field=MONEY_FIELD)
    whens = [When(order__currency=settings.DEFAULT_CURRENCY, then=net)]
    whens += [When(order__currency=rate.currency, then=ExpressionWrapper(net * Value(rate.rate),
                                                                        output_field=MONEY_FIELD))
              for rate in rates]
    return Case(*whens, default=Value(None, output_field=MONEY_FIELD), output_field=MONEY_FIELD)


def shipment_figures(user: User, owner: User | None, rates: list[Rate], period: Period) -> ShipmentFigures:
    """One query whatever the number of orders: the shipped orders by month (how many, on time, late, with no
    promise) and their lines by (month, product family), side by side (UNION ALL), over the period and the
    previous one."""
    previous = period.previous()
    orders = shipped_orders(user, owner, previous.start, period.last_day)
    money = DecimalField(max_digits=30, decimal_places=10)
    month = Cast(TruncMonth("first_shipped_on"), DateField())
    zero = Value(0)
    order_groups = (orders.annotate(month=month, group=Value("")).values("month", "group")
                    .annotate(label=Value(""), kind=Value("order"), count=Count("id"),
                              on_time=Count("id", filter=punctuality_condition(Punctuality.ON_TIME)),
                              late=Count("id", filter=punctuality_condition(Punctuality.LATE)),
                              no_promise=Count("id", filter=punctuality_condition(Punctuality.NO_PROMISE)),
                              unconverted=Count("id", filter=_unconverted(rates)),
                              amount=Value(None, output_field=money))
                    .order_by())
    line_groups = (OrderLine.objects.filter(order__in=orders.values("pk"))
                   .annotate(month=Cast(TruncMonth(first_shipment_day("order_id")), DateField()),
                             group=Coalesce(Lower("product__family"), Value("")))
                   .values("month", "group")
                   .annotate(label=Min("product__family"), kind=Value("line"), count=Count("order", distinct=True),
                             on_time=zero, late=zero, no_promise=zero, unconverted=zero,
                             amount=Cast(Sum(_shipped_line_amount(rates)), money))
                   .order_by())
    starts, earlier = period.month_starts(), previous.month_starts()
    index = {start: position for position, start in enumerate(starts)}
    index.update({start: position for position, start in enumerate(earlier)})
    months = [ShipmentMonthRow(key=start.isoformat(), label=date_format(start, "YEAR_MONTH_FORMAT"),
                               now=ShippedMonth(), before=ShippedMonth()) for start in starts]
    families: dict[str, FamilyRow] = {}
    for row in order_groups.union(line_groups, all=True).order_by():
        position = index.get(row["month"])
        if position is None:  # cannot happen: the orders are those of the two periods
            continue
        now = row["month"] >= period.start
        if row["kind"] == "order":
            target = months[position].now if now else months[position].before
            target.orders += row["count"]
            target.on_time += row["on_time"]
            target.late += row["late"]
            target.no_promise += row["no_promise"]
            target.unconverted += row["unconverted"]
            continue
        family = families.setdefault(row["group"], FamilyRow(
            key=row["group"], label=row["label"] or _("No product family"),
            months=[ShippedCell() for _start in starts], total=ShippedCell(), before=ShippedCell()))
        cell = ShippedCell(orders=row["count"], amount=row["amount"] or ZERO)
        if now:
            family.months[position].add(cell)
            family.total.add(cell)
            months[position].now.amount += cell.amount
        else:
            family.before.add(cell)
            months[position].before.amount += cell.amount
    total = ShipmentMonthRow(key="total", label=_("Total"), now=ShippedMonth(), before=ShippedMonth())
    for row, start, before_start in zip(months, starts, earlier, strict=True):
        _link_shipped(row.now, owner, start, Period(MONTH, start).last_day)
        _link_shipped(row.before, owner, before_start, Period(MONTH, before_start).last_day)
        total.now.add(row.now)
        total.before.add(row.before)
    _link_shipped(total.now, owner, period.start, period.last_day)
    _link_shipped(total.before, owner, previous.start, previous.last_day)
    for family in families.values():
        params = {"product_family": family.label} if family.key else {"no_product_family": "true"}
        for cell, start in zip(family.months, starts, strict=True):
            cell.url = shipped_list_url(owner, start, Period(MONTH, start).last_day, **params)
        family.total.url = shipped_list_url(owner, period.start, period.last_day, **params)
        family.before.url = shipped_list_url(owner, previous.start, previous.last_day, **params)
    rows = sorted(families.values(), key=lambda row: (not row.key, -row.total.amount, -row.before.amount,
                                                      row.label.lower()))
    return ShipmentFigures(period=period, previous=previous, months=months, total=total, families=rows)


def _link_shipped(figure: ShippedMonth, owner: User | None, first: datetime.date, last: datetime.date) -> None:
    figure.url = shipped_list_url(owner, first, last)
    figure.on_time_url = shipped_list_url(owner, first, last, punctuality=Punctuality.ON_TIME.value)
    figure.late_url = shipped_list_url(owner, first, last, punctuality=Punctuality.LATE.value)
    figure.no_promise_url = shipped_list_url(owner, first, last, punctuality=Punctuality.NO_PROMISE.value)
