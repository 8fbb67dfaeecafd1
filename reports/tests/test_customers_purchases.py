"""The customers dashboard's purchases by month, region and product family: each figure against an independent
computation (plain SQL over the generated records, then a Python walk), every link lists exactly the records its
figure counts, visibility per role and the owner filter, bad input and a constant number of queries."""

import datetime
import random
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import AccountFactory
from crm.models import Territory
from reports.pipeline import Period
from reports.tests.data import deal
from reports.tests.drill_down import assert_lists_match, figure_links
from reports.tests.test_customer_ranking import RATES, order
from sales.models import CurrencyRate, OpportunityLine, OrderLine, OrderStatus
from sales.tests.factories import PipelineFactory, ProductFactory

TODAY = datetime.date(2026, 5, 14)
PARAMS = {"period": "quarter", "start": TODAY.isoformat()}


@pytest.fixture
def purchases_world(db, owner, teammate, outsider, manager):
    manager.time_zone = "Asia/Vladivostok"  # the reader's day differs from UTC's: months cut at their midnight
    manager.save(update_fields=["time_zone"])
    for currency, rate in RATES.items():
        CurrencyRate.objects.create(currency=currency, rate=rate)
    europe = Territory.objects.create(name="Европа")
    east = Territory.objects.create(name="Восток")
    poland = Territory.objects.create(name="Польша", parent=europe)
    products = [ProductFactory(family=family) for family in ("Станки", "станки", "Сервис", "")]
    pipeline = PipelineFactory(name="Продажи")
    generator = random.Random(12)
    for number in range(30):
        person = generator.choice([owner, teammate, outsider])
        account = AccountFactory(owner=person, team=person.team, name=f"ООО «Покупатель {number}»",
                                 territory=generator.choice([europe, east, poland, None]))
        for _purchase in range(generator.randrange(1, 6)):
            day = TODAY - datetime.timedelta(days=generator.randrange(0, 240))
            currency = generator.choice(["EUR", "RUB", "UAH", "USD"])
            amount = f"{generator.randrange(100, 90000)}.{generator.randrange(100):02d}"
            kind = generator.choice(["won", "lost", "order", "cancelled", "from_deal"])
            if kind in ("won", "lost", "from_deal"):
                hour = generator.choice([1, 12, 23])  # near midnight somewhere
                closed = datetime.datetime.combine(day, datetime.time(hour), tzinfo=datetime.UTC)
                made = deal(pipeline, person, "Lost" if kind == "lost" else "Won", amount, currency if currency != "USD"
                            else "EUR", account=account, closed_at=closed)
                document = made
                if kind == "from_deal":  # the deal's own order: not a second purchase
                    document = order(account, amount, "EUR", on=day, opportunity=made)
            else:
                document = order(account, amount, currency, on=day,
                                 status=OrderStatus.CANCELLED if kind == "cancelled" else OrderStatus.DELIVERED)
            for _line in range(generator.randrange(0, 3)):
                line = {"product": generator.choice(products + [None]), "name": "Позиция",
                        "quantity": Decimal(generator.randrange(1, 5)),
                        "unit_price": Decimal(f"{generator.randrange(10, 5000)}.50"),
                        "discount_pct": Decimal(generator.choice([0, 5, 12.5]))}
                if hasattr(document, "stage_id"):
                    OpportunityLine.objects.create(opportunity=document, **line)
                else:
                    OrderLine.objects.create(order=document, **line)
    return {"europe": europe, "east": east, "poland": poland}


