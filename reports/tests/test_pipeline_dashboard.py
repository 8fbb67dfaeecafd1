"""The executive pipeline dashboard (/reports/): each figure against an independent computation on
generated data, every figure's link lists exactly the deals it counts, visibility per role, targets,
bad input, the reader's language, and a constant number of queries."""

from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from crm import formatting
from crm.tests.factories import TeamFactory
from reports.pipeline import Period
from reports.tests.data import at, deal, generate
from reports.tests.drill_down import assert_lists_match, figure_links
from sales.models import CurrencyRate, Opportunity, SalesTarget, StageChange, StageKind, TargetPeriod
from sales.tests.factories import PipelineFactory

RATES = {"USD": Decimal("0.92"), "RUB": Decimal("0.0105")}
CENT = Decimal("0.01")


@pytest.fixture
def rates(db):
    return {currency: CurrencyRate.objects.create(currency=currency, rate=rate) for currency, rate in RATES.items()}


@pytest.fixture
def pipeline(db):
    return PipelineFactory(name="Новые продажи")


@pytest.fixture
def quarter():
    return Period.containing("quarter", timezone.localdate())


def in_eur(opportunity) -> Decimal:
    return opportunity.amount * RATES.get(opportunity.currency, Decimal(1))


def money(value) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def get(client, user, data=None):
    client.force_login(user)
    return client.get(reverse("reports"), data or {})


def links(response) -> list[tuple[str, int]]:
    return figure_links(response.content.decode())


# --- Figures against an independent computation -----------------------------------------------------


def test_figures_equal_an_independent_computation(client, executive, owner, teammate, outsider, pipeline, rates,
                                                  quarter):
    deals = generate(pipeline, [owner, teammate, outsider], quarter)
    response = get(client, executive, {"period": "quarter", "start": quarter.start})
    board = response.context["dashboard"]
    assert response.status_code == 200

    open_deals = [d for d in deals if d.stage.kind == StageKind.OPEN
                  and quarter.start <= d.expected_close_date < quarter.end]
    assert board.open_total.count == len(open_deals) > 0
    months = {d.expected_close_date.replace(day=1) for d in open_deals}
    assert board.open_total.amount == sum(money(sum(in_eur(d) for d in open_deals
                                                    if d.expected_close_date.replace(day=1) == month))
                                          for month in months)
    for bucket in board.by_stage:
        mine = [d for d in open_deals if d.stage_id == bucket.key]
        assert bucket.count == len(mine)
        assert bucket.amount == money(sum((in_eur(d) for d in mine), Decimal(0)))
        assert bucket.weighted == money(sum((in_eur(d) * d.probability for d in mine), Decimal(0)) / 100)
    for bucket in board.by_month:
        mine = [d for d in open_deals if d.expected_close_date.replace(day=1) == bucket.key]
        assert bucket.count == len(mine)
        assert bucket.amount == money(sum((in_eur(d) for d in mine), Decimal(0)))

    for figures, period in ((board.current, quarter), (board.previous, quarter.previous())):
        first, after = period.bounds()
        won = [d for d in deals if d.stage.kind == StageKind.WON and first <= d.closed_at < after]
        lost = [d for d in deals if d.stage.kind == StageKind.LOST and first <= d.closed_at < after]
        assert figures.won.count == len(won) > 0
        assert figures.lost.count == len(lost) > 0
        assert figures.won.amount == money(sum(in_eur(d) for d in won))
        assert figures.lost.amount == money(sum(in_eur(d) for d in lost))
        assert figures.win_rate == (Decimal(len(won)) * 100 / (len(won) + len(lost))).quantize(
            Decimal("0.1"), rounding=ROUND_HALF_UP)
        assert figures.average_deal == money(money(sum(in_eur(d) for d in won)) / len(won))
        entered = {change.opportunity_id: change.changed_at for change in StageChange.objects.all()}
        days = sum((d.closed_at - entered[d.pk]).total_seconds() for d in won) / 86400 / len(won)
        assert figures.cycle_days == Decimal(days).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def test_amounts_follow_todays_rate_and_show_its_date(client, executive, owner, pipeline, rates, quarter):
    deal(pipeline, owner, "Proposal", "1000000.00", "RUB", closes=quarter.start, amount_base=Decimal("1"))
    response = get(client, executive, {"start": quarter.start})
    assert response.context["dashboard"].open_total.amount == Decimal("10500.00")
    note = response.content.decode()
    assert "1 RUB = 0.0105 EUR" in note
    assert f"rate of {formatting.day(rates['RUB'].updated_at)}" in note  # the one date style (crm/formatting.py)

    CurrencyRate.objects.filter(currency="RUB").update(rate=Decimal("0.011"))
    board = get(client, executive, {"start": quarter.start}).context["dashboard"]
    assert board.open_total.amount == Decimal("11000.00")


