"""Where the answers show: the ticket page, the agent's work page, the support lead's list of low ratings
and complaints; who sees them, and what each costs in queries."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import AccountFactory
from contacts.tests.factories import ContactFactory
from crm.models import Role
from crm.tests.factories import UserFactory
from portal import panels as portal_panels
from portal import services as portal_services
from portal.models import Survey
from sales.tests.factories import ProductFactory
from service import services
from service.models import Category, Status
from service.tests.factories import QueueFactory, agent


def rated(desk, rating, *, subject="Заявка", who=None, queue=None, product=None, account=None, comment=""):
    ticket = services.ticket_create(actor=desk["agent"], subject=subject, contact=desk["contact"],
                                    owner=who or desk["agent"], queue=queue or desk["queue"], product=product,
                                    account=account or desk["account"])
    services.ticket_set_status(ticket=ticket, actor=desk["agent"], status=Status.RESOLVED)
    survey = Survey.objects.get(ticket=ticket)
    portal_services.survey_answer(survey=survey, rating=rating, comment=comment)
    return ticket


def test_the_rating_shows_on_the_ticket_page(client, desk):
    ticket = rated(desk, 2, comment="Долго ждали")
    client.force_login(desk["agent"])
    page = client.get(ticket.get_absolute_url()).content.decode()
    assert 'id="ticket-surveys"' in page and "2/5" in page and "Долго ждали" in page


def test_sales_does_not_see_the_survey_panel(client, desk, owner):
    ticket = rated(desk, 5)
    client.force_login(owner)  # reads the ticket of their customer, not the desk's figures
    page = client.get(ticket.get_absolute_url())
    assert page.status_code == 200 and 'id="ticket-surveys"' not in page.content.decode()


def test_the_desk_figures_are_the_agents_and_each_queues_in_one_query(desk, django_assert_num_queries):
    other_agent = agent(email="other@example.com")
    second = QueueFactory(name="Вторая линия")
    rated(desk, 5)
    rated(desk, 3)
    rated(desk, 1, who=other_agent, queue=second)
    old = rated(desk, 1)
    Survey.objects.filter(ticket=old).update(answered_at=timezone.now() - timedelta(days=31))
    with django_assert_num_queries(1):
        figures = portal_panels.desk_figures(desk["agent"])
    assert figures["my_answers"] == 2 and figures["my_average"] == 4
    by_queue = {row["queue__name"]: (row["average"], row["answers"]) for row in figures["queues"]}
    assert by_queue == {"Первая линия": (4, 2), "Вторая линия": (1, 1)}


def test_the_desk_page_shows_the_satisfaction_panel(client, desk):
    rated(desk, 4)
    client.force_login(desk["agent"])
    page = client.get(reverse("service:home")).content.decode()
    assert 'id="desk-satisfaction"' in page and "Первая линия" in page and "4.0" in page


@pytest.fixture
def complaints(desk):
    printer = ProductFactory(name="Принтер Лазер-3000")
    other = AccountFactory(name="ТОВ «Світанок»")
    rated(desk, 1, subject="Плохо", product=printer, comment="Ужасно")
    rated(desk, 2, subject="Так себе", product=printer)
    rated(desk, 5, subject="Отлично", product=printer)
    services.ticket_create(actor=desk["agent"], subject="Жалоба на курьера", category=Category.COMPLAINT,
                           contact=ContactFactory(account=other), owner=desk["agent"])
    services.ticket_create(actor=desk["agent"], subject="Жалоба на принтер", category=Category.COMPLAINT,
                           contact=desk["contact"], product=printer, owner=desk["agent"])
    return printer


def test_the_lead_sees_low_ratings_and_complaints_grouped(client, desk, complaints):
    client.force_login(desk["lead"])
    page = client.get(reverse("portal_staff:feedback") + "?group=product").content.decode()
    assert "Принтер Лазер-3000" in page and "Ужасно" in page and "Жалоба на курьера" in page
    response = client.get(reverse("portal_staff:feedback") + "?group=product")
    rows = {row["label"]: (row["low"], row["complaints"]) for row in response.context["rows"]}
    assert rows == {"Принтер Лазер-3000": (2, 1), None: (0, 1)}
    totals = response.context["totals"]
    assert (totals["answers"], totals["low"], totals["complaints"]) == (3, 2, 2)
    rows = {row["label"]: (row["low"], row["complaints"])
            for row in client.get(reverse("portal_staff:feedback") + "?group=account").context["rows"]}
    assert rows == {"ООО «Вектор»": (2, 1), "ТОВ «Світанок»": (0, 1)}
    rows = {str(row["label"]): (row["low"], row["complaints"])
            for row in client.get(reverse("portal_staff:feedback") + "?group=category").context["rows"]}
    assert rows == {"Question": (2, 0), "Complaint": (0, 2)}


def test_bad_filters_fall_back_to_the_defaults(client, desk, complaints):
    client.force_login(desk["lead"])
    response = client.get(reverse("portal_staff:feedback") + "?group=password&days=-1")
    assert response.status_code == 200 and response.context["group"] == "product" and response.context["days"] == 30


def test_sales_and_marketing_do_not_reach_the_feedback_list(client, desk, owner, marketer):
    for user in (owner, marketer):
        client.force_login(user)
        assert client.get(reverse("portal_staff:feedback")).status_code in (403, 404)


@pytest.mark.parametrize("rows", [1, 20])
def test_the_feedback_list_costs_constant_queries(client, desk, rows, django_assert_max_num_queries):
    for n in range(rows):
        rated(desk, 1, subject=f"Плохо {n}", product=ProductFactory(), account=AccountFactory())
        services.ticket_create(actor=desk["agent"], subject=f"Жалоба {n}", category=Category.COMPLAINT,
                               contact=desk["contact"], owner=desk["agent"])
    lead = UserFactory(email="lead2@example.com", role=Role.SUPPORT_LEAD)
    client.force_login(lead)
    for group in ("product", "category", "account"):
        with django_assert_max_num_queries(14):
            assert client.get(reverse("portal_staff:feedback") + f"?group={group}").status_code == 200


def test_a_ticket_never_resolved_costs_the_panel_no_query(client, desk, django_assert_num_queries, rf):
    request = rf.get("/")
    request.user = desk["agent"]
    with django_assert_num_queries(0):
        assert portal_panels.ticket_surveys(request, desk["ticket"], {}) is None
