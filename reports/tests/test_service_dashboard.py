"""The service dashboard (/reports/service/): tickets opened, solved, in backlog, SLA kept, reopened and the
average times by channel, category and queue against an independent computation; every link lists exactly the
tickets its figure counts; visibility per role; bad input; the reader's language; a constant number of queries."""

import datetime
import random
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import AccountFactory
from reports.pipeline import Period
from reports.tests.data import at
from reports.tests.drill_down import assert_lists_match, figure_links
from service.models import Category, Channel, Status, Ticket
from service.tests.factories import QueueFactory


@pytest.fixture
def quarter():
    return Period.containing("quarter", timezone.localdate())


@pytest.fixture
def world(db, owner, outsider, quarter):
    generator = random.Random(9)
    queues = [QueueFactory(name="Первая линия"), QueueFactory(name="Second line"), None]
    accounts = [AccountFactory(owner=owner), AccountFactory(owner=outsider)]
    first = quarter.previous().start
    span = (quarter.end - first).days
    for number in range(70):
        opened = at(first + datetime.timedelta(days=generator.randrange(span)), generator.randrange(24))
        solved = generator.random() < 0.6
        resolved = opened + datetime.timedelta(hours=generator.randrange(1, 400)) if solved else None
        if resolved and resolved > timezone.now():
            resolved = None
        Ticket.objects.create(
            number=f"T-{number:04d}", subject=f"Не работает {number}", account=generator.choice(accounts),
            channel=generator.choice(Channel.values), category=generator.choice(Category.values),
            queue=generator.choice(queues), created_at=opened,
            status=Status.RESOLVED if resolved else generator.choice([Status.NEW, Status.OPEN, Status.PENDING]),
            resolved_at=resolved, resolution_minutes=generator.randrange(30, 3000) if resolved else None,
            first_response_minutes=generator.choice([None, generator.randrange(5, 600)]),
            sla_met=generator.choice([None, True, False]) if resolved else None,
            reopened_count=generator.choice([0, 0, 1]) if resolved else 0)


def links(response) -> list[tuple[str, int]]:
    return figure_links(response.content.decode())


@pytest.mark.django_db
@pytest.mark.parametrize("by", ["channel", "category", "queue"])
@pytest.mark.parametrize("who", ["executive", "support_lead", "manager"])
def test_every_link_lists_exactly_what_its_figure_counts(client, world, request, who, by):
    user = request.getfixturevalue(who) if who != "support_lead" else _support_lead()
    client.force_login(user)
    response = client.get(reverse("reports_service"), {"by": by})
    assert response.status_code == 200
    found = links(response)
    assert found
    assert_lists_match(client, found)


def _support_lead():
    from crm.models import Role
    from crm.tests.factories import UserFactory

    return UserFactory(role=Role.SUPPORT_LEAD)


@pytest.mark.django_db
def test_figures_match_an_independent_computation(client, world, executive, quarter):
    client.force_login(executive)
    response = client.get(reverse("reports_service"), {"by": "channel"})
    first, end = quarter.bounds()
    before, _end = quarter.previous().bounds()
    tickets = list(Ticket.objects.all())
    for row in response.context["rows"]:
        mine = [t for t in tickets if t.channel == row.key]
        solved = [t for t in mine if t.resolved_at and first <= t.resolved_at < end]
        assert row.opened == sum(1 for t in mine if first <= t.created_at < end)
        assert row.previous_opened == sum(1 for t in mine if before <= t.created_at < first)
        assert row.solved == len(solved)
        assert row.backlog == sum(1 for t in mine if t.status in ("new", "open", "pending", "on_hold"))
        with_sla = [t for t in solved if t.sla_met is not None]
        kept = sum(1 for t in with_sla if t.sla_met)
        assert row.sla_share == ((Decimal(kept * 100) / len(with_sla)).quantize(Decimal("0.1"), ROUND_HALF_UP)
                                 if with_sla else None)
        assert row.reopened == sum(1 for t in solved if t.reopened_count)
        times = [t.resolution_minutes for t in solved]
        assert row.resolution_hours == ((Decimal(sum(times)) / len(times) / 60).quantize(Decimal("0.1"),
                                                                                          ROUND_HALF_UP)
                                        if times else None)


@pytest.mark.django_db
def test_a_rep_sees_only_their_customers_tickets(client, world, owner):
    client.force_login(owner)
    total = client.get(reverse("reports_service")).context["total"]
    assert total.backlog == Ticket.objects.filter(account__owner=owner, status__in=["new", "open", "pending",
                                                                                     "on_hold"]).count()


@pytest.mark.django_db
def test_roles_that_read_no_tickets_get_404(client, marketer):
    client.force_login(marketer)
    assert client.get(reverse("reports_service")).status_code == 404


@pytest.mark.django_db
def test_bad_input_falls_back(client, world, executive, quarter):
    client.force_login(executive)
    response = client.get(reverse("reports_service"), {"by": "agent'; drop", "start": "99999-01-01"})
    assert response.status_code == 200 and response.context["dimension"] == "channel"
    assert response.context["period"] == quarter


@pytest.mark.django_db
def test_constant_number_of_queries(client, world, executive):
    client.force_login(executive)
    client.get(reverse("reports_service"), {"by": "queue"})
    with CaptureQueriesContext(connection) as small:
        client.get(reverse("reports_service"), {"by": "queue"})
    for number in range(20):
        Ticket.objects.create(number=f"X-{number}", subject="Ещё", queue=QueueFactory(name=f"Очередь {number}"))
    with CaptureQueriesContext(connection) as large:
        client.get(reverse("reports_service"), {"by": "queue"})
    assert len(large) == len(small) <= 15


@pytest.mark.django_db
def test_in_russian(client, world, executive):
    executive.language = "ru"
    executive.save(update_fields=["language"])
    client.force_login(executive)
    page = client.get(reverse("reports_service")).content.decode()
    assert "Соблюдён SLA" in page