def test_a_currency_without_a_rate_counts_at_the_rate_of_its_last_save(client, executive, owner, pipeline, rates,
                                                                      quarter):
    deal(pipeline, owner, "Proposal", "500.00", "CHF", closes=quarter.start, amount_base=Decimal("520.00"))
    assert get(client, executive, {"start": quarter.start}).context["dashboard"].open_total.amount == Decimal("520.00")


# --- Drill-down: the list shows exactly what the figure counts ----------------------------------------


@pytest.mark.parametrize("role", ["executive", "manager", "owner"])
def test_every_figure_links_to_a_list_of_exactly_its_deals(client, cast, pipeline, rates, quarter, role):
    generate(pipeline, [cast["owner"], cast["teammate"], cast["outsider"]], quarter)
    user = cast[role]
    response = get(client, user, {"period": "quarter", "start": quarter.start})
    found = links(response)
    assert len(found) >= 30 and sum(count for _url, count in found) > 0
    assert_lists_match(client, set(found))


def test_drill_down_keeps_the_filters_in_force(client, executive, owner, teammate, outsider, pipeline, rates,
                                               quarter, team):
    generate(pipeline, [owner, teammate, outsider], quarter)
    other = PipelineFactory(name="Renewals")
    deal(other, owner, "Proposal", "100.00", closes=quarter.start)
    response = get(client, executive, {"start": quarter.start, "team": team.pk, "owner": owner.pk,
                                       "pipeline": pipeline.pk})
    board = response.context["dashboard"]
    expected = Opportunity.objects.filter(owner=owner, pipeline=pipeline, stage__kind=StageKind.OPEN,
                                          expected_close_date__gte=quarter.start,
                                          expected_close_date__lt=quarter.end)
    assert board.open_total.count == expected.count()
    listed = client.get(board.open_total.url)
    assert {row.pk for row in listed.context["page"].rows} == set(expected.values_list("pk", flat=True))
    for name in ("team", "owner", "pipeline"):
        assert f"{name}=" in board.open_total.url


def test_a_click_on_a_territory_includes_its_sub_regions(client, executive, owner, pipeline, rates, quarter):
    from accounts.tests.factories import AccountFactory
    from crm.models import Territory

    europe = Territory.objects.create(name="Европа")
    germany = Territory.objects.create(name="Германия", parent=europe)
    inside = deal(pipeline, owner, "Proposal", "100.00", closes=quarter.start,
                  account=AccountFactory(owner=owner, territory=germany))
    deal(pipeline, owner, "Proposal", "200.00", closes=quarter.start)
    board = get(client, executive, {"start": quarter.start, "territory": europe.pk}).context["dashboard"]
    assert board.open_total.count == 1 and board.open_total.amount == Decimal("100.00")
    assert [row.pk for row in client.get(board.open_total.url).context["page"].rows] == [inside.pk]


# --- Visibility ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["support_agent", "marketer"])
def test_roles_without_deals_get_404(client, cast, role):
    assert get(client, cast[role]).status_code == 404


def test_each_role_counts_only_what_it_sees(client, cast, pipeline, rates, quarter):
    amounts = {"owner": "100.00", "teammate": "20.00", "outsider": "3.00"}
    for person, amount in amounts.items():
        deal(pipeline, cast[person], "Proposal", amount, closes=quarter.start)
        deal(pipeline, cast[person], "Won", amount, closed_at=at(quarter.start))
    expected = {"executive": "123.00", "admin": "123.00", "manager": "120.00", "owner": "100.00",
                "outsider": "3.00"}
    for role, total in expected.items():
        board = get(client, cast[role], {"start": quarter.start}).context["dashboard"]
        assert board.open_total.amount == Decimal(total), role
        assert board.current.won.amount == Decimal(total), role


