"""The forecast's numbers and the targets service."""

import datetime
import zoneinfo
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accounts.tests.factories import AccountFactory
from sales import forecast_services as fs
from sales.models import CurrencyRate, ForecastCategory, SalesTarget, TargetPeriod
from sales.services import opportunity_create
from sales.tests.factories import OpportunityFactory, PipelineFactory, stage

UTC = datetime.UTC
MARCH = fs.Period(TargetPeriod.MONTH, datetime.date(2026, 3, 1))
Q1 = fs.Period(TargetPeriod.QUARTER, datetime.date(2026, 1, 1))


def at(*args, tz=UTC):
    return datetime.datetime(*args, tzinfo=tz)


@pytest.fixture
def pipeline(db):
    return PipelineFactory()


def won(pipeline, owner, amount, closed_at, **extra):
    return OpportunityFactory(owner=owner, pipeline=pipeline, stage=stage(pipeline, "Won"), amount=Decimal(amount),
                              closed_at=closed_at, expected_close_date=closed_at.date(), probability=100, **extra)


def open_deal(pipeline, owner, amount, closes, category=ForecastCategory.PIPELINE, stage_name="Proposal", **extra):
    return OpportunityFactory(owner=owner, pipeline=pipeline, stage=stage(pipeline, stage_name),
                              amount=Decimal(amount), expected_close_date=closes, forecast_category=category, **extra)


@pytest.fixture
def deals(pipeline, owner, teammate, outsider):
    CurrencyRate.objects.create(currency="USD", rate=Decimal("0.9"))
    usd = opportunity_create(actor=owner, name="Dollar deal", account=AccountFactory(owner=owner), pipeline=pipeline,
                             stage=stage(pipeline, "Qualification"), amount=Decimal("100.00"), currency="USD",
                             expected_close_date=datetime.date(2026, 3, 15))
    return {
        "won_march": won(pipeline, owner, "1000.00", at(2026, 3, 10, 12)),
        "won_february": won(pipeline, owner, "300.00", at(2026, 2, 28, 23, 30)),
        "won_april": won(pipeline, owner, "700.00", at(2026, 4, 1, 0, 0)),
        "commit": open_deal(pipeline, owner, "2000.00", datetime.date(2026, 3, 31), ForecastCategory.COMMIT),
        "best_case": open_deal(pipeline, teammate, "4000.00", datetime.date(2026, 3, 1), ForecastCategory.BEST_CASE,
                               stage_name="Negotiation"),
        "usd_pipeline": usd,
        "omitted": open_deal(pipeline, owner, "5000.00", datetime.date(2026, 3, 20), ForecastCategory.OMITTED),
        "april": open_deal(pipeline, owner, "800.00", datetime.date(2026, 4, 1), ForecastCategory.COMMIT),
        "lost": OpportunityFactory(owner=owner, pipeline=pipeline, stage=stage(pipeline, "Lost"), lost_reason="price",
                                   closed_at=at(2026, 3, 5), expected_close_date=datetime.date(2026, 3, 5)),
        "deleted": open_deal(pipeline, owner, "900.00", datetime.date(2026, 3, 3), ForecastCategory.COMMIT,
                             deleted_at=timezone.now()),
        "outsider": open_deal(pipeline, outsider, "50.00", datetime.date(2026, 3, 3), ForecastCategory.COMMIT),
    }


def row_of(result, key):
    return next(row for row in result.rows if row.key == key)


def test_month_figures_per_owner(deals, owner, teammate, manager):
    result = fs.forecast(user=manager, period=MARCH)
    mine = row_of(result, owner.pk)
    assert mine.won == Decimal("1000.00") and mine.won_count == 1  # by closed_at: not February's, not April's
    assert mine.commit == Decimal("2000.00") and mine.commit_count == 1  # the 31st is in; April and deleted are out
    assert mine.best_case == 0
    assert mine.pipeline == Decimal("90.00")  # 100 USD at 0.9: amount_base
    assert mine.open_count == 2  # the omitted one counts nowhere
    assert mine.weighted == Decimal("1009.00")  # 2000 × 50 % + 90 × 10 %
    other = row_of(result, teammate.pk)
    assert other.best_case == Decimal("4000.00") and other.weighted == Decimal("3000.00")
    assert result.total.commit == Decimal("2000.00")  # the outsider's deal is not the manager's to see
    assert result.total.best_case == Decimal("4000.00")
    assert result.total.won == Decimal("1000.00")


