"""Ticket imports through the imports app: a Windows-1251 CSV or an XLSX, mapping from Russian headers,
matching accounts and contacts through the importer's visibility, dry run, per-row errors and undo."""

import csv
import io
from datetime import date

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.tests.factories import AccountFactory
from contacts.tests.factories import ContactFactory
from crm.models import CustomField, CustomFieldKind, Role
from crm.tests.factories import UserFactory
from imports import services
from imports.models import ImportJob, ImportRow, ImportStatus
from service import services as ticket_services
from service.models import Priority, Status, Ticket
from service.tests.factories import PolicyFactory, QueueFactory, agent

pytestmark = [pytest.mark.django_db]

HEADER = ["Тема", "Описание", "Клиент", "Эл. почта", "Приоритет", "Статус", "Дата создания", "Исполнитель",
          "Категория", "Серийный номер", "Внешний id"]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def desk(db, owner):
    queue = QueueFactory(name="Первая линия", is_default=True)
    complaints = QueueFactory(name="Жалобы", categories=["complaint"])
    PolicyFactory(calendar__around_the_clock=True)
    worker = agent(email="worker@example.com", first_name="Анна")
    account = AccountFactory(owner=owner, name="ООО «Вектор»", tax_number="7701234567")
    contact = ContactFactory(owner=owner, account=account, last_name="Смирнов", emails=["petr@vector.ru"])
    CustomField.objects.create(target="service.ticket", key="serial", label="Серийный номер",
                               kind=CustomFieldKind.TEXT)
    return {"agent": worker, "queue": queue, "complaints": complaints, "account": account, "contact": contact}


def csv_upload(rows, header=HEADER, encoding="cp1251"):
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=";").writerows([header, *rows])
    return SimpleUploadedFile("tickets.csv", buffer.getvalue().encode(encoding))


def run(user, upload, policy="skip"):
    job = services.job_create(user=user, target="service.ticket", upload=upload)
    job.duplicate_policy = policy
    job.save()
    services.job_start(job=job)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.QUEUED)
    services.job_run(job_id=job.pk)
    job.refresh_from_db()
    return job


def test_russian_headers_map_themselves(desk):
    job = services.job_create(user=desk["agent"], target="service.ticket",
                              upload=csv_upload([["Не печатает", "", "", "", "", "", "", "", "", "", ""]]))
    assert job.encoding == "cp1251"
    assert job.mapping == {"0": "subject", "1": "description", "2": "account_name", "3": "contact_email",
                           "4": "priority", "5": "status", "6": "opened", "7": "assignee_email", "8": "category",
                           "9": "custom:serial", "10": "external_id"}


def test_a_cp1251_file_opens_routed_numbered_tickets_with_their_sla(desk):
    job = run(desk["agent"], csv_upload([
        ["Не печатает принтер", "Лоток 2", "ООО «Вектор»", "petr@vector.ru", "Высокий", "", "01.12.2026",
         "worker@example.com", "", "SN-1", "HD-1"],
        ["Жалоба на курьера", "", "", "petr@vector.ru", "low", "", "", "", "Жалоба", "", "HD-2"],
        ["Старая заявка", "", "", "", "", "closed", "02.11.2026", "", "", "", "HD-3"],
        ["Решённая", "", "", "", "", "Решена", "", "", "", "", "HD-4"],
    ]))
    assert (job.created, job.failed) == (4, 0), list(ImportRow.objects.values_list("reason", flat=True))
    printer, complaint, old, solved = Ticket.objects.order_by("number")
    assert printer.number.startswith("T-2026-") and printer.number < complaint.number < old.number
    assert (printer.account, printer.contact, printer.owner) == (desk["account"], desk["contact"], desk["agent"])
    assert printer.priority == Priority.HIGH and printer.status == Status.OPEN
    assert printer.created_at.date() == date(2026, 12, 1) and printer.custom == {"serial": "SN-1"}
    assert printer.sla_policy is None or printer.resolution_due is not None  # the policy's clock runs
    assert printer.queue == desk["queue"]
    # A complaint goes to the queue that takes complaints; the contact brings the account.
    assert complaint.queue == desk["complaints"] and complaint.account == desk["account"]
    assert complaint.status == Status.NEW and complaint.owner is None
    # A closed ticket from the old desk keeps no clock.
    assert old.status == Status.CLOSED and old.closed_at and old.sla_policy is None and old.sla_next_at is None
    assert "Старая" in Ticket.objects.get(pk=old.pk).search_text
    assert solved.status == Status.RESOLVED and solved.resolved_at and solved.closed_at is None


def test_an_xlsx_file_imports_too(desk):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Subject", "Account", "Priority", "Opened"])
    sheet.append(["Scanner is dead", "ООО «Вектор»", "urgent", date(2026, 11, 30)])
    data = io.BytesIO()
    book.save(data)
    job = run(desk["agent"], SimpleUploadedFile("tickets.xlsx", data.getvalue()))
    assert job.created == 1
    ticket = Ticket.objects.get()
    assert ticket.priority == Priority.URGENT and ticket.account == desk["account"]


