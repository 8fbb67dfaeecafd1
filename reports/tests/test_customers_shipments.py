"""The customers dashboard's shipments by product family and month with the on-time share: each figure against an
independent computation (plain SQL over the generated orders, shipments and lines, then Python sums), visibility
per role checked against the owners each role may see, every link lists exactly the orders its figure counts,
the on-time rule on its edges, and a constant number of queries."""

import datetime
import random
from collections import defaultdict
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import AccountFactory
from reports.pipeline import Period
from reports.tests.drill_down import assert_lists_match, figure_links
from reports.tests.test_customer_ranking import RATES, order
from sales.models import CurrencyRate, OrderLine, OrderStatus, Shipment
from sales.money import compute_totals
from sales.tests.factories import ProductFactory

TODAY = datetime.date(2026, 5, 14)
PARAMS = {"period": "quarter", "start": TODAY.isoformat()}
PERIOD = Period.containing("quarter", TODAY)


def ship(made, *days):
    for day in days:
        Shipment.objects.create(order=made, shipped_on=day, carrier="DHL")


def add_lines(made, lines):
    """Order lines with their stored totals (the shipments' amounts read `line_total`)."""
    created = [OrderLine(order=made, name="Позиция", **line) for line in lines]
    totals = compute_totals(created, currency=made.currency, discount_pct=made.discount_pct)
    for line, amounts in zip(created, totals.lines, strict=True):
        line.line_total = amounts.total
    OrderLine.objects.bulk_create(created)


@pytest.fixture
def shipments_world(db, owner, teammate, outsider, manager):
    for currency, rate in RATES.items():
        CurrencyRate.objects.create(currency=currency, rate=rate)
    products = [ProductFactory(family=family) for family in ("Станки", "станки", "Сервис", "")]
    generator = random.Random(21)
    for number in range(36):
        person = generator.choice([owner, teammate, outsider, manager])
        account = AccountFactory(owner=person, team=person.team, name=f"ООО «Грузополучатель {number}»")
        for _order in range(generator.randrange(1, 5)):
            ordered = TODAY - datetime.timedelta(days=generator.randrange(0, 190))
            made = order(account, "0", generator.choice(["EUR", "EUR", "RUB", "UAH", "USD"]), on=ordered,
                         status=generator.choice([OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.SHIPPED,
                                                  OrderStatus.CANCELLED]))
            made.discount_pct = Decimal(generator.choice([0, 0, 5, 10]))
            made.promised_on = (ordered + datetime.timedelta(days=generator.randrange(0, 20))
                                if generator.random() < 0.8 else None)
            made.save(update_fields=["discount_pct", "promised_on"])
            add_lines(made, [{"product": generator.choice([*products, None]),
                              "quantity": Decimal(generator.randrange(1, 5)),
                              "unit_price": Decimal(f"{generator.randrange(10, 5000)}.{generator.randrange(100):02d}"),
                              "discount_pct": Decimal(generator.choice([0, 5, 12.5]))}
                             for _line in range(generator.randrange(0, 4))])
            if generator.random() < 0.85:  # most shipped, in one to three parts
                first = ordered + datetime.timedelta(days=generator.randrange(0, 25))
                ship(made, *[first + datetime.timedelta(days=7 * part) for part in range(generator.randrange(1, 4))])
    # Never counted: a deleted order, and an order of a deleted account, both shipped in the period.
    gone = order(AccountFactory(owner=owner, team=owner.team, name="Удалён"), "0", on=TODAY)
    add_lines(gone, [{"product": products[0], "quantity": Decimal(1), "unit_price": Decimal(100)}])
    ship(gone, TODAY)
    gone.deleted_at = timezone.now()
    gone.save(update_fields=["deleted_at"])
    closed = AccountFactory(owner=owner, team=owner.team, name="Закрыт")
    ship(order(closed, "0", on=TODAY), TODAY)
    closed.deleted_at = timezone.now()
    closed.save(update_fields=["deleted_at"])


