"""What sales sees of the desk (issue 10: "a sales rep sees the tickets of the customers they own"): the
tickets of its accounts, and of its private customers (contacts without a company), in the list, on the
ticket page, in search, on the contact page, in the API and on the work orders; another rep's customers
never; and a rep's list offers the views a rep needs, not the agent's."""

import pytest
from django.urls import reverse

from accounts.tests.factories import AccountFactory
from contacts.tests.factories import ContactFactory
from crm.tests.api_helpers import api_for
from service import field_services, services
from service.models import Status, Ticket, WorkOrder, small_book_hint
from service.tests.factories import QueueFactory, agent


@pytest.fixture
def book(db, owner, teammate, outsider, manager):
    """A rep with a tiny book among other reps' customers."""
    worker = agent(email="desk-agent@example.com")
    QueueFactory(is_default=True).members.set([worker])
    mine = AccountFactory(owner=owner, name="ООО «Вектор»")
    private = ContactFactory(owner=owner, account=None, first_name="Инна", last_name="Частная",
                             emails=["inna@mail.ru"])
    shared = AccountFactory(owner=teammate, name="АО «Общий»", shared_with_team=True)
    theirs = AccountFactory(owner=outsider, name="ПАО «Чужое»")
    their_private = ContactFactory(owner=outsider, account=None, first_name="Олег", last_name="Чужой")
    # My contact who works at another rep's account: the customer is that account, not mine.
    mine_at_theirs = ContactFactory(owner=owner, account=theirs, first_name="Пётр", last_name="Перешедший")

    def ticket(subject, **fields):
        return services.ticket_create(actor=worker, subject=subject, **fields)

    return {
        "agent": worker,
        "visible": [ticket("Вектор: принтер", account=mine), ticket("Инна: возврат", contact=private),
                    ticket("Общий: доступ", account=shared)],
        "hidden": [ticket("Чужое: счёт", account=theirs), ticket("Олег: доставка", contact=their_private),
                   ticket("Пётр: пароль", contact=mine_at_theirs)],
        "private": private,
    }


def _subjects(page: str, tickets) -> set[str]:
    return {ticket.subject for ticket in tickets if ticket.subject in page}


def test_a_rep_sees_the_tickets_of_the_customers_they_own_and_no_other(client, book, owner):
    assert set(Ticket.objects.visible_to(owner)) == set(book["visible"])
    client.force_login(owner)
    page = client.get(reverse("service:ticket_list")).content.decode()
    assert _subjects(page, book["visible"]) == {t.subject for t in book["visible"]}
    assert _subjects(page, book["hidden"]) == set()
    for ticket in book["visible"]:
        assert client.get(ticket.get_absolute_url()).status_code == 200
    for ticket in book["hidden"]:
        assert client.get(ticket.get_absolute_url()).status_code == 404
    found = client.get(reverse("search"), {"q": "Инна"}).content.decode()
    assert book["visible"][1].number in found
    assert "Олег: доставка" not in client.get(reverse("search"), {"q": "Олег"}).content.decode()
    # The private customer's page shows her ticket in its panel.
    assert "Инна: возврат" in client.get(book["private"].get_absolute_url()).content.decode()


def test_the_api_and_visits_follow_the_same_rule(book, owner):
    api = api_for(owner)
    ids = {row["id"] for row in api.get("/api/tickets/").json()["results"]}
    assert ids == {ticket.pk for ticket in book["visible"]}
    for ticket in book["hidden"]:
        assert api.get(f"/api/tickets/{ticket.pk}/").status_code == 404
    visit = field_services.work_order_create(ticket=book["visible"][1], actor=book["agent"])
    hidden_visit = field_services.work_order_create(ticket=book["hidden"][1], actor=book["agent"])
    assert visit.contact_id == book["private"].pk and visit.account_id is None
    assert set(WorkOrder.objects.visible_to(owner)) == {visit}
    assert visit.visible_through(owner) and not hidden_visit.visible_through(owner)
    assert book["visible"][1].visible_through(owner) and not book["hidden"][1].visible_through(owner)


def test_a_manager_reads_the_team_customers_and_an_outsider_only_theirs(book, manager, outsider):
    assert set(Ticket.objects.visible_to(manager)) == set(book["visible"])  # the team's book, private ones too
    assert {t.subject for t in Ticket.objects.visible_to(outsider)} == {"Чужое: счёт", "Олег: доставка",
                                                                         "Пётр: пароль"}


def test_a_reps_list_offers_the_views_a_rep_needs(client, book, owner):
    from service.filters import TicketFilter

    assert TicketFilter.base_filters["view"].field  # built once on the class (as the API schema does)
    resolved = book["visible"][0]
    services.ticket_set_status(ticket=resolved, actor=book["agent"], status=Status.RESOLVED)
    client.force_login(owner)
    page = client.get(reverse("service:ticket_list")).content.decode()
    assert "My customers&#x27; open tickets" in page or "My customers' open tickets" in page
    assert "Unassigned" not in page and "My open tickets" not in page
    assert "Close the resolved ones" not in page and "Assign to" not in page  # read-only: no bulk writes
    mine = client.get(reverse("service:ticket_list"), {"view": "mine"}).content.decode()
    # Open tickets of the customers the rep owns: not the resolved one, not the teammate's shared account.
    assert _subjects(mine, book["visible"]) == {"Инна: возврат"}
    everything = client.get(reverse("service:ticket_list"), {"view": "all"}).content.decode()
    assert _subjects(everything, book["visible"]) == {t.subject for t in book["visible"]}
    # An agent's "mine" is still the tickets assigned to them.
    client.force_login(book["agent"])
    page = client.get(reverse("service:ticket_list")).content.decode()
    assert "My open tickets" in page and "Close the resolved ones" in page


@pytest.mark.parametrize("extra", [0, 49])
def test_a_reps_list_costs_the_same_with_more_rows(client, book, owner, extra, django_assert_max_num_queries):
    for n in range(extra):
        services.ticket_create(actor=book["agent"], subject=f"Инна {n}", contact=book["private"])
    client.force_login(owner)
    client.get(reverse("service:ticket_list"))  # the session's first request renews it
    with django_assert_max_num_queries(14):
        assert client.get(reverse("service:ticket_list")).status_code == 200
    with django_assert_max_num_queries(14):
        assert client.get(reverse("service:ticket_list"), {"view": "mine"}).status_code == 200



@pytest.mark.parametrize("small_book", [0, 1, 300])
def test_the_small_book_hint_names_exactly_the_visible_tickets(client, book, owner, manager, monkeypatch,
                                                                small_book):
    """The ticket list adds the customers' ids beside the subqueries for a small book (SMALL_BOOK); either
    way, the same tickets, for a rep and for a manager."""
    monkeypatch.setattr("service.models.SMALL_BOOK", small_book)
    for user in (owner, manager):
        hint = small_book_hint(user)
        assert (hint is None) == (small_book < 2)  # two accounts (own and shared), two contacts
        if hint is not None:
            assert set(Ticket.objects.filter(hint)) == set(book["visible"])
    client.force_login(owner)
    page = client.get(reverse("service:ticket_list"), {"view": "all"}).content.decode()
    assert _subjects(page, book["visible"] + book["hidden"]) == {t.subject for t in book["visible"]}
    assert small_book_hint(book["agent"]) is None  # the desk reads every ticket: no hint
