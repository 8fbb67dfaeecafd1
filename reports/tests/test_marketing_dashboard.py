"""The marketing dashboard (/reports/marketing/): campaign cost, leads, deals, won revenue and ROI and the mailing
engagement against an independent computation on generated data, every link listing exactly what its figure
counts, visibility (CAMPAIGN_DATA; deals through their own policy), the period picker, bad input, the reader's
language and a constant number of queries."""

import datetime
import random
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from contacts.tests.factories import ContactFactory
from marketing.models import (
    CampaignCost,
    DealAttribution,
    Delivery,
    DeliveryStatus,
    LeadAttribution,
    Mailing,
    MailingStatus,
    StaticList,
)
from marketing.tests.factories import CampaignFactory
from reports import marketing_figures
from reports.pipeline import Period
from reports.tests.data import at, deal
from reports.tests.drill_down import assert_lists_match, figure_links
from sales.models import CurrencyRate, Lead, LeadStatus, Opportunity
from sales.tests.factories import LeadFactory, PipelineFactory

RUB = Decimal("0.0105")


def audience(marketer):
    return StaticList.objects.get_or_create(owner=marketer, team=marketer.team, name="Гости")[0]


@pytest.fixture
def quarter():
    return Period.containing("quarter", timezone.localdate())


@pytest.fixture
def world(db, owner, teammate, outsider, marketer, quarter):
    CurrencyRate.objects.create(currency="RUB", rate=RUB)
    pipeline = PipelineFactory(name="Продажи")
    generator = random.Random(12)
    first = quarter.previous().start
    span = (quarter.end - first).days
    campaigns = [
        CampaignFactory(owner=marketer, name=f"Кампания {n}", currency=currency)
        for n, currency in enumerate(["EUR", "RUB", "EUR", "GBP"])
    ]

    def day():
        return first + datetime.timedelta(days=generator.randrange(span))

    for campaign in campaigns:
        for number in range(4):
            CampaignCost.objects.create(
                campaign=campaign,
                description=f"Печать {number}",
                created_by=marketer,
                amount=Decimal(generator.randrange(100, 5000)) + Decimal("0.25"),
                incurred_on=day(),
            )
    for number in range(50):
        owner_of = generator.choice([owner, teammate, outsider, marketer])
        lead = LeadFactory(
            owner=owner_of,
            team=owner_of.team,
            last_name=f"Петров {number}",
            status=generator.choice([LeadStatus.NEW, LeadStatus.CONVERTED]),
        )
        Lead.objects.filter(pk=lead.pk).update(created_at=at(day(), generator.randrange(24)))
        if generator.random() < 0.8:
            LeadAttribution.objects.create(lead=lead, campaign=generator.choice(campaigns))
    for number in range(40):
        seller = generator.choice([owner, teammate, outsider])
        when = day()
        won = generator.random() < 0.5
        made = deal(
            pipeline,
            seller,
            "Won" if won else "Proposal",
            f"{generator.randrange(100, 90000)}.50",
            generator.choice(["EUR", "RUB"]),
            closed_at=at(when) if won else None,
            name=f"Сделка {number}",
        )
        Opportunity.objects.filter(pk=made.pk).update(created_at=at(when - datetime.timedelta(days=3)))
        if generator.random() < 0.8:
            DealAttribution.objects.create(opportunity=made, campaign=generator.choice(campaigns))
    contacts = ContactFactory.create_batch(12, owner=marketer)
    for number, campaign in enumerate(campaigns[:3]):
        for started in (at(day()), at(day())):
            mailing = Mailing.objects.create(
                owner=marketer,
                team=marketer.team,
                campaign=campaign,
                static_list=audience(marketer),
                subject=f"Письмо {number}",
                body="Текст",
                status=MailingStatus.SENT,
                started_at=started,
            )
            for contact in contacts:
                status = generator.choice([DeliveryStatus.SENT, DeliveryStatus.SENT, DeliveryStatus.FAILED])
                sent = status == DeliveryStatus.SENT
                bounce = generator.choice(["", "", "", "hard", "soft"]) if sent else ""
                opened = sent and not bounce and generator.random() < 0.6
                Delivery.objects.create(
                    mailing=mailing,
                    contact=contact,
                    email=f"c{contact.pk}@example.com",
                    status=status,
                    bounce=bounce,
                    sent_at=started if sent else None,
                    opened_at=started if opened else None,
                    clicked_at=started if opened and generator.random() < 0.5 else None,
                    unsubscribed_at=started if opened and generator.random() < 0.2 else None,
                )
    return campaigns