def independent(user, period: Period, owners: set[int] | None = None):
    """The shipped orders by plain SQL and Python: the first shipment's day per order, the lines' net amounts
    in EUR. `owners`: the owners whose orders the reader may see (None: Order.visible_to decides)."""
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT o.id, o.owner_id, o.currency, o.discount_pct, o.promised_on, MIN(s.shipped_on)
            FROM sales_order o JOIN accounts_account a ON a.id = o.account_id
            JOIN sales_shipment s ON s.order_id = o.id
            WHERE o.status <> 'cancelled' AND o.deleted_at IS NULL AND a.deleted_at IS NULL
            GROUP BY o.id""")
        orders = cursor.fetchall()
        cursor.execute("""
            SELECT l.order_id, l.line_total, COALESCE(p.family, '')
            FROM sales_orderline l LEFT JOIN sales_product p ON p.id = l.product_id""")
        lines = defaultdict(list)
        for order_id, line_total, family in cursor.fetchall():
            lines[order_id].append((line_total, family.lower()))
    if owners is None:
        from sales.models import Order

        visible = set(Order.objects.visible_to(user).values_list("id", flat=True))
    found = []
    for pk, owner_id, currency, discount, promised, first in orders:
        if (owners is None and pk not in visible) or (owners is not None and owner_id not in owners):
            continue
        if not period.start <= first <= period.last_day:
            continue
        rate = Decimal(1) if currency == "EUR" else RATES.get(currency)
        found.append({
            "id": pk, "owner": owner_id, "month": first.replace(day=1), "unconverted": rate is None,
            "on_time": promised is not None and first <= promised, "late": promised is not None and first > promised,
            "no_promise": promised is None,
            "lines": [(family, total * (100 - discount) / 100 * (rate or 0)) for total, family in lines[pk]]})
    return found


def cents(value) -> Decimal:
    return Decimal(value).quantize(Decimal("0.01"))


def figures_for(client, user, **params):
    client.force_login(user)
    response = client.get(reverse("reports_customers"), {**PARAMS, **params})
    assert response.status_code == 200
    return response.context["shipments"]


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["executive", "manager", "owner"])
def test_shipment_figures_match_an_independent_computation(client, shipments_world, request, who):
    user = request.getfixturevalue(who)
    figures = figures_for(client, user)
    now, before = independent(user, PERIOD), independent(user, PERIOD.previous())
    assert now and before and any(record["late"] for record in now + before)
    assert any(record["on_time"] for record in now + before) and any(record["no_promise"] for record in now + before)
    for records, total in ((now, figures.total.now), (before, figures.total.before)):
        assert total.orders == len(records)
        assert total.on_time == sum(record["on_time"] for record in records)
        assert total.late == sum(record["late"] for record in records)
        assert total.no_promise == sum(record["no_promise"] for record in records)
        assert total.unconverted == sum(record["unconverted"] for record in records)
        assert cents(total.amount) == cents(sum(amount for record in records for _f, amount in record["lines"]))
    shares = [record for record in now if not record["no_promise"]]
    assert figures.total.now.on_time_share == (Decimal(sum(r["on_time"] for r in shares)) * 100 / len(shares)).quantize(
        Decimal("0.1"))
    for row, start, earlier in zip(figures.months, PERIOD.month_starts(), PERIOD.previous().month_starts(),
                                   strict=True):
        month = [record for record in now if record["month"] == start]
        assert row.now.orders == len(month)
        assert row.now.on_time == sum(record["on_time"] for record in month)
        assert row.now.late == sum(record["late"] for record in month)
        assert cents(row.now.amount) == cents(sum(amount for record in month for _f, amount in record["lines"]))
        assert row.before.orders == sum(1 for record in before if record["month"] == earlier)
    # Product families (ignoring case; no product or no family together): orders with such a line, and the
    # amounts of those lines, per month; the families add up to the month.
    families = {row.key: row for row in figures.families}
    expected_keys = {family for record in now + before for family, _amount in record["lines"]}
    assert set(families) == expected_keys and "станки" in families and "" in families
    for key, row in families.items():
        for cell, start in zip(row.months, PERIOD.month_starts(), strict=True):
            month = [record for record in now if record["month"] == start]
            assert cell.orders == sum(1 for record in month if any(f == key for f, _a in record["lines"]))
            assert cents(cell.amount) == cents(sum(a for record in month for f, a in record["lines"] if f == key))
        assert row.before.orders == sum(1 for record in before if any(f == key for f, _a in record["lines"]))
    for position, month in enumerate(figures.months):
        assert cents(sum(row.months[position].amount for row in figures.families)) == cents(month.now.amount)


@pytest.mark.django_db
def test_each_role_sees_the_orders_it_may_and_the_owner_filter_narrows(client, shipments_world, owner, teammate,
                                                                      manager, outsider, executive):
    everyone = {owner.pk, teammate.pk, manager.pk, outsider.pk}
    seen = {}
    for user, owners in ((owner, {owner.pk}), (manager, {owner.pk, teammate.pk, manager.pk}),
                         (executive, everyone)):
        figures = figures_for(client, user)
        records = independent(user, PERIOD, owners=owners)
        assert figures.total.now.orders == len(records), user
        assert cents(figures.total.now.amount) == cents(sum(a for record in records for _f, a in record["lines"]))
        seen[user.pk] = figures.total.now.orders
    assert 0 < seen[owner.pk] < seen[manager.pk] < seen[executive.pk]
    narrowed = figures_for(client, executive, owner=owner.pk)
    assert narrowed.total.now.orders == seen[owner.pk]
    assert narrowed.total.now.url.endswith(f"owner={owner.pk}")
    assert figures_for(client, outsider).total.now.orders == len(independent(outsider, PERIOD, owners={outsider.pk}))


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["executive", "owner"])
def test_every_shipment_link_lists_exactly_what_it_counts(client, shipments_world, request, who):
    user = request.getfixturevalue(who)
    client.force_login(user)
    page = client.get(reverse("reports_customers"), PARAMS).content.decode()
    start = page.index('id="shipments"')
    section = page[start:page.index("</section>", start)]
    found = figure_links(section)
    assert len(found) > 10 and any("product_family=" in url for url, _count in found)
    for needle in ("no_product_family=true", "punctuality=on_time", "punctuality=late", "punctuality=no_promise"):
        assert who != "executive" or any(needle in url for url, _count in found), needle
    assert_lists_match(client, found)


@pytest.mark.django_db
def test_the_on_time_rule_reads_the_first_shipment_and_the_promised_day(client, owner, executive):
    account = AccountFactory(owner=owner, team=owner.team)
    day = datetime.date(2026, 5, 10)
    made = {}
    for name, promised, shipped in (
            ("on the day", day, [day]),  # on the promised day: on time
            ("a day late", day, [day + datetime.timedelta(days=1)]),
            ("first part on time", day, [day - datetime.timedelta(days=2), day + datetime.timedelta(days=9)]),
            ("no promise", None, [day]),
            ("first shipped in March", day, [datetime.date(2026, 3, 30), day]),  # counts in March only
            ("not shipped", day, [])):
        made[name] = order(account, "0", on=day - datetime.timedelta(days=5))
        made[name].promised_on = promised
        made[name].save(update_fields=["promised_on"])
        add_lines(made[name], [{"product": None, "quantity": Decimal(1), "unit_price": Decimal(100)}])
        ship(made[name], *shipped)
    figures = figures_for(client, executive)
    may = next(row for row in figures.months if row.key == "2026-05-01")
    assert (may.now.orders, may.now.on_time, may.now.late, may.now.no_promise) == (4, 2, 1, 1)
    assert may.now.on_time_share == Decimal("66.7")
    assert may.now.amount == Decimal(400)
    assert figures.total.before.orders == 1 and figures.total.before.amount == Decimal(100)  # March, Q1
    client.force_login(executive)
    on_time = client.get(may.now.on_time_url).context["page"]
    assert {row.number for row in on_time.rows} == {made["on the day"].number, made["first part on time"].number}
    late = client.get(may.now.late_url).context["page"]
    assert [row.number for row in late.rows] == [made["a day late"].number]


@pytest.mark.django_db
def test_nothing_shipped_says_so(client, executive):
    client.force_login(executive)
    page = client.get(reverse("reports_customers"), PARAMS).content.decode()
    assert 'id="shipments"' in page and "shipments-chart" not in page
    assert "No order shipped in this period or the previous one." in page


@pytest.mark.django_db
def test_shipments_take_a_constant_number_of_queries(client, shipments_world, executive, owner):
    client.force_login(executive)
    client.get(reverse("reports_customers"), PARAMS)
    with CaptureQueriesContext(connection) as small:
        client.get(reverse("reports_customers"), PARAMS)
    for number in range(30):
        made = order(AccountFactory(owner=owner, name=f"Ещё {number}"), "0", on=TODAY)
        made.promised_on = TODAY
        made.save(update_fields=["promised_on"])
        add_lines(made, [{"product": ProductFactory(family=f"Семья {number}"), "quantity": Decimal(1),
                          "unit_price": Decimal(10)}])
        ship(made, TODAY - datetime.timedelta(days=number), TODAY)
    client.get(reverse("reports_customers"), PARAMS)  # any cached lookup the new rows touched is refilled
    with CaptureQueriesContext(connection) as large:
        response = client.get(reverse("reports_customers"), PARAMS)
    assert len(response.context["shipments"].families) > 30
    chart = response.context["shipments_chart"]["datasets"]  # eight families, the others together, last period
    assert len(chart) == 10 and chart[8]["urls"] == [] and chart[9]["stack"] == "before"
    assert len(large) == len(small) <= 15


@pytest.mark.django_db
def test_shipments_in_ukrainian(client, shipments_world, executive):
    executive.language = "uk"
    executive.save(update_fields=["language"])
    client.force_login(executive)
    page = client.get(reverse("reports_customers"), PARAMS).content.decode()
    assert "Відвантаження" in page and "Вчасно" in page and "Без групи товарів" in page
