"""The desk's data driven as a person would, in the system Chromium: an admin adds a custom field to
tickets and an agent fills it, sees it on the ticket and filters the list by it; the support lead imports
a Windows-1251 file of tickets (mapping, preview, run, undo); an agent narrowed to their team's queues
sees only those tickets and cannot open another team's by its address."""

import csv
import io

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from accounts.tests.factories import AccountFactory
from conftest import sign_in
from contacts.tests.factories import ContactFactory
from crm.models import Role, Team
from crm.tests.factories import UserFactory
from imports.models import ImportJob, ImportStatus
from service import services
from service.models import Ticket
from service.tests.factories import PolicyFactory, QueueFactory, agent

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]


@pytest.fixture
def desk(db, owner):
    lead = UserFactory(email="lead@example.com", first_name="Лидия", role=Role.SUPPORT_LEAD)
    worker = agent(email="worker@example.com", first_name="Антон")
    queue = QueueFactory(name="Первая линия", lead=lead, is_default=True)
    queue.members.set([worker, lead])
    PolicyFactory(name="Normal 24×7", calendar__around_the_clock=True)
    account = AccountFactory(owner=owner, name="ООО «Вектор»")
    contact = ContactFactory(owner=owner, account=account, first_name="Пётр", last_name="Смирнов",
                             emails=["petr@vector.ru"])
    return {"lead": lead, "agent": worker, "queue": queue, "account": account, "contact": contact}


def test_an_admin_adds_a_ticket_field_an_agent_fills_shows_and_filters(page, desk):
    admin = UserFactory(email="admin@example.com", role=Role.ADMIN)
    sign_in(page, admin)
    page.goto(reverse("custom_field_list"))
    page.get_by_label("For").select_option(label="Tickets")
    page.locator("#id_label").fill("Модель устройства")
    page.get_by_label("Key").fill("device")
    page.get_by_label("Kind").select_option("choice")
    page.get_by_label("Choices").fill("Zebra DS2208\nHoneywell 1450g")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("link", name="Модель устройства")).to_be_visible()
    page.context.clear_cookies()

    services.ticket_create(actor=desk["agent"], subject="Другой сканер", custom={"device": "Honeywell 1450g"})
    sign_in(page, desk["agent"])
    page.goto("/service/tickets/new/")
    page.wait_for_load_state("load")
    page.get_by_label("Subject").fill("Сканер не читает коды")
    page.get_by_label("Модель устройства").select_option("Zebra DS2208")
    page.get_by_role("button", name="Open ticket").click()
    page.wait_for_load_state("load")
    expect(page.locator(".ticket-custom")).to_have_text("Zebra DS2208")
    ticket = Ticket.objects.get(subject="Сканер не читает коды")
    assert ticket.custom == {"device": "Zebra DS2208"}

    page.goto("/service/tickets/?cf_device=Zebra+DS2208")
    expect(page.get_by_role("link", name="Сканер не читает коды")).to_be_visible()
    expect(page.get_by_role("link", name="Другой сканер")).to_have_count(0)
    assert page.console_errors == [], page.failed_requests


def the_file() -> bytes:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=";").writerows([
        ["Тема", "Клиент", "Эл. почта", "Приоритет", "Дата создания"],
        ["Не печатает принтер", "ООО «Вектор»", "petr@vector.ru", "Высокий", "01.12.2026"],
        ["Нет такой фирмы", "ООО «Рога и копыта»", "", "", ""],
        ["Сломался сканер", "", "petr@vector.ru", "Срочный", ""],
    ])
    return buffer.getvalue().encode("cp1251")


def test_the_support_lead_imports_tickets_and_undoes_the_import(page, desk, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    sign_in(page, desk["lead"])
    page.goto("/imports/new/")
    page.get_by_label("Import into").select_option(label="Tickets")
    page.get_by_label("CSV or XLSX file").set_input_files(
        {"name": "заявки.csv", "mimeType": "text/csv", "buffer": the_file()})
    page.get_by_role("button", name="Upload and map columns").click()

    expect(page.get_by_role("heading", name="Map columns")).to_be_visible()
    expect(page.get_by_label("Тема")).to_have_value("subject")
    expect(page.get_by_label("Клиент")).to_have_value("account_name")
    expect(page.get_by_label("Эл. почта")).to_have_value("contact_email")
    page.get_by_role("button", name="Preview").click()

    expect(page.get_by_role("heading", name="Preview")).to_be_visible()
    rows = page.locator("#preview-table tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(1)).to_contain_text("No account you can see is named “ООО «Рога и копыта»”")
    assert Ticket.objects.count() == 0

    page.get_by_role("button", name="Import 3 rows").click()
    expect(page.locator("#import-status")).to_have_text("Done")
    expect(page.locator("#count-created")).to_have_text("2")
    expect(page.locator("#count-failed")).to_have_text("1")
    printer = Ticket.objects.get(subject="Не печатает принтер")
    assert printer.contact == desk["contact"] and printer.number.startswith("T-2026-")

    page.goto("/service/tickets/?q=принтер")
    expect(page.get_by_role("link", name="Не печатает принтер")).to_be_visible()

    job = ImportJob.objects.get()
    page.goto(f"/imports/{job.pk}/")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Undo this import").click()
    expect(page.locator("#import-status")).to_have_text("Undone")
    job.refresh_from_db()
    assert job.status == ImportStatus.UNDONE
    assert not Ticket.objects.filter(deleted_at__isnull=True).exists()
    assert page.console_errors == [], page.failed_requests


def test_an_agent_narrowed_to_the_teams_queues_sees_only_those(page, desk, settings):
    settings.SERVICE_AGENTS_SEE = "team-queues"
    north = Team.objects.create(name="Север")
    worker = desk["agent"]
    worker.team = north
    worker.save(update_fields=["team"])
    desk["queue"].teams.set([north])
    south_queue = QueueFactory(name="Юг")
    ours = services.ticket_create(actor=desk["lead"], subject="Наша заявка", queue=desk["queue"])
    theirs = services.ticket_create(actor=desk["lead"], subject="Чужая заявка", queue=south_queue)

    sign_in(page, worker)
    page.goto("/service/tickets/")
    expect(page.get_by_role("link", name="Наша заявка")).to_be_visible()
    expect(page.get_by_role("link", name="Чужая заявка")).to_have_count(0)
    response = page.goto(f"/service/tickets/{theirs.pk}/")
    assert response.status == 404
    expect(page.get_by_text("Чужая заявка")).to_have_count(0)
    page.goto(f"/service/tickets/{ours.pk}/")
    expect(page.get_by_role("heading", name="Наша заявка")).to_be_visible()