def test_quarter_figures_and_boundaries(deals, owner, manager):
    mine = row_of(fs.forecast(user=manager, period=Q1), owner.pk)
    assert mine.won == Decimal("1300.00")  # January to March by closed_at; April 1st 00:00 is the next quarter
    assert mine.commit == Decimal("2000.00")
    q2 = row_of(fs.forecast(user=manager, period=Q1.next()), owner.pk)
    assert q2.won == Decimal("700.00") and q2.commit == Decimal("800.00")


def test_period_follows_the_users_time_zone(deals, owner, manager):
    # 28 Feb 23:30 UTC is 1 March 00:30 in Berlin: a Berlin manager counts it in March.
    with timezone.override(zoneinfo.ZoneInfo("Europe/Berlin")):
        mine = row_of(fs.forecast(user=manager, period=MARCH), owner.pk)
    assert mine.won == Decimal("1300.00")


def test_executive_sees_every_owner_and_team_grouping(deals, executive, owner, outsider, team, other_team):
    result = fs.forecast(user=executive, period=MARCH)
    assert row_of(result, outsider.pk).commit == Decimal("50.00")
    by_team = fs.forecast(user=executive, period=MARCH, group_by=fs.TEAM)
    assert row_of(by_team, team.pk).commit == Decimal("2000.00")
    assert row_of(by_team, team.pk).best_case == Decimal("4000.00")
    assert row_of(by_team, other_team.pk).commit == Decimal("50.00")
    assert by_team.total.commit == Decimal("2050.00")


def test_rep_sees_only_own_row(deals, owner, teammate):
    result = fs.forecast(user=owner, period=MARCH, group_by=fs.TEAM)
    assert result.group_by == fs.OWNER
    assert [row.key for row in result.rows] == [owner.pk]
    assert result.total.best_case == 0


def test_filters_by_pipeline_and_team(deals, executive, owner, team, other_team):
    other = PipelineFactory()
    open_deal(other, owner, "123.00", datetime.date(2026, 3, 9), ForecastCategory.COMMIT)
    assert row_of(fs.forecast(user=executive, period=MARCH, pipeline=other), owner.pk).commit == Decimal("123.00")
    by_team = fs.forecast(user=executive, period=MARCH, team=other_team)
    assert owner.pk not in [row.key for row in by_team.rows]
    assert by_team.total.commit == Decimal("50.00")


def test_attainment_and_targets(deals, owner, manager, team):
    fs.target_set(actor=manager, user=owner, period=TargetPeriod.MONTH, period_start=datetime.date(2026, 3, 1),
                  amount=Decimal("4000"))
    mine = row_of(fs.forecast(user=manager, period=MARCH), owner.pk)
    assert mine.target == Decimal("4000") and mine.attainment == Decimal("25.0")
    assert mine.bar_value == 25
    # A quarter without its own target adds up its months' targets.
    fs.target_set(actor=manager, user=owner, period=TargetPeriod.MONTH, period_start=datetime.date(2026, 1, 1),
                  amount=Decimal("1000"), deal_count=2)
    quarter = row_of(fs.forecast(user=manager, period=Q1), owner.pk)
    assert quarter.target == Decimal("5000") and quarter.target_from_months and quarter.target_deals == 2
    fs.target_set(actor=manager, user=owner, period=TargetPeriod.QUARTER, period_start=datetime.date(2026, 2, 14),
                  amount=Decimal("2600"))
    quarter = row_of(fs.forecast(user=manager, period=Q1), owner.pk)
    assert quarter.target == Decimal("2600") and not quarter.target_from_months
    assert quarter.attainment == Decimal("50.0")  # 1300 / 2600
    fs.target_set(actor=manager, team=team, period=TargetPeriod.MONTH, period_start=datetime.date(2026, 3, 5),
                  amount=Decimal("10000"))
    by_team = fs.forecast(user=manager, period=MARCH, group_by=fs.TEAM)
    assert row_of(by_team, team.pk).target == Decimal("10000")
    assert row_of(by_team, team.pk).attainment == Decimal("10.0")


def test_no_target_means_no_attainment(deals, owner, manager):
    assert row_of(fs.forecast(user=manager, period=MARCH), owner.pk).attainment is None