def independent(user, period: Period, owner=None):
    """The purchases the reader may see, plain SQL for the records, Python for the grouping."""
    zone = ZoneInfo(user.time_zone)
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT 'deal', o.id, o.closed_at, NULL::date, o.amount, o.currency, a.territory_id, o.owner_id
            FROM sales_opportunity o JOIN sales_stage s ON s.id = o.stage_id
            JOIN accounts_account a ON a.id = o.account_id
            WHERE s.kind = 'won' AND o.deleted_at IS NULL AND a.deleted_at IS NULL
            UNION ALL
            SELECT 'order', r.id, NULL, r.ordered_on, r.total, r.currency, a.territory_id, r.owner_id
            FROM sales_order r JOIN accounts_account a ON a.id = r.account_id
            WHERE r.status <> 'cancelled' AND r.opportunity_id IS NULL AND r.deleted_at IS NULL
              AND a.deleted_at IS NULL""")
        rows = cursor.fetchall()
    from sales.models import Opportunity, Order

    visible = {"deal": set(Opportunity.objects.visible_to(user).values_list("id", flat=True)),
               "order": set(Order.objects.visible_to(user).values_list("id", flat=True))}
    found = []
    for kind, pk, closed_at, ordered_on, amount, currency, territory, owner_id in rows:
        if pk not in visible[kind] or (owner is not None and owner_id != owner.pk):
            continue
        day = closed_at.astimezone(zone).date() if kind == "deal" else ordered_on
        rate = Decimal(1) if currency == "EUR" else RATES.get(currency)
        found.append({"kind": kind, "id": pk, "day": day, "territory": territory,
                      "amount": amount * rate if rate is not None else Decimal(0)})
    return found


def in_period(records, period: Period):
    return [record for record in records if period.start <= record["day"] <= period.last_day]


def cents(value) -> Decimal:
    return Decimal(value).quantize(Decimal("0.01"))


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["executive", "manager", "owner"])
def test_purchase_figures_match_an_independent_computation(client, purchases_world, request, who):
    user = request.getfixturevalue(who)
    client.force_login(user)
    figures = client.get(reverse("reports_customers"), PARAMS).context["purchases"]
    period = Period.containing("quarter", TODAY)
    records = independent(user, period)
    now, before = in_period(records, period), in_period(records, period.previous())
    assert now and before
    assert figures.total.now.deals == sum(1 for record in now if record["kind"] == "deal")
    assert figures.total.now.orders == sum(1 for record in now if record["kind"] == "order")
    assert figures.total.before.count == len(before)
    assert cents(figures.total.now.amount) == cents(sum(record["amount"] for record in now))
    assert cents(figures.total.before.amount) == cents(sum(record["amount"] for record in before))
    for row, start in zip(figures.months, period.month_starts(), strict=True):
        month = [record for record in now if record["day"].replace(day=1) == start]
        assert row.now.count == len(month)
        assert cents(row.now.amount) == cents(sum(record["amount"] for record in month))
    europe = {purchases_world["europe"].pk, purchases_world["poland"].pk}
    region = {row.key: row for row in figures.regions}
    europe_now = [record for record in now if record["territory"] in europe]
    if europe_now:
        assert region[purchases_world["europe"].pk].now.count == len(europe_now)  # Poland rolled up
        assert cents(region[purchases_world["europe"].pk].now.amount) == cents(
            sum(record["amount"] for record in europe_now))
    assert sum(row.now.count for row in figures.regions) == len(now)
    # Product families: the lines of the family (ignoring case), quantity × price less the discount.
    ids = {(record["kind"], record["id"]) for record in now}
    lines = [("deal", line.opportunity_id, line) for line in OpportunityLine.objects.select_related(
        "product", "opportunity")] + [("order", line.order_id, line)
                                      for line in OrderLine.objects.select_related("product", "order")]
    machines = [(kind, pk, line) for kind, pk, line in lines if (kind, pk) in ids and line.product
                and line.product.family.lower() == "станки"]
    row = next(row for row in figures.families if row.key == "станки")
    assert row.now.count == len({(kind, pk) for kind, pk, _line in machines})
    expected = Decimal(0)
    for kind, _pk, line in machines:
        document = line.opportunity if kind == "deal" else line.order
        rate = Decimal(1) if document.currency == "EUR" else RATES.get(document.currency, Decimal(0))
        expected += line.quantity * line.unit_price * (100 - line.discount_pct) / 100 * rate
    assert cents(row.now.amount) == cents(expected)


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["executive", "manager", "owner"])
def test_every_purchase_link_lists_exactly_what_it_counts(client, purchases_world, request, who):
    user = request.getfixturevalue(who)
    client.force_login(user)
    page = client.get(reverse("reports_customers"), PARAMS).content.decode()
    section = page[page.index('id="purchases"'):page.index('id="churn-heading"')]
    found = figure_links(section)
    assert len(found) > 8 and any("product_family=" in url for url, _c in found)
    assert any("territory=" in url for url, _c in found) and any("sales/orders" in url for url, _c in found)
    assert_lists_match(client, found)


@pytest.mark.django_db
def test_a_rep_sees_their_own_and_the_owner_filter_narrows(client, purchases_world, owner, executive):
    client.force_login(owner)
    mine = client.get(reverse("reports_customers"), PARAMS).context["purchases"]
    client.force_login(executive)
    everyone = client.get(reverse("reports_customers"), PARAMS).context["purchases"]
    narrowed = client.get(reverse("reports_customers"), {**PARAMS, "owner": owner.pk})
    assert mine.total.now.count < everyone.total.now.count
    assert narrowed.context["purchases"].total.now.count == mine.total.now.count
    assert cents(narrowed.context["purchases"].total.now.amount) == cents(mine.total.now.amount)
    period = Period.containing("quarter", TODAY)
    assert mine.total.now.count == len(in_period(independent(executive, period, owner=owner), period))


@pytest.mark.django_db
def test_a_bad_period_is_refused_with_a_message(client, purchases_world, executive):
    client.force_login(executive)
    response = client.get(reverse("reports_customers"), {"period": "decade", "start": "9999-01-01"})
    assert response.status_code == 200 and 'id="dashboard-errors"' in response.content.decode()
    assert response.context["purchases"].period == Period.containing("quarter", timezone.localdate())


@pytest.mark.django_db
def test_purchases_take_a_constant_number_of_queries(client, purchases_world, executive, owner):
    client.force_login(executive)
    client.get(reverse("reports_customers"), PARAMS)
    with CaptureQueriesContext(connection) as small:
        client.get(reverse("reports_customers"), PARAMS)
    for number in range(30):
        made = order(AccountFactory(owner=owner, name=f"Ещё {number}",
                                    territory=Territory.objects.create(name=f"Область {number}")), "500", on=TODAY)
        OrderLine.objects.create(order=made, product=ProductFactory(family=f"Семья {number}"), name="x",
                                 unit_price=Decimal(10))
    client.get(reverse("reports_customers"), PARAMS)  # the new regions refill the cached territory list
    with CaptureQueriesContext(connection) as large:
        client.get(reverse("reports_customers"), PARAMS)
    assert len(large) == len(small) <= 15


@pytest.mark.django_db
def test_purchases_in_russian(client, purchases_world, executive):
    executive.language = "ru"
    executive.save(update_fields=["language"])
    client.force_login(executive)
    page = client.get(reverse("reports_customers"), PARAMS).content.decode()
    assert "Прямые заказы" in page and "По товарным группам" in page and "Без региона" in page
    assert re.search(r"\d[\s\xa0\u202f]\d{3},\d{2}", page)  # 12 345,67
