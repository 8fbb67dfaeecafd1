"""The support lead connects an IMAP mailbox as a person would, in the system Chromium, against the real IMAP
server on 127.0.0.1 (pymap): add it under Desk set-up, check the connection, read it now, and find the
customer's letter as a ticket; then the same page in Russian on a phone."""

import pytest
from playwright.sync_api import expect

from conftest import sign_in
from crm.models import Role
from crm.tests.factories import UserFactory
from service.models import Channel, ImapMailbox, Ticket
from service.tests.factories import QueueFactory
from service.tests.imap_server import PASSWORD, USER
from service.tests.test_inbound import letter

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]


def test_the_lead_connects_a_mailbox_and_a_letter_becomes_a_ticket(page, imap_server, tmp_path):
    lead = UserFactory(email="lead@example.com", first_name="Лидия", role=Role.SUPPORT_LEAD)
    QueueFactory(name="Первая линия", lead=lead, is_default=True)
    QueueFactory(name="Письма")
    imap_server.deliver(letter(sender="Ольга Петрова <olga@romashka.ru>", subject="Не печатает принтер",
                               message_id="<browser1@romashka.ru>"))
    sign_in(page, lead)
    page.locator("#service-menu").click()
    page.get_by_role("link", name="Desk set-up").click()
    page.get_by_role("link", name="IMAP mailboxes").click()
    page.locator("#setup-new").click()
    page.locator("#id_name").fill("Поддержка «Ромашки»")
    page.get_by_label("Server").fill("imap://127.0.0.1")
    page.get_by_label("Port").fill(str(imap_server.port))
    page.get_by_label("Encryption").select_option("starttls")
    page.get_by_label("User name").fill(USER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Move processed mail to").fill("Обработано")
    page.get_by_label("Queue for new tickets").select_option(label="Письма")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#setup-form")).to_contain_text("without a port or a scheme")  # refused, nothing saved
    assert not ImapMailbox.objects.exists()
    page.get_by_label("Server").fill("127.0.0.1")
    page.get_by_label("Password").fill(PASSWORD)  # a password is never sent back to the page
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#setup-table")).to_contain_text("Поддержка «Ромашки»")
    page.get_by_role("link", name="Поддержка «Ромашки»").click()
    page.get_by_role("button", name="Check the connection").click()
    expect(page.locator("#toasts")).to_contain_text("Connected. Messages in INBOX: 1.")
    page.get_by_role("button", name="Read it now").click()
    expect(page.locator("#inbound-table")).to_contain_text("olga@romashka.ru")
    expect(page.locator("#inbound-table")).to_contain_text("Opened a ticket")
    ticket = Ticket.objects.get()
    assert ticket.channel == Channel.EMAIL and ticket.queue.name == "Письма"
    page.locator("#inbound-table").get_by_role("link", name=ticket.number).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Не печатает принтер")
    assert imap_server.messages("INBOX") == {} and len(imap_server.messages("Обработано")) == 1

    # In Russian, on a phone: the set-up page fits the screen and says what went wrong, in Russian.
    lead.language = "ru"
    lead.save(update_fields=["language"])
    ImapMailbox.objects.update(password="неверный")
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(f"/service/setup/mailboxes/{ImapMailbox.objects.get().pk}/")
    page.get_by_role("button", name="Проверить соединение").click()
    expect(page.locator("#toasts")).to_contain_text("Сервер не принял имя пользователя или пароль.")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=str(tmp_path / "imap-mailbox-ru-375.png"), full_page=True)
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto("/service/setup/mailboxes/")
    expect(page.locator("#setup-table")).to_contain_text("Поддержка «Ромашки»")
    page.screenshot(path=str(tmp_path / "imap-mailboxes-ru-1366.png"), full_page=True)
    assert page.console_errors == []
