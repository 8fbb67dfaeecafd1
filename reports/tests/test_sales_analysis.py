"""Sales analysis (/reports/analysis/): each breakdown against an independent computation, every link
lists exactly the deals it counts, territories roll up their sub-regions, visibility per role, and a
constant number of queries per breakdown."""

import re
from decimal import ROUND_HALF_UP, Decimal
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from crm.models import Territory
from reports.analysis import DIMENSIONS
from reports.pipeline import Period
from reports.tests.data import INDUSTRIES, at, deal, generate
from sales.models import CurrencyRate, LostReason, StageKind
from sales.tests.factories import PipelineFactory

RATES = {"USD": Decimal("0.92"), "RUB": Decimal("0.0105")}
LINK = re.compile(r'href="([^"]+)" data-count="(\d+)"')


@pytest.fixture
def setting(db):
    for currency, rate in RATES.items():
        CurrencyRate.objects.create(currency=currency, rate=rate)
    europe = Territory.objects.create(name="Europe")
    germany = Territory.objects.create(name="Germany", parent=europe)
    bavaria = Territory.objects.create(name="Бавария", parent=germany)
    russia = Territory.objects.create(name="Россия")
    return {"pipeline": PipelineFactory(name="Новые продажи"),
            "quarter": Period.containing("quarter", timezone.localdate()),
            "territories": {"europe": europe, "germany": germany, "bavaria": bavaria, "russia": russia}}


@pytest.fixture
def deals(setting, owner, teammate, outsider):
    return generate(setting["pipeline"], [owner, teammate, outsider], setting["quarter"], count=80,
                    territories=list(setting["territories"].values()), industries=INDUSTRIES)


def get(client, user, **params):
    client.force_login(user)
    return client.get(reverse("reports_analysis"), params)


def money(value) -> Decimal:
    return Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def in_eur(opportunity) -> Decimal:
    return opportunity.amount * RATES.get(opportunity.currency, Decimal(1))


def won_in(deals, period):
    first, after = period.bounds()
    return [d for d in deals if d.stage.kind == StageKind.WON and first <= d.closed_at < after]


def test_by_owner_equals_an_independent_computation(client, executive, owner, teammate, outsider, setting, deals):
    quarter = setting["quarter"]
    result = get(client, executive, by="owner", start=quarter.start).context["breakdown"]
    rows = {row.key: row for row in result.rows}
    first, after = quarter.bounds()
    for person in (owner, teammate, outsider):
        mine = [d for d in deals if d.owner_id == person.pk]
        won = won_in(mine, quarter)
        lost = [d for d in mine if d.stage.kind == StageKind.LOST and first <= d.closed_at < after]
        open_ = [d for d in mine
                 if d.stage.kind == StageKind.OPEN and quarter.start <= d.expected_close_date < quarter.end]
        row = rows[person.pk]
        assert row.label == str(person)
        assert (row.won_count, row.lost_count, row.open_count) == (len(won), len(lost), len(open_))
        assert row.won_amount == money(sum(in_eur(d) for d in won))
        assert row.open_amount == money(sum(in_eur(d) for d in open_))
        assert row.previous_won == money(sum(in_eur(d) for d in won_in(mine, quarter.previous())))
    assert result.total.won_count == len(won_in(deals, quarter)) > 0


def test_territories_roll_up_their_sub_regions(client, executive, setting, deals):
    quarter, places = setting["quarter"], setting["territories"]
    rows = {row.key: row for row in get(client, executive, by="territory", start=quarter.start)
            .context["breakdown"].rows}
    won = won_in(deals, quarter)
    subtree = {places["europe"].pk, places["germany"].pk, places["bavaria"].pk}
    in_europe = [d for d in won if d.account.territory_id in subtree]
    assert rows[places["europe"].pk].won_count == len(in_europe) > 0
    assert rows[places["europe"].pk].won_amount == money(sum(in_eur(d) for d in in_europe))
    assert rows[places["europe"].pk].depth == 0 and rows[places["bavaria"].pk].depth == 2
    assert rows[None].label == "No territory"
    assert rows[None].won_count == len([d for d in won if d.account.territory_id is None])


def test_industries_ignore_case(client, executive, setting, deals):
    quarter = setting["quarter"]
    rows = {row.key: row for row in get(client, executive, by="industry", start=quarter.start)
            .context["breakdown"].rows}
    won = won_in(deals, quarter)
    assert rows["manufacturing"].won_count == len([d for d in won if d.account.industry.lower() == "manufacturing"])
    assert rows[""].label == "No industry" and not rows[""].links


def test_lost_reasons_equal_an_independent_computation(client, executive, setting, deals):
    quarter = setting["quarter"]
    reasons = {row.key: row for row in get(client, executive, start=quarter.start).context["reasons"]}
    first, after = quarter.bounds()
    lost = [d for d in deals if d.stage.kind == StageKind.LOST and first <= d.closed_at < after]
    for key in [*LostReason.values, ""]:
        mine = [d for d in lost if d.lost_reason == key]
        if key == "" and not mine:
            assert "" not in reasons
            continue
        assert reasons[key].count == len(mine)
        assert reasons[key].amount == money(sum(in_eur(d) for d in mine))
    assert sum(row.count for row in reasons.values()) == len(lost) > 0


@pytest.mark.parametrize("by", list(DIMENSIONS))
@pytest.mark.parametrize("role", ["executive", "manager", "owner"])
def test_every_link_lists_exactly_the_counted_deals(client, cast, setting, deals, by, role):
    response = get(client, cast[role], by=by, start=setting["quarter"].start)
    found = {(unescape(url), int(count)) for url, count in LINK.findall(response.content.decode())}
    assert len(found) >= 10
    for url, count in found:
        listed = client.get(url)
        assert not listed.context["filter"].form.errors, url
        assert listed.context["page"].total == count, url


def test_a_manager_sees_only_the_team(client, manager, owner, teammate, outsider, setting, deals):
    rows = get(client, manager, by="owner", start=setting["quarter"].start).context["breakdown"].rows
    assert {row.key for row in rows} <= {owner.pk, teammate.pk}
    rows = get(client, owner, by="team", start=setting["quarter"].start).context["breakdown"].rows
    assert len(rows) == 1 and rows[0].won_count == len([d for d in won_in(deals, setting["quarter"])
                                                        if d.owner_id == owner.pk])


@pytest.mark.parametrize("role", ["support_agent", "marketer"])
def test_roles_without_deals_get_404(client, cast, role):
    assert get(client, cast[role]).status_code == 404


def test_an_unknown_breakdown_falls_back(client, executive, manager, setting):
    assert get(client, executive, by="salary").context["breakdown"].dimension == "team"
    assert get(client, manager, by="").context["breakdown"].dimension == "owner"


@pytest.mark.parametrize("by", list(DIMENSIONS))
def test_a_constant_number_of_queries(client, executive, owner, outsider, setting, by):
    quarter, pipeline = setting["quarter"], setting["pipeline"]
    deal(pipeline, owner, "Won", "10.00", closed_at=at(quarter.start))
    client.force_login(executive)
    url = reverse("reports_analysis") + f"?by={by}&start={quarter.start}"
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    generate(pipeline, [owner, outsider], quarter, count=40, territories=list(setting["territories"].values()),
             industries=INDUSTRIES)
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(one) == len(many) <= 22
