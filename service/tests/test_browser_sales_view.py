"""A sales rep with a tiny book looks at the desk as a person would, in the system Chromium: their company
customer's and their private customer's tickets, the rep's own view, and another rep's ticket out of
reach by URL; the list in Russian on a phone."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from accounts.tests.factories import AccountFactory
from conftest import sign_in
from contacts.tests.factories import ContactFactory
from service import services
from service.models import Status
from service.tests.factories import QueueFactory, agent

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]


def test_a_rep_reads_the_tickets_of_their_customers(page, owner, outsider, tmp_path):
    worker = agent(email="desk@example.com")
    QueueFactory(is_default=True).members.set([worker])
    company = AccountFactory(owner=owner, name="ООО «Вектор»")
    private = ContactFactory(owner=owner, account=None, first_name="Инна", last_name="Частная")
    theirs = AccountFactory(owner=outsider, name="ПАО «Чужое»")
    services.ticket_create(actor=worker, subject="Не печатает принтер", account=company)
    solved = services.ticket_create(actor=worker, subject="Вернуть предоплату", contact=private)
    services.ticket_set_status(ticket=solved, actor=worker, status=Status.RESOLVED)
    hidden = services.ticket_create(actor=worker, subject="Счёт за ноябрь", account=theirs)

    sign_in(page, owner)
    page.locator("#service-menu").click()
    page.get_by_role("link", name="Tickets").click()
    table = page.locator("#ticket-table")
    expect(table).to_contain_text("Не печатает принтер")
    expect(table).not_to_contain_text("Вернуть предоплату")  # resolved: not among the open ones
    expect(table).not_to_contain_text("Счёт за ноябрь")
    page.locator("#views-menu").click()
    expect(page.locator("#saved-views")).not_to_contain_text("Unassigned")
    page.get_by_role("link", name="My customers' open tickets").click()
    expect(table).to_contain_text("Не печатает принтер")
    page.goto(reverse("service:ticket_list") + "?view=all")
    expect(table).to_contain_text("Вернуть предоплату")  # the private customer's ticket
    expect(table).to_contain_text("Инна Частная")
    page.get_by_role("link", name=solved.number).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Вернуть предоплату")
    response = page.goto(hidden.get_absolute_url())
    assert response.status == 404

    owner.language = "ru"
    owner.save(update_fields=["language"])
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(reverse("service:ticket_list") + "?view=all")
    expect(page.locator("#ticket-table, .list-cards").first).to_contain_text("Вернуть предоплату")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=str(tmp_path / "rep-tickets-ru-375.png"), full_page=True)