def test_a_forged_team_is_refused_and_changes_nothing(client, manager, owner, outsider, other_team, pipeline, rates,
                                                      quarter):
    deal(pipeline, owner, "Proposal", "100.00", closes=quarter.start)
    deal(pipeline, outsider, "Proposal", "7777.00", closes=quarter.start)
    response = get(client, manager, {"start": quarter.start, "team": other_team.pk})
    content = response.content.decode()
    assert "You cannot see this team&#x27;s deals." in content
    assert response.context["dashboard"].open_total.amount == Decimal("100.00")
    assert "7,777.00" not in content and "team=" not in response.context["dashboard"].open_total.url


def test_bad_period_input_gets_a_message_and_the_default_period(client, executive):
    response = get(client, executive, {"start": "1899-01-01", "period": "decade"})
    content = response.content.decode()
    assert response.status_code == 200
    assert "Choose a date between 2000 and 2100." in content
    assert "Select a valid choice." in content
    assert response.context["period"] == Period.containing("quarter", timezone.localdate())
    assert get(client, executive, {"start": "not a date"}).status_code == 200


# --- Targets ------------------------------------------------------------------------------------------


def test_won_against_the_teams_targets(client, executive, manager, owner, outsider, team, other_team, pipeline,
                                       rates, quarter):
    deal(pipeline, owner, "Won", "3000.00", closed_at=at(quarter.start))
    SalesTarget.objects.create(team=team, period=TargetPeriod.QUARTER, period_start=quarter.start,
                               amount=Decimal("10000"))
    for month in quarter.month_starts():  # the other team set monthly targets only
        SalesTarget.objects.create(team=other_team, period=TargetPeriod.MONTH, period_start=month,
                                   amount=Decimal("1000"))
    SalesTarget.objects.create(user=owner, period=TargetPeriod.QUARTER, period_start=quarter.start,
                               amount=Decimal("6000"))

    board = get(client, executive, {"start": quarter.start}).context["dashboard"]
    assert board.current.target == Decimal("13000") and board.current.attainment == Decimal("23.1")
    assert get(client, manager, {"start": quarter.start}).context["dashboard"].current.target == Decimal("10000")
    mine = get(client, owner, {"start": quarter.start}).context["dashboard"].current
    assert mine.target == Decimal("6000") and mine.attainment == Decimal("50.0")
    year = get(client, executive, {"start": quarter.start, "period": "year"}).context["dashboard"].current
    assert year.target == Decimal("13000")
    month = get(client, executive, {"start": quarter.start, "period": "month"}).context["dashboard"].current
    assert month.target == Decimal("1000")  # a quarter's target is not split into months
    filtered = get(client, executive, {"start": quarter.start, "pipeline": pipeline.pk}).context["dashboard"]
    assert filtered.current.target is None and "clear the pipeline and territory filters" in filtered.target_note


def test_previous_period_comparison(client, executive, owner, pipeline, rates, quarter):
    deal(pipeline, owner, "Won", "300.00", closed_at=at(quarter.start))
    deal(pipeline, owner, "Won", "100.00", closed_at=at(quarter.previous().start))
    board = get(client, executive, {"start": quarter.start}).context["dashboard"]
    assert board.previous.period == quarter.previous()
    assert board.changes["won"].delta == Decimal("200.00") and board.changes["won"].percent == Decimal("200")
    assert board.changes["won"].direction == "up"


# --- Language and speed ---------------------------------------------------------------------------------


def test_numbers_and_dates_in_the_readers_language(client, executive, owner, pipeline, rates, quarter):
    executive.language = "ru"
    executive.save(update_fields=["language"])
    deal(pipeline, owner, "Proposal", "1234567.50", closes=quarter.start)
    content = get(client, executive, {"start": quarter.start}).content.decode()
    assert "1\xa0234\xa0567,50" in content
    assert "Сводка по воронке продаж" in content and "Открытая воронка по этапам" in content
    assert "1 RUB = 0,0105 EUR" in content


def test_a_constant_number_of_queries(client, executive, owner, outsider, pipeline, rates, quarter):
    deal(pipeline, owner, "Proposal", "100.00", closes=quarter.start)
    client.force_login(executive)
    url = reverse("reports") + f"?start={quarter.start}&territory="
    client.get(url)  # the first request of a session does a few things once
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    generate(pipeline, [owner, outsider], quarter, count=50)
    TeamFactory.create_batch(3)
    client.get(url)  # new teams: the cached team list (crm/lookups.py) is read again, once
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(one) == len(many) <= 15
