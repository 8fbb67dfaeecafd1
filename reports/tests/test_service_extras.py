"""The service dashboard's satisfaction, complaints by product and account, contract coverage and contracts
about to end: each against an independent computation on generated data, every link listing exactly what its
figure counts, per role; the page's queries stay few."""

import datetime
import random
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import AccountFactory
from crm.models import Role
from crm.tests.factories import UserFactory
from portal.models import Survey
from reports.pipeline import Period
from reports.tests.data import at
from reports.tests.drill_down import assert_lists_match, figure_links
from sales.tests.factories import ProductFactory
from service.models import Category, Channel, Contract, Status, Ticket


@pytest.fixture
def quarter():
    return Period.containing("quarter", timezone.localdate())


@pytest.fixture
def world(db, owner, outsider, quarter):
    generator = random.Random(12)
    today = timezone.localdate()
    products = [ProductFactory(name="Принтер"), ProductFactory(name="Router"), None]
    accounts = [AccountFactory(owner=owner, name="ООО Ромашка"), AccountFactory(owner=outsider, name="Beta"),
                AccountFactory(owner=outsider, name="Gamma")]
    contracts = []
    for number, (account, starts, ends) in enumerate([
            (accounts[0], -300, 20), (accounts[1], -100, 45), (accounts[2], -10, 80), (accounts[0], -50, 200),
            (accounts[1], -400, -5), (accounts[2], 10, 300), (accounts[0], -30, 90), (accounts[1], -30, 30)]):
        contracts.append(Contract.objects.create(
            number=f"C-{number}", name=f"Поддержка {number}", account=account, owner=account.owner,
            starts_on=today + datetime.timedelta(days=starts), ends_on=today + datetime.timedelta(days=ends)))
    first = quarter.previous().start
    span = (quarter.end - first).days
    for number in range(90):
        opened = at(first + datetime.timedelta(days=generator.randrange(span)), generator.randrange(24))
        if opened > timezone.now():
            opened = timezone.now() - datetime.timedelta(hours=1)
        resolved = opened + datetime.timedelta(hours=generator.randrange(1, 300))
        solved = generator.random() < 0.7 and resolved < timezone.now()
        account = generator.choice(accounts)
        ticket = Ticket.objects.create(
            number=f"T-{number:04d}", subject=f"Жалоба {number}", account=account,
            channel=generator.choice(Channel.values), product=generator.choice(products),
            category=generator.choice([Category.COMPLAINT, Category.COMPLAINT, *Category.values]),
            contract=generator.choice([None, None, *[c for c in contracts if c.account_id == account.pk]]),
            created_at=opened, status=Status.RESOLVED if solved else Status.OPEN,
            resolved_at=resolved if solved else None)
        if solved and generator.random() < 0.8:
            answered = resolved + datetime.timedelta(hours=generator.randrange(1, 48))
            Survey.objects.create(ticket=ticket, resolved_at=resolved, rating=generator.randrange(1, 6),
                                  answered_at=min(answered, timezone.now()))


def links(response) -> list[tuple[str, int]]:
    return figure_links(response.content.decode())


def _lead():
    return UserFactory(role=Role.SUPPORT_LEAD)


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["executive", "support_lead", "manager", "owner"])
def test_every_new_link_lists_exactly_what_its_figure_counts(client, world, request, who):
    user = _lead() if who == "support_lead" else request.getfixturevalue(who)
    client.force_login(user)
    response = client.get(reverse("reports_service"))
    found = [(url, count) for url, count in links(response)
             if "category=complaint" in url or "covered=" in url or "/contracts/" in url]
    assert len(found) >= 8
    assert any(count for _url, count in found)
    assert_lists_match(client, found)


def _share(part, whole):
    return (Decimal(part) * 100 / whole).quantize(Decimal("0.1"), ROUND_HALF_UP) if whole else None