def test_the_preview_writes_nothing_and_takes_no_number(desk):
    job = services.job_create(user=desk["agent"], target="service.ticket", upload=csv_upload([
        ["Тест", "", "ООО «Вектор»", "", "", "", "", "", "", "", ""],
        ["", "", "Нет такой", "nobody@x.ru", "очень", "", "31.02.2026", "", "", "", ""],
    ]))
    specs, outcomes = services.job_preview(job=job)
    assert outcomes[0].action == "created"
    reason = outcomes[1].reason
    assert "Subject is required" in reason or "Тема" in reason or "required" in reason
    assert "not one of the choices" in reason and "not a date" in reason
    assert Ticket.objects.count() == 0
    ticket = ticket_services.ticket_create(actor=desk["agent"], subject="Первый после предпросмотра")
    assert ticket.number.endswith("000001")


def test_row_errors_are_clear_and_the_rest_imports(desk):
    AccountFactory(owner=desk["account"].owner, name="Двойник")
    AccountFactory(owner=desk["account"].owner, name="Двойник")
    job = run(desk["agent"], csv_upload([
        ["Хорошая", "", "ООО «Вектор»", "", "", "", "", "", "", "", ""],
        ["Чужая", "", "Нет такой фирмы", "", "", "", "", "", "", "", ""],
        ["Двойник", "", "Двойник", "", "", "", "", "", "", "", ""],
        ["Не агент", "", "", "", "", "", "", "owner@example.com", "", "", ""],
        ["Нет контакта", "", "", "boss@nowhere.ru", "", "", "", "", "", "", ""],
        ["Свой контакт", "", "ООО «Вектор»", "petr@vector.ru", "", "", "", "", "", "", ""],
        ["Решена без статуса", "", "", "", "", "", "", "", "", "", ""],
    ]))
    reasons = dict(ImportRow.objects.filter(job=job).values_list("row_number", "reason"))
    assert job.created == 3 and job.failed == 4, reasons
    assert "No account you can see is named “Нет такой фирмы”" in reasons[2]
    assert "Several accounts are named “Двойник”: link by tax number" in reasons[3]
    assert "“owner@example.com” is not an active support agent" in reasons[4]
    assert "No contact you can see has the e-mail “boss@nowhere.ru”" in reasons[5]
    assert set(Ticket.objects.values_list("subject", flat=True)) == {"Хорошая", "Свой контакт", "Решена без статуса"}


def test_a_contact_of_another_account_is_refused(desk, owner):
    other = AccountFactory(owner=owner, name="Другая")
    job = run(desk["agent"], csv_upload([["Не та фирма", "", "Другая", "petr@vector.ru", "", "", "", "", "", "", ""]]))
    assert job.failed == 1 and other.pk
    assert "petr@vector.ru works for another account" in ImportRow.objects.get(job=job).reason


def test_a_sales_rep_cannot_import_tickets(client, owner):
    client.force_login(owner)
    page = client.get(reverse("imports:upload")).content.decode()
    assert "service.ticket" not in page


def test_update_by_number_or_external_id_and_undo(desk):
    first = run(desk["agent"], csv_upload([["Старая тема", "", "", "", "", "", "", "", "", "A", "HD-9"]]))
    ticket = Ticket.objects.get()
    assert first.created == 1
    header = ["Номер", "Тема", "Серийный номер", "Приоритет"]
    second = run(desk["agent"], csv_upload([[ticket.number, "Новая тема", "B", "Срочный"]], header=header),
                 policy="update")
    ticket.refresh_from_db()
    assert second.updated == 1
    assert ticket.subject == "Новая тема" and ticket.custom == {"serial": "B"}
    assert ticket.priority == Priority.NORMAL  # priority changes on the ticket page, where the SLA follows
    assert ticket.search_text.endswith("Новая тема")
    unknown = run(desk["agent"], csv_upload([["T-2026-999999", "x", "", ""]], header=header), policy="update")
    assert unknown.failed == 1 and "No ticket you may change is numbered" in ImportRow.objects.get(job=unknown).reason

    report = services.job_undo(job=second, actor=desk["agent"])
    ticket.refresh_from_db()
    assert report["restored"] == 1 and ticket.subject == "Старая тема" and ticket.custom == {"serial": "A"}
    assert ticket.search_text.endswith("Старая тема")
    # The first import's ticket was changed since (by the second import and its undo): it stays, and says so.
    report = services.job_undo(job=first, actor=desk["agent"])
    assert report["not_undone"] == 1 and "changed" in report["problems"][0]["reason"]
    assert Ticket.objects.get(pk=ticket.pk).deleted_at is None


def test_undo_removes_the_tickets_an_import_opened(desk):
    job = run(desk["agent"], csv_upload([["Раз", "", "", "", "", "", "", "", "", "", ""],
                                         ["Два", "", "", "", "", "", "", "", "", "", ""]]))
    report = services.job_undo(job=job, actor=desk["agent"])
    assert report["deleted"] == 2
    assert not Ticket.objects.visible_to(desk["agent"]).exists()


def test_the_support_lead_sees_the_import_pages(client, desk):
    lead = UserFactory(role=Role.SUPPORT_LEAD)
    client.force_login(lead)
    page = client.get(reverse("imports:upload")).content.decode()
    assert "service.ticket" in page
