"""The sales manager's dashboard (/reports/team/): every figure per rep against an independent computation
over generated data, every link lists exactly the records it counts, visibility per role, a forged filter,
and a constant number of queries."""

import datetime
import random
import re
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import AccountFactory
from activities.models import Activity, ActivityKind, TaskStatus
from reports.pipeline import Period
from reports.tests.data import at, deal, generate
from reports.tests.drill_down import assert_lists_match, figure_links
from sales.models import CurrencyRate, Opportunity, Quote, QuoteLine, QuoteStatus, SalesTarget, StageKind
from sales.tests.factories import PipelineFactory, PriceBookEntryFactory, PriceBookFactory, ProductFactory

RATES = {"USD": Decimal("0.92"), "RUB": Decimal("0.0105")}
LINK = re.compile(r'href="([^"]+)" data-figure="(\w+)" data-count="(\d+)"')
ANY_LINK = re.compile(r'href="([^"]+)"[^>]*data-count="(\d+)"')
COMPETITORS = ["Acme", "acme ", "Globex", "Initech, Acme", "Рога и копыта", ""]


def money(value) -> Decimal:
    return Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def in_eur(amount, currency) -> Decimal:
    return amount * RATES.get(currency, Decimal(1))


@pytest.fixture
def setting(db):
    for currency, rate in RATES.items():
        CurrencyRate.objects.create(currency=currency, rate=rate)
    return {"pipeline": PipelineFactory(name="Новые продажи"),
            "quarter": Period.containing("quarter", timezone.localdate())}


def spread(generator, quarter) -> datetime.datetime:
    first = quarter.previous().start
    return at(first + datetime.timedelta(days=generator.randrange((quarter.next().end - first).days)),
              generator.randrange(24))


def populate(setting, people, seed=12, count=60):
    """Deals (with creation days and competitors), activities, quotes and targets across the people."""
    generator = random.Random(seed)
    quarter = setting["quarter"]
    deals = generate(setting["pipeline"], people, quarter, seed=seed, count=count)
    for opportunity in deals:
        opportunity.created_at = spread(generator, quarter)
        opportunity.competitors = generator.choice(COMPETITORS)
        Opportunity.objects.filter(pk=opportunity.pk).update(created_at=opportunity.created_at,
                                                             competitors=opportunity.competitors)
    now = timezone.now()
    activities = []
    for number in range(count * 2):
        kind = generator.choice(ActivityKind.values)
        when = spread(generator, quarter) if generator.random() < 0.7 else \
            now - datetime.timedelta(days=generator.randrange(40), hours=generator.randrange(24))
        extra = {}
        if kind == ActivityKind.TASK:
            extra["status"] = generator.choice(TaskStatus.values)
            if extra["status"] == TaskStatus.DONE:
                extra["completed_at"] = spread(generator, quarter) if generator.random() < 0.6 else \
                    now - datetime.timedelta(days=generator.randrange(30))
        owner = generator.choice(people)
        subject = generator.choice([d for d in deals if d.owner_id == owner.pk] or [None])
        activities.append(Activity.objects.create(
            kind=kind, subject=f"Дело {number}", owner=owner, team=owner.team, occurred_at=when,
            opportunity=subject if generator.random() < 0.6 else None,
            account=subject.account if subject else None,
            deleted_at=now if generator.random() < 0.05 else None, **extra))
    book = PriceBookFactory(name="Основной")
    products = [ProductFactory(name=f"Товар {number}") for number in range(3)]
    for product in products:
        PriceBookEntryFactory(price_book=book, product=product, unit_price=Decimal("100.00"))
    quotes = []
    for number in range(count):
        owner = generator.choice(people)
        issued = spread(generator, quarter).date()
        currency = generator.choice(["EUR", "USD", "RUB"])
        discount = generator.choice([Decimal(0), Decimal("15.50"), Decimal("120.00")])
        quote = Quote.objects.create(
            owner=owner, team=owner.team, number=f"Q-T-{number:04d}", title=f"Предложение {number}",
            account=AccountFactory(owner=owner), currency=currency, issue_date=issued,
            valid_until=issued + datetime.timedelta(days=30), status=generator.choice(QuoteStatus.values),
            price_book=book if generator.random() < 0.8 else None, discount_total=discount)
        quote.below = False
        for line in range(generator.randrange(1, 3)):
            price = generator.choice([Decimal("80.00"), Decimal("100.00"), Decimal("120.00")])
            QuoteLine.objects.create(quote=quote, product=generator.choice(products), name=f"Строка {line}",
                                     unit_price=price)
            quote.below |= price < Decimal("100.00") and quote.price_book_id is not None
        quotes.append(quote)
    for person in people:
        SalesTarget.objects.create(user=person, period="quarter", period_start=quarter.start,
                                   amount=Decimal(generator.randrange(100000, 900000)))
    return {"deals": deals, "activities": activities, "quotes": quotes}


@pytest.fixture
def data(setting, owner, teammate, outsider):
    return populate(setting, [owner, teammate, outsider])


