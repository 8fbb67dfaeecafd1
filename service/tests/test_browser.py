"""The service desk driven as a person would, in the system Chromium: a call logged as a ticket from
the hotline, an SLA going at risk and being escalated (time controlled by the test), an answer
with a canned response that resolves the ticket, and the hotline on a phone."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from accounts.tests.factories import AccountFactory
from conftest import sign_in
from contacts.tests.factories import ContactFactory
from crm.models import Role
from crm.tests.factories import UserFactory
from service import services, sla_clock
from service.models import CannedResponse, EscalationEvent, EscalationRule, EscalationTarget, Status, Ticket
from service.tests.factories import PolicyFactory, QueueFactory, agent

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]


@pytest.fixture
def desk(db, owner):
    lead = UserFactory(email="lead@example.com", first_name="Лидия", role=Role.SUPPORT_LEAD)
    worker = agent(email="worker@example.com", first_name="Антон")
    queue = QueueFactory(name="Первая линия", lead=lead, is_default=True)
    queue.members.set([worker, lead])
    PolicyFactory(name="Normal 24×7", first_response_minutes=60, resolution_minutes=480,
                  calendar__around_the_clock=True)
    account = AccountFactory(owner=owner, name="ООО «Вектор»", is_vip=True)
    contact = ContactFactory(owner=owner, account=account, first_name="Пётр", last_name="Смирнов",
                             phones=["+79166383811"], emails=["petr@vector.ru"])
    return {"lead": lead, "agent": worker, "queue": queue, "account": account, "contact": contact}


def test_a_call_becomes_a_ticket_from_the_hotline(page, desk):
    sign_in(page, desk["agent"])
    page.locator("#service-menu").click()
    page.get_by_role("link", name="Hotline").click()
    page.get_by_label("Caller's phone number, in any format").fill("+7 916 638-38-11")
    page.keyboard.press("Enter")
    expect(page.locator("#caller-card")).to_contain_text("Пётр Смирнов")
    expect(page.locator("#caller-card")).to_contain_text("ООО «Вектор»")
    expect(page.locator("#priority-service")).to_be_visible()  # a VIP: served first
    page.get_by_label("What is it about?").fill("Не приходят счета")
    page.locator("#id_call_note").fill("Звонил бухгалтер, просит переслать счёт за ноябрь.")
    page.locator("#open-ticket").click()
    ticket = Ticket.objects.get(subject="Не приходят счета")
    expect(page.get_by_role("heading", level=1)).to_contain_text(ticket.number)
    expect(page.locator("#conversation")).to_contain_text("просит переслать счёт")
    expect(page.locator("#sla-card")).to_contain_text("left")
    assert ticket.channel == "phone" and ticket.owner == desk["agent"] and ticket.contact == desk["contact"]
    # The next call from the same number goes onto the open ticket.
    page.goto(reverse("service:hotline"))
    page.get_by_label("Caller's phone number, in any format").fill("+7 (916) 638 38 11")
    page.keyboard.press("Enter")
    page.locator("#call-note").fill("Перезвонил: счёт нашёлся в спаме.")
    page.locator("#add-call").click()
    expect(page.locator("#conversation")).to_contain_text("счёт нашёлся в спаме")
    assert page.console_errors == []


def test_an_sla_goes_at_risk_and_is_escalated(page, desk):
    EscalationRule.objects.create(event=EscalationEvent.BREACHED, notify=EscalationTarget.QUEUE_LEAD)
    opened = timezone.now() - timedelta(minutes=50)  # 80 % of the 60-minute first response has passed
    ticket = services.ticket_create(actor=desk["agent"], subject="Сервер не отвечает", contact=desk["contact"],
                                    owner=desk["agent"], now=opened)
    sla_clock.check_sla(timezone.now())
    sign_in(page, desk["agent"])
    expect(page.locator("#notification-bell")).to_contain_text("1")
    page.goto(reverse("service:home"))
    expect(page.locator("#urgent-tickets")).to_contain_text(ticket.number)
    expect(page.locator("#urgent-tickets")).to_contain_text("At risk")
    page.locator("#urgent-tickets").get_by_role("link", name=ticket.number).click()
    expect(page.locator("#sla-state")).to_have_text("SLA: At risk")
    expect(page.locator("#first-response-countdown")).to_contain_text("min left")

    sla_clock.check_sla(timezone.now() + timedelta(minutes=11))  # the clock runs out
    page.reload()
    expect(page.locator("#sla-state")).to_have_text("SLA: Breached")
    page.context.clear_cookies()
    sign_in(page, desk["lead"])
    page.goto(reverse("notifications"))
    expect(page.locator("main")).to_contain_text(f"SLA breached: {ticket.number}")


def test_answer_with_a_canned_response_and_resolve(page, desk):
    CannedResponse.objects.create(title="Уже решаем",
                                  body="Здравствуйте, {contact.first_name}! Заявка {ticket.number} в работе.")
    ticket = services.ticket_create(actor=desk["agent"], subject="Не печатает принтер", contact=desk["contact"],
                                    owner=desk["agent"])
    sign_in(page, desk["agent"])
    page.goto(ticket.get_absolute_url())
    page.get_by_label("Canned response").select_option(label="Уже решаем")
    expect(page.locator("#id_body")).to_have_value(f"Здравствуйте, Пётр! Заявка {ticket.number} в работе.")
    page.get_by_label("Then set the ticket to").select_option("resolved")
    page.locator("#send-reply").click()
    expect(page.locator("#ticket-status")).to_have_text("Resolved")
    expect(page.locator("#conversation")).to_contain_text("в работе")
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED and ticket.first_response_minutes is not None
    # The reply is e-mailed once (a module above the desk may send more, e.g. the portal's survey).
    assert [message.subject for message in mail.outbox].count(f"[{ticket.number}] Не печатает принтер") == 1


def test_the_hotline_fits_a_phone(page, desk):
    page.set_viewport_size({"width": 375, "height": 800})
    sign_in(page, desk["agent"])
    page.goto(reverse("service:hotline") + "?phone=%2B79166383811")
    expect(page.locator("#caller-card")).to_contain_text("Пётр Смирнов")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.goto(reverse("service:home"))
    assert page.evaluate("document.documentElement.scrollWidth") <= 375


def test_answer_with_a_suggested_article(page, desk):
    from service import kb_services
    from service.models import ArticleStatus

    article = kb_services.article_create(actor=desk["lead"], title="Счёт на оплату не пришёл на почту",
                                         body="Проверьте папку «Спам».", status=ArticleStatus.PUBLISHED)
    ticket = services.ticket_create(actor=desk["agent"], subject="Не пришёл счёт", contact=desk["contact"],
                                    owner=desk["agent"])
    sign_in(page, desk["agent"])
    page.goto(ticket.get_absolute_url())
    suggestions = page.locator("#suggested-articles")
    expect(suggestions).to_contain_text(article.title)
    page.locator("#id_body").fill("Здравствуйте!")
    suggestions.get_by_role("button", name="Insert").click()
    expect(page.locator("#id_body")).to_have_value(f"Здравствуйте!\n\n{article.title}\n\nПроверьте папку «Спам».")
    page.locator("#send-reply").click()
    expect(page.locator("#conversation")).to_contain_text("Проверьте папку «Спам».")
    expect(suggestions).to_contain_text("sent")
    assert ticket.article_links.get().article == article


def test_renew_a_contract_and_log_work_on_a_covered_ticket(page, desk, owner):
    from datetime import date

    from sales.tests.factories import PipelineFactory, ProductFactory
    from service import contract_services

    PipelineFactory(name="Renewals")
    cable = ProductFactory(name="Кабель HDMI", default_price="250.00", currency="RUB")
    contract = contract_services.contract_create(
        actor=desk["lead"], name="Поддержка 2026", account=desk["account"], starts_on=date(2026, 1, 1),
        ends_on=timezone.localdate() + timedelta(days=20), entitlement="hours", entitled_amount=10)
    ticket = services.ticket_create(actor=desk["agent"], subject="Нет изображения", contact=desk["contact"],
                                    owner=desk["agent"])
    assert ticket.contract == contract
    sign_in(page, desk["agent"])
    page.goto(ticket.get_absolute_url())
    expect(page.locator("#ticket-coverage")).to_contain_text("Covered")
    work = page.locator("#work-log-form")
    work.get_by_label("Minutes").fill("90")
    work.get_by_label("Note").fill("Выезд к клиенту")
    page.locator("#log-work").click()
    expect(page.locator("#work-log")).to_contain_text("90 min")
    work = page.locator("#work-log-form")
    work.get_by_label("What").select_option("material")
    work.get_by_label("Product").select_option(label=str(cable))
    work.get_by_label("Quantity").fill("2")
    page.locator("#log-work").click()
    expect(page.locator("#work-log")).to_contain_text("500.00")
    expect(page.locator("#ticket-coverage")).to_contain_text("1.50 of 10.00 used")

    page.context.clear_cookies()
    sign_in(page, owner)
    page.goto(contract.get_absolute_url())
    expect(page.locator("#contract-state")).to_have_text("Expiring")
    page.locator("#renew-contract").click()
    expect(page.locator("#renewal-deal")).to_be_visible()
    page.locator("#renewal-deal").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Renewal: Поддержка 2026")


def test_mail_to_the_desk_becomes_a_ticket(page, desk, tmp_path, settings):
    import mailbox
    from email.message import EmailMessage

    from service import inbound

    settings.SERVICE_MAILDIR = tmp_path / "support"
    box = mailbox.Maildir(tmp_path / "support", create=True)
    for subject, extra in (("Счёт за ноябрь", {}), ("Автоответ: в отпуске", {"Auto-Submitted": "auto-replied"})):
        message = EmailMessage()
        message["From"], message["Subject"] = "Пётр Смирнов <petr@vector.ru>", subject
        for name, value in extra.items():
            message[name] = value
        message.set_content("Пришлите, пожалуйста, счёт ещё раз.")
        box.add(message)
    inbound.read_mailbox()
    sign_in(page, desk["lead"])
    page.locator("#service-menu").click()
    page.get_by_role("link", name="Support mailbox").click()
    table = page.locator("#inbound-table")
    expect(table).to_contain_text("Ignored: an automatic reply")
    expect(table).to_contain_text("Opened a ticket")
    table.get_by_role("link").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Счёт за ноябрь")
    expect(page.locator("#description-heading")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Пришлите, пожалуйста, счёт ещё раз.")
    expect(page.locator("main")).to_contain_text("Пётр Смирнов")  # the known contact, matched by address