def links(response) -> list[tuple[str, int]]:
    return figure_links(response.content.decode())


def rate_of(currency):
    return {"EUR": Decimal(1), "RUB": RUB}.get(currency)


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["executive", "manager", "owner", "marketer"])
def test_every_link_lists_exactly_what_its_figure_counts(client, world, request, who):
    client.force_login(request.getfixturevalue(who))
    response = client.get(reverse("reports_marketing"))
    assert response.status_code == 200
    found = links(response)
    assert found
    assert_lists_match(client, found)


@pytest.mark.django_db
def test_each_mailing_row_matches_its_page(client, world, executive):
    client.force_login(executive)
    rows = client.get(reverse("reports_marketing")).context["dashboard"].mailings
    assert rows
    for row in rows:
        counts = client.get(row.url).context["counts"]
        assert (row.recipients, row.opened, row.clicked, row.unsubscribed) == (
            counts.recipients,
            counts.opened,
            counts.clicked,
            counts.unsubscribed,
        )
        assert row.bounced == counts.hard_bounces + counts.soft_bounces
        assert row.sent == counts.sent


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["executive", "manager", "marketer"])
def test_campaign_figures_match_an_independent_computation(client, world, request, who, quarter):
    reader = request.getfixturevalue(who)
    client.force_login(reader)
    result = client.get(reverse("reports_marketing")).context["dashboard"]
    first, end = quarter.bounds()
    readable = who != "marketer"
    deals = list(
        (Opportunity.objects.visible_to(reader) if readable else Opportunity.objects.all()).select_related(
            "stage", "attribution"
        )
    )
    leads = list(Lead.objects.visible_to(reader).select_related("attribution"))
    assert {row.campaign_id for row in result.campaigns} <= {campaign.pk for campaign in world}
    for row in result.campaigns:
        costs = CampaignCost.objects.filter(campaign_id=row.campaign_id).select_related("campaign")
        in_period = [c for c in costs if quarter.start <= c.incurred_on <= quarter.last_day]
        factor = rate_of(in_period[0].campaign.currency) if in_period else Decimal(1)
        if factor is None:
            assert row.cost == 0 and row.unconverted
        else:
            expected = sum((c.amount * factor for c in in_period), Decimal(0))
            assert abs(row.cost - expected) <= Decimal("0.01")
        mine = [
            lead
            for lead in leads
            if getattr(getattr(lead, "attribution", None), "campaign_id", None) == row.campaign_id
            and first <= lead.created_at < end
        ]
        assert row.leads == len(mine)
        assert row.converted == sum(1 for lead in mine if lead.status == LeadStatus.CONVERTED)
        ours = [d for d in deals if getattr(getattr(d, "attribution", None), "campaign_id", None) == row.campaign_id]
        assert row.deals == sum(1 for d in ours if first <= d.created_at < end)
        won = [d for d in ours if d.stage.kind == "won" and first <= d.closed_at < end]
        assert row.won == len(won)
        revenue = sum((d.amount * rate_of(d.currency) for d in won), Decimal(0))
        assert abs(row.won_amount - revenue.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)) <= Decimal("0.01")
        if row.cost:
            assert row.roi == ((row.won_amount - row.cost) / row.cost * 100).quantize(
                Decimal("0.1"), rounding=ROUND_HALF_UP
            )
    assert result.total.leads == sum(row.leads for row in result.campaigns)