def get(client, user, **params):
    client.force_login(user)
    return client.get(reverse("reports_team"), params)


def test_each_rep_figure_equals_an_independent_computation(client, executive, owner, teammate, outsider, setting,
                                                           data):
    quarter = setting["quarter"]
    dashboard = get(client, executive, start=quarter.start).context["dashboard"]
    rows = {row.key: row for row in dashboard.rows if row.key}
    first, after = quarter.bounds()
    before_first = quarter.previous().bounds()[0]
    now = timezone.now()
    for person in (owner, teammate, outsider):
        row = rows[person.pk]
        mine = [d for d in data["deals"] if d.owner_id == person.pk]
        won = [d for d in mine if d.stage.kind == StageKind.WON and first <= d.closed_at < after]
        lost = [d for d in mine if d.stage.kind == StageKind.LOST and first <= d.closed_at < after]
        won_before = [d for d in mine if d.stage.kind == StageKind.WON and before_first <= d.closed_at < first]
        open_ = [d for d in mine if d.stage.kind == StageKind.OPEN
                 and quarter.start <= d.expected_close_date < quarter.end]
        created = [d for d in mine if first <= d.created_at < after]
        assert (row.won_count, row.lost_count, row.open_count, row.created_count) == (
            len(won), len(lost), len(open_), len(created))
        assert row.won_amount == money(sum(in_eur(d.amount, d.currency) for d in won))
        assert row.previous_won == money(sum(in_eur(d.amount, d.currency) for d in won_before))
        assert row.open_amount == money(sum(in_eur(d.amount, d.currency) for d in open_))
        assert row.weighted == money(sum(in_eur(d.amount, d.currency) * d.probability for d in open_) / 100)
        assert row.created_amount == money(sum(in_eur(d.amount, d.currency) for d in created))
        if won or lost:
            assert row.win_rate == (Decimal(len(won)) * 100 / (len(won) + len(lost))).quantize(Decimal("0.1"))
        target = SalesTarget.objects.get(user=person).amount
        assert row.target == target

        acts = [a for a in data["activities"] if a.owner_id == person.pk and a.deleted_at is None]
        assert row.calls == len([a for a in acts if a.kind == "call" and first <= a.occurred_at < after])
        assert row.meetings == len([a for a in acts if a.kind == "meeting" and first <= a.occurred_at < after])
        assert row.tasks_done == len([a for a in acts if a.kind == "task" and a.status == "done"
                                      and first <= a.completed_at < after])
        assert row.overdue == len([a for a in acts if a.kind == "task" and a.status == "open" and a.occurred_at < now])

        quotes = [q for q in data["quotes"] if q.owner_id == person.pk and quarter.start <= q.issue_date < quarter.end
                  and q.status not in ("draft", "superseded")]
        discounted = [q for q in quotes if q.discount_total > 0]
        assert row.discounted == len(discounted)
        assert row.discount_amount == money(sum(in_eur(q.discount_total, q.currency) for q in discounted))
        assert row.below_book == len([q for q in quotes if q.below])


def test_idle_deals_equal_plain_sql(client, executive, owner, setting, data):
    """The open deals with nothing done on them in N days, counted by a SQL query written apart."""
    for days in (3, 14, 30):
        rows = {row.key: row for row in get(client, executive, idle_days=days).context["dashboard"].rows}
        with connection.cursor() as cursor:
            cursor.execute("""
                SELECT o.owner_id, count(*) FROM sales_opportunity o JOIN sales_stage s ON s.id = o.stage_id
                WHERE s.kind = 'open' AND o.deleted_at IS NULL AND NOT EXISTS (
                    SELECT 1 FROM crm_activity a WHERE a.opportunity_id = o.id AND a.deleted_at IS NULL AND (
                        (a.kind <> 'task' AND a.occurred_at BETWEEN clock_timestamp() - %(days)s * interval '1 day'
                                                                AND clock_timestamp())
                        OR (a.kind = 'task' AND a.status = 'done'
                            AND a.completed_at BETWEEN clock_timestamp() - %(days)s * interval '1 day'
                                                   AND clock_timestamp())))
                GROUP BY o.owner_id""", {"days": days})
            expected = dict(cursor.fetchall())
        assert {key: row.idle for key, row in rows.items() if row.key and row.idle} == expected


def test_lost_by_competitor_counts_each_name_once_per_deal(client, executive, setting, data):
    quarter = setting["quarter"]
    first, after = quarter.bounds()
    dashboard = get(client, executive, start=quarter.start).context["dashboard"]
    lost = [d for d in data["deals"] if d.stage.kind == StageKind.LOST and first <= d.closed_at < after]
    expected = {}
    for d in lost:
        for name in {part.strip().lower() for part in d.competitors.split(",") if part.strip()}:
            expected[name] = expected.get(name, 0) + 1
    assert {row.label.lower(): row.count for row in dashboard.competitors} == expected