@pytest.mark.django_db
def test_figures_match_an_independent_computation(client, world, executive, quarter):
    client.force_login(executive)
    response = client.get(reverse("reports_service"))
    first, end = quarter.bounds()
    before, _end = quarter.previous().bounds()
    tickets = list(Ticket.objects.select_related("product", "account"))
    total, extras = response.context["total"], response.context["extras"]

    opened = [t for t in tickets if first <= t.created_at < end]
    opened_before = [t for t in tickets if before <= t.created_at < first]
    assert total.complaints == sum(1 for t in opened if t.category == "complaint")
    assert total.covered == sum(1 for t in opened if t.contract_id)
    assert total.coverage == _share(total.covered, len(opened))
    assert total.previous_coverage == _share(sum(1 for t in opened_before if t.contract_id), len(opened_before))

    for by, rows in (("product", extras.by_product), ("account", extras.by_account)):
        expected = {}
        for t in tickets:
            if t.category != "complaint":
                continue
            key = getattr(t, f"{by}_id")
            now, then = expected.get(key, (0, 0))
            expected[key] = (now + (first <= t.created_at < end), then + (before <= t.created_at < first))
        expected = {key: value for key, value in expected.items() if any(value)}
        assert {row.key: (row.count, row.previous) for row in rows} == expected
        assert [row.count for row in rows] == sorted((row.count for row in rows), reverse=True)

    answers = [s for s in Survey.objects.all() if s.answered_at and first <= s.answered_at < end]
    previous = [s for s in Survey.objects.all() if s.answered_at and before <= s.answered_at < first]
    csat = extras.satisfaction
    assert csat.answers == len(answers) > 0 and csat.previous_answers == len(previous)
    assert csat.average == (Decimal(sum(s.rating for s in answers)) / len(answers)).quantize(Decimal("0.01"),
                                                                                           ROUND_HALF_UP)
    assert csat.satisfied_share == _share(sum(1 for s in answers if s.rating >= 4), len(answers))

    today = timezone.localdate()
    live = [c for c in Contract.objects.all() if c.starts_on <= today <= c.ends_on]
    assert extras.contracts_in_force == len(live) == 6
    assert [(item.days, item.count) for item in extras.expiring] == [
        (days, sum(1 for c in live if (c.ends_on - today).days <= days)) for days in (30, 60, 90)]
    assert [item.count for item in extras.expiring] == [2, 3, 5]


@pytest.mark.django_db
def test_a_rep_sees_only_their_customers_complaints_and_contracts_and_no_satisfaction(client, world, owner):
    client.force_login(owner)
    response = client.get(reverse("reports_service"))
    extras = response.context["extras"]
    assert extras.satisfaction is None  # the survey answers are the desk's (portal.FEEDBACK_DATA)
    assert "figure-csat" not in response.content.decode()
    assert {row.key for row in extras.by_account} <= {Ticket.objects.filter(account__owner=owner)
                                                      .values_list("account_id", flat=True).first()}
    assert extras.contracts_in_force == Contract.objects.filter(owner=owner).in_force(timezone.localdate()).count()


@pytest.mark.django_db
def test_the_desk_sees_satisfaction(client, world):
    client.force_login(_lead())
    page = client.get(reverse("reports_service")).content.decode()
    assert 'id="figure-csat"' in page


@pytest.mark.django_db
def test_few_queries_whatever_the_numbers(client, world, executive):
    client.force_login(executive)
    client.get(reverse("reports_service"))
    with CaptureQueriesContext(connection) as small:
        client.get(reverse("reports_service"))
    account = AccountFactory(owner=executive)
    for number in range(15):
        product = ProductFactory()
        Ticket.objects.create(number=f"X-{number}", subject="Ещё", category=Category.COMPLAINT, product=product,
                              account=account)
    with CaptureQueriesContext(connection) as large:
        client.get(reverse("reports_service"))
    assert len(large) == len(small) <= 15
