"""The lead-source dashboard (/reports/sources/): leads, first-contact efficiency, deals created and won per
source against an independent computation, every link listing exactly what its figure counts, visibility
(a rep their own, a marketer every lead and no deals), bad input, the reader's language and a constant number
of queries."""

import datetime
import random
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from reports.pipeline import Period
from reports.tests.data import at, deal
from reports.tests.drill_down import assert_lists_match, figure_links
from sales.models import CurrencyRate, Lead, LeadStatus, Opportunity
from sales.tests.factories import LeadFactory, PipelineFactory

SOURCES = ["web", "referral", "event", "partner", ""]


@pytest.fixture
def quarter():
    return Period.containing("quarter", timezone.localdate())


@pytest.fixture
def world(db, owner, teammate, outsider, marketer, quarter):
    CurrencyRate.objects.create(currency="RUB", rate=Decimal("0.0105"))
    pipeline = PipelineFactory(name="Продажи")
    generator = random.Random(5)
    first = quarter.previous().start
    span = (quarter.end - first).days
    for number in range(60):
        owner_of = generator.choice([owner, teammate, outsider, marketer])
        day = first + datetime.timedelta(days=generator.randrange(span))
        lead = LeadFactory(owner=owner_of, team=owner_of.team, source=generator.choice(SOURCES),
                           last_name=f"Иванов {number}",
                           status=generator.choice([LeadStatus.NEW, LeadStatus.CONVERTED, LeadStatus.DISQUALIFIED]))
        Lead.objects.filter(pk=lead.pk).update(created_at=at(day, generator.randrange(24)))
    for number in range(40):
        seller = generator.choice([owner, teammate, outsider])
        day = first + datetime.timedelta(days=generator.randrange(span))
        won = generator.random() < 0.5
        made = deal(pipeline, seller, "Won" if won else "Proposal", f"{generator.randrange(100, 90000)}.50",
                    generator.choice(["EUR", "RUB"]), closed_at=at(day) if won else None,
                    lead_source=generator.choice(SOURCES), name=f"Сделка {number}")
        Opportunity.objects.filter(pk=made.pk).update(created_at=at(day - datetime.timedelta(days=3)))


def links(response) -> list[tuple[str, int]]:
    return figure_links(response.content.decode())


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["executive", "manager", "owner", "marketer"])
def test_every_link_lists_exactly_what_its_figure_counts(client, world, request, who):
    client.force_login(request.getfixturevalue(who))
    response = client.get(reverse("reports_sources"))
    assert response.status_code == 200
    found = links(response)
    assert found
    assert_lists_match(client, found)


@pytest.mark.django_db
def test_figures_match_an_independent_computation(client, world, manager, quarter):
    client.force_login(manager)
    result = client.get(reverse("reports_sources")).context["sources"]
    first, end = quarter.bounds()
    leads = [lead for lead in Lead.objects.visible_to(manager) if first <= lead.created_at < end]
    deals = list(Opportunity.objects.visible_to(manager).select_related("stage"))
    for row in result.rows:
        mine = [lead for lead in leads if lead.source == row.key]
        assert row.leads == len(mine)
        assert row.converted == sum(1 for lead in mine if lead.status == LeadStatus.CONVERTED)
        assert row.deals == sum(1 for d in deals if d.lead_source == row.key and first <= d.created_at < end)
        won = [d for d in deals if d.lead_source == row.key and d.stage.kind == "won" and first <= d.closed_at < end]
        assert row.won == len(won)
        expected = sum((d.amount * (Decimal("0.0105") if d.currency == "RUB" else 1) for d in won), Decimal(0))
        assert abs(row.won_amount - expected.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)) <= Decimal("0.01")
    total = result.total
    assert total.leads == len(leads)
    assert total.efficiency == (Decimal(total.converted * 100) / total.leads).quantize(Decimal("0.1"),
                                                                                      rounding=ROUND_HALF_UP)


@pytest.mark.django_db
def test_a_marketer_sees_every_lead_and_no_deal_figures(client, world, marketer):
    client.force_login(marketer)
    response = client.get(reverse("reports_sources"))
    assert response.context["sources"].with_deals is False
    page = response.content.decode()
    assert "Deals won" not in page and "/sales/opportunities/" not in page
    assert response.context["sources"].total.previous_leads + response.context["sources"].total.leads \
        == Lead.objects.count()


@pytest.mark.django_db
def test_roles_that_read_no_leads_get_404(client, support_agent):
    client.force_login(support_agent)
    assert client.get(reverse("reports_sources")).status_code == 404


@pytest.mark.django_db
def test_the_period_picker_and_bad_input(client, world, executive, quarter):
    client.force_login(executive)
    previous = client.get(reverse("reports_sources"), {"period": "quarter",
                                                       "start": quarter.previous().start.isoformat()})
    assert previous.context["period"] == quarter.previous()
    now = client.get(reverse("reports_sources")).context["sources"].total
    assert previous.context["sources"].total.leads == now.previous_leads
    bad = client.get(reverse("reports_sources"), {"start": "1066-10-14", "period": "decade"})
    assert bad.status_code == 200 and 'id="dashboard-errors"' in bad.content.decode()
    assert bad.context["period"] == quarter


@pytest.mark.django_db
def test_constant_number_of_queries(client, world, executive, owner):
    client.force_login(executive)
    client.get(reverse("reports_sources"))
    with CaptureQueriesContext(connection) as small:
        client.get(reverse("reports_sources"))
    LeadFactory.create_batch(30, owner=owner, source="web")
    with CaptureQueriesContext(connection) as large:
        client.get(reverse("reports_sources"))
    assert len(large) == len(small) <= 15


@pytest.mark.django_db
def test_in_russian(client, world, executive):
    executive.language = "ru"
    executive.save(update_fields=["language"])
    client.force_login(executive)
    page = client.get(reverse("reports_sources")).content.decode()
    assert "Эффективность первого контакта" in page