@pytest.mark.parametrize("role", ["executive", "manager", "owner"])
def test_every_link_lists_exactly_the_counted_records(client, cast, setting, data, role):
    response = get(client, cast[role], start=setting["quarter"].start, idle_days=10)
    page = response.content.decode()
    found = set(figure_links(page, ANY_LINK))
    figures = {figure for _url, figure, _count in LINK.findall(page)}
    assert {"open", "won", "lost", "created", "idle", "calls", "meetings", "tasks_done", "overdue", "discounted",
            "below_book"} <= figures
    assert len(found) >= 15
    assert_lists_match(client, found)


def test_a_manager_sees_the_team_and_a_rep_only_themselves(client, manager, owner, teammate, outsider, setting,
                                                           data):
    rows = get(client, manager).context["dashboard"].rows
    assert {row.key for row in rows if row.key} == {manager.pk, owner.pk, teammate.pk}
    assert outsider.get_full_name() not in get(client, manager).content.decode()
    rows = get(client, owner).context["dashboard"].rows
    assert [row.key for row in rows] == [owner.pk]


def test_a_forged_owner_is_refused_and_changes_nothing(client, manager, outsider, setting, data):
    response = get(client, manager, owner=outsider.pk)
    assert response.status_code == 200
    assert "owner" in response.context["form"].errors
    assert outsider.pk not in {row.key for row in response.context["dashboard"].rows}


@pytest.mark.parametrize("idle_days", ["0", "-3", "99999", "abc"])
def test_bad_idle_days_fall_back_to_the_default(client, manager, setting, idle_days):
    response = get(client, manager, idle_days=idle_days)
    assert response.status_code == 200
    assert response.context["dashboard"].idle_days == 14
    assert "idle_days" in response.context["form"].errors


@pytest.mark.parametrize("role", ["support_agent", "marketer"])
def test_roles_without_deals_get_404(client, cast, role):
    assert get(client, cast[role]).status_code == 404


def test_the_forecast_is_the_current_quarters_against_target(client, manager, owner, setting, data):
    dashboard = get(client, manager).context["dashboard"]
    rows = {row.label: row for row in dashboard.forecast}
    assert dashboard.forecast_period.start == setting["quarter"].start
    first, after = setting["quarter"].bounds()
    won = [d for d in data["deals"] if d.owner_id == owner.pk and d.stage.kind == StageKind.WON
           and first <= d.closed_at < after]
    row = rows[str(owner)]
    assert row.won == sum((Opportunity.objects.get(pk=d.pk).amount_base for d in won), Decimal(0))
    assert row.target == SalesTarget.objects.get(user=owner).amount


def test_a_constant_number_of_queries(client, executive, owner, outsider, setting):
    quarter, pipeline = setting["quarter"], setting["pipeline"]
    deal(pipeline, owner, "Won", "10.00", closed_at=at(quarter.start))
    client.force_login(executive)
    url = reverse("reports_team") + f"?start={quarter.start}"
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    populate(setting, [owner, outsider], seed=3, count=30)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert response.status_code == 200
    assert len(one) == len(many) <= 15, "\n".join(query["sql"][:150] for query in many.captured_queries)


def test_the_activity_list_filters_and_hides_what_the_reader_may_not_see(client, owner, outsider, setting):
    mine = Activity.objects.create(kind="call", subject="Звонок клиенту", owner=owner, team=owner.team)
    Activity.objects.create(kind="call", subject="Чужой звонок", owner=outsider, team=outsider.team)
    client.force_login(owner)
    response = client.get(reverse("activity_list"), {"kind": "call"})
    assert [row.pk for row in response.context["page"].rows] == [mine.pk]
    forged = client.get(reverse("activity_list"), {"owner": outsider.pk})
    assert "owner" in forged.context["filter"].form.errors


def test_the_e_mail_snapshot_holds_the_pages_figures(client, manager, owner, outsider, setting, data):
    from django.http import QueryDict

    from reports import team

    page = get(client, manager, start=setting["quarter"].start).context["dashboard"]
    mail = team.snapshot(manager, QueryDict("period=quarter&owner=" + str(outsider.pk)), timezone.localdate())
    pipeline_rows, activity_rows = (table["rows"] for table in mail["tables"])
    assert [row[0] for row in pipeline_rows] == [row.label for row in page.rows] + ["Total"]  # forged owner dropped
    assert [row[3] for row in pipeline_rows] == [row.won_amount for row in [*page.rows, page.total]]
    assert [row[1] for row in activity_rows] == [row.calls for row in [*page.rows, page.total]]


def test_the_activity_list_answers_in_a_constant_number_of_queries(client, manager, owner, setting):
    client.force_login(manager)
    url = reverse("activity_list") + f"?owner={owner.pk}&kind=call"
    Activity.objects.create(kind="call", subject="Первый звонок", owner=owner, team=owner.team,
                            account=AccountFactory(owner=owner))
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    for number in range(30):
        Activity.objects.create(kind="call", subject=f"Звонок {number}", owner=owner, team=owner.team,
                                account=AccountFactory(owner=owner))
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert response.context["page"].total == 31
    assert len(one) == len(many) <= 15