@pytest.mark.django_db
def test_mailing_figures_match_plain_sql(client, world, executive, quarter):
    client.force_login(executive)
    result = client.get(reverse("reports_marketing")).context["dashboard"]
    first, end = quarter.bounds()
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT m.id, count(d.id), count(d.id) FILTER (WHERE d.status = 'sent'),
                      count(d.id) FILTER (WHERE d.status = 'sent' AND d.bounce <> ''),
                      count(d.opened_at), count(d.clicked_at), count(d.unsubscribed_at)
                 FROM marketing_mailing m JOIN marketing_delivery d ON d.mailing_id = m.id
                WHERE m.started_at >= %s AND m.started_at < %s GROUP BY m.id""",
            [first, end],
        )
        expected = {row[0]: row[1:] for row in cursor.fetchall()}
    got = {
        row.mailing_id: (row.recipients, row.sent, row.bounced, row.opened, row.clicked, row.unsubscribed)
        for row in result.mailings
    }
    assert got == expected and got
    total = result.mailing_total
    assert total.sent == sum(row[1] for row in expected.values())
    assert total.delivered == total.sent - total.bounced
    assert total.open_rate == (Decimal(total.opened) * 100 / total.delivered).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP
    )
    previous = result.previous_mailing_total
    before = quarter.previous().bounds()[0]
    assert (
        previous.recipients
        == Delivery.objects.filter(mailing__started_at__gte=before, mailing__started_at__lt=first).count()
    )


@pytest.mark.django_db
def test_build_is_a_function_of_user_and_period(world, executive, quarter):
    """What the e-mailed dashboards call: the same figures as the page, without a request."""
    result = marketing_figures.build(executive, quarter)
    assert result.total.leads == sum(row.leads for row in result.campaigns)
    assert result.mailings and result.period == quarter


@pytest.mark.django_db
def test_roles_that_read_no_campaigns_get_404(client, support_agent):
    client.force_login(support_agent)
    assert client.get(reverse("reports_marketing")).status_code == 404


@pytest.mark.django_db
def test_a_rep_counts_only_their_own_leads_and_deals(client, world, owner, quarter):
    client.force_login(owner)
    result = client.get(reverse("reports_marketing")).context["dashboard"]
    first, end = quarter.bounds()
    assert (
        result.total.leads
        == Lead.objects.filter(
            owner=owner, attribution__isnull=False, created_at__gte=first, created_at__lt=end
        ).count()
    )
    assert (
        result.total.deals
        == Opportunity.objects.filter(
            owner=owner, attribution__isnull=False, created_at__gte=first, created_at__lt=end
        ).count()
    )


@pytest.mark.django_db
def test_a_marketer_sees_campaign_revenue_without_deal_links(client, world, marketer):
    client.force_login(marketer)
    response = client.get(reverse("reports_marketing"))
    result = response.context["dashboard"]
    assert result.with_deal_links is False
    assert "/sales/opportunities/" not in response.content.decode()
    assert result.total.won_amount > 0


@pytest.mark.django_db
def test_the_period_picker_and_bad_input(client, world, executive, quarter):
    client.force_login(executive)
    previous = client.get(
        reverse("reports_marketing"), {"period": "quarter", "start": quarter.previous().start.isoformat()}
    )
    assert previous.context["period"] == quarter.previous()
    now = client.get(reverse("reports_marketing")).context["dashboard"]
    assert previous.context["dashboard"].total.leads == now.total.previous_leads
    assert previous.context["dashboard"].total.won_amount == now.total.previous_won_amount
    assert previous.context["dashboard"].mailing_total.sent == now.previous_mailing_total.sent
    bad = client.get(reverse("reports_marketing"), {"start": "1066-10-14", "period": "decade"})
    assert bad.status_code == 200 and 'id="dashboard-errors"' in bad.content.decode()
    assert bad.context["period"] == quarter


@pytest.mark.django_db
def test_constant_number_of_queries(client, world, executive, marketer):
    client.force_login(executive)
    client.get(reverse("reports_marketing"))
    with CaptureQueriesContext(connection) as small:
        client.get(reverse("reports_marketing"))
    campaign = CampaignFactory(owner=marketer)
    for number in range(10):
        LeadAttribution.objects.create(lead=LeadFactory(owner=marketer, last_name=f"Ещё {number}"), campaign=campaign)
        Mailing.objects.create(
            owner=marketer,
            team=marketer.team,
            campaign=campaign,
            static_list=audience(marketer),
            subject=f"Ещё {number}",
            body="Текст",
            status=MailingStatus.SENT,
            started_at=timezone.now(),
        )
    with CaptureQueriesContext(connection) as large:
        client.get(reverse("reports_marketing"))
    assert len(large) == len(small) <= 15


@pytest.mark.django_db
def test_in_russian(client, world, executive):
    executive.language = "ru"
    executive.save(update_fields=["language"])
    client.force_login(executive)
    page = client.get(reverse("reports_marketing")).content.decode()
    assert "Отклик на рассылки" in page