def test_drill_down_lists_the_deals_behind_a_figure(deals, owner, manager, outsider):
    commit = fs.forecast_deals(user=manager, period=MARCH, figure="commit", key=str(owner.pk))
    assert list(commit) == [deals["commit"]]
    everything = set(fs.forecast_deals(user=manager, period=MARCH, figure="all"))
    assert deals["outsider"] not in everything and deals["omitted"] not in everything
    assert {deals["won_march"], deals["commit"], deals["best_case"], deals["usd_pipeline"]} == everything
    assert list(fs.forecast_deals(user=owner, period=MARCH, figure="commit", key=str(outsider.pk))) == []


# --- Periods -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "day", "start", "end"), [
    ("month", datetime.date(2026, 3, 17), datetime.date(2026, 3, 1), datetime.date(2026, 4, 1)),
    ("month", datetime.date(2026, 12, 31), datetime.date(2026, 12, 1), datetime.date(2027, 1, 1)),
    ("quarter", datetime.date(2026, 3, 31), datetime.date(2026, 1, 1), datetime.date(2026, 4, 1)),
    ("quarter", datetime.date(2026, 11, 2), datetime.date(2026, 10, 1), datetime.date(2027, 1, 1)),
])
def test_period_bounds(kind, day, start, end):
    period = fs.Period.containing(kind, day)
    assert (period.start, period.end) == (start, end)
    assert period.next().previous() == period


def test_period_labels():
    assert fs.Period.containing("quarter", datetime.date(2026, 8, 1)).label == "Q3 2026"
    assert MARCH.label == "March 2026"
    assert MARCH.previous().start == datetime.date(2026, 2, 1)
    assert Q1.previous().start == datetime.date(2025, 10, 1)


# --- target_set ----------------------------------------------------------------------------------------


def test_target_set_normalises_and_updates_in_place(owner, manager):
    first = fs.target_set(actor=manager, user=owner, period=TargetPeriod.QUARTER,
                          period_start=datetime.date(2026, 5, 20), amount=Decimal("100"), deal_count=3)
    assert first.period_start == datetime.date(2026, 4, 1) and first.set_by == manager
    second = fs.target_set(actor=manager, user=owner, period=TargetPeriod.QUARTER,
                           period_start=datetime.date(2026, 6, 30), amount=Decimal("250.50"))
    assert second.pk == first.pk
    second.refresh_from_db()
    assert second.amount == Decimal("250.50") and second.deal_count is None
    month = fs.target_set(actor=manager, user=owner, period=TargetPeriod.MONTH,
                          period_start=datetime.date(2026, 5, 20), amount=Decimal("10"))
    assert month.period_start == datetime.date(2026, 5, 1)
    assert SalesTarget.objects.count() == 2
    fs.target_clear(actor=manager, user=owner, period=TargetPeriod.MONTH, period_start=datetime.date(2026, 5, 2))
    assert SalesTarget.objects.count() == 1


def test_target_set_refuses_bad_values(owner, manager):
    with pytest.raises(ValidationError):
        fs.target_set(actor=manager, user=owner, period=TargetPeriod.MONTH, period_start=datetime.date(2026, 5, 1),
                      amount=Decimal("-1"))
    with pytest.raises(ValidationError):
        fs.target_set(actor=manager, user=owner, period="year", period_start=datetime.date(2026, 5, 1),
                      amount=Decimal("1"))
    assert not SalesTarget.objects.exists()


@pytest.mark.parametrize(("actor", "subject", "allowed"), [
    ("admin", "outsider", True), ("admin", "other_team", True),
    ("manager", "owner", True), ("manager", "manager", True), ("manager", "team", True),
    ("manager", "outsider", False), ("manager", "other_team", False),
    ("owner", "owner", False), ("owner", "team", False),
    ("executive", "owner", False), ("support_agent", "owner", False), ("marketer", "team", False),
])
def test_who_may_set_a_target(cast, team, other_team, actor, subject, allowed):
    subjects = {**cast, "team": team, "other_team": other_team}
    target = subjects[subject]
    kwargs = {"team": target} if subject in ("team", "other_team") else {"user": target}
    call = lambda: fs.target_set(actor=cast[actor], period=TargetPeriod.MONTH,  # noqa: E731
                                 period_start=datetime.date(2026, 1, 1), amount=Decimal("5"), **kwargs)
    if allowed:
        assert call().amount == Decimal("5")
    else:
        with pytest.raises(PermissionDenied):
            call()
        assert not SalesTarget.objects.exists()
