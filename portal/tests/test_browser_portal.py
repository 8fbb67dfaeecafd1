"""The survey and the portal, driven as people would, in the system Chromium."""

import re

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from playwright.sync_api import expect

from conftest import sign_in
from portal import services as portal_services
from portal.models import Survey
from portal.tests.factories import PORTAL_PASSWORD
from service import kb_services, services
from service.models import ArticleAudience, ArticleStatus, Status, Ticket

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True),
]

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_resolve_then_the_customer_rates_from_the_email_and_the_agent_sees_it(page, desk, live_server, settings):
    settings.PUBLIC_URL = live_server.url
    ticket = desk["ticket"]
    sign_in(page, desk["agent"])
    page.goto(f"/service/tickets/{ticket.pk}/")
    page.locator("#status-select").select_option("resolved")
    page.locator("#status-form").get_by_role("button", name="Set status").click()
    expect(page.locator("#ticket-surveys")).to_contain_text("not answered yet")

    # The customer, in another browser (no staff session), follows the link in the e-mail.
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["petr@vector.ru"]
    link = re.search(r"Or open (\S+)", mail.outbox[0].body).group(1)
    customer = page.context.browser.new_context(base_url=live_server.url, viewport={"width": 375, "height": 740})
    survey_page = customer.new_page()
    survey_page.goto(link)
    expect(survey_page.get_by_role("heading", level=1)).to_have_text("How did we do?")
    survey_page.get_by_label("4 — good").check()
    survey_page.get_by_label("Anything you would like to add? (optional)").fill("Быстро помогли, спасибо!")
    survey_page.get_by_role("button", name="Send the rating").click()
    expect(survey_page.locator("#survey-thanks")).to_contain_text(ticket.number)
    no_scroll = survey_page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert no_scroll
    survey_page.goto(link)  # the same link again: refused, clearly
    expect(survey_page.locator("#survey-closed")).to_contain_text("already been answered")
    customer.close()

    page.reload()
    expect(page.locator("#ticket-surveys")).to_contain_text("4/5")
    expect(page.locator("#ticket-surveys")).to_contain_text("Быстро помогли, спасибо!")
    page.goto("/service/")
    expect(page.locator("#my-satisfaction")).to_contain_text("4.0")


def test_a_portal_user_opens_a_ticket_cannot_reach_another_and_never_sees_a_note(page, desk, customer):
    services.ticket_reply(ticket=desk["ticket"], actor=desk["agent"], body="Внутренняя заметка: проверить склад",
                          internal=True, uploads=[SimpleUploadedFile("склад.png", PNG, "image/png")])
    services.ticket_reply(ticket=desk["ticket"], actor=desk["agent"], body="Попробуйте перезагрузить принтер")
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto("/portal/")
    page.get_by_label("E-mail address").fill(customer.email)
    page.get_by_label("Password").fill(PORTAL_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My requests")
    expect(page.locator("#portal-tickets")).to_contain_text("Не печатает принтер")
    expect(page.locator("#portal-tickets")).not_to_contain_text("Чужая заявка")

    page.get_by_role("link", name="Не печатает принтер").click()
    expect(page.locator("#portal-conversation")).to_contain_text("Попробуйте перезагрузить принтер")
    expect(page.locator("#portal-conversation")).not_to_contain_text("Внутренняя заметка")
    expect(page.locator("body")).not_to_contain_text("склад.png")

    page.goto("/portal/")
    page.locator("#portal-new-ticket").click()
    page.get_by_label("Subject").fill("Не приходят счета на почту")
    page.get_by_label("What happened?").fill("С понедельника нет ни одного письма со счётом.")
    page.get_by_label("Kind of request").select_option("billing")
    page.get_by_label("Attachments").set_input_files(files=[{"name": "скрин.png", "mimeType": "image/png",
                                                              "buffer": PNG}])
    page.get_by_role("button", name="Send the request").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Не приходят счета на почту")
    expect(page.locator("#portal-conversation")).to_contain_text("скрин.png")
    created = Ticket.objects.get(subject="Не приходят счета на почту")
    assert created.channel == "portal" and created.contact == desk["contact"]
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    page.get_by_label("Your message").fill("Добавлю: в спаме тоже нет.")
    page.locator("#portal-send").click()
    expect(page.locator("#portal-conversation")).to_contain_text("в спаме тоже нет")

    # Another customer's ticket by URL: the same "not found" as a missing one.
    page.goto(f"/portal/tickets/{desk['foreign'].pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
    expect(page.locator("body")).not_to_contain_text("Чужая заявка")
    # A staff page with only a portal session: the staff sign-in.
    page.goto(f"/service/tickets/{desk['foreign'].pk}/")
    expect(page).to_have_url(re.compile(r"/auth/login/"))

    # The public knowledge base, searched by words.
    kb_services.article_create(actor=desk["lead"], title="Счета приходят в спам", body="Добавьте наш адрес в контакты.",
                               status=ArticleStatus.PUBLISHED, audience=ArticleAudience.PUBLIC)
    page.goto("/portal/")
    page.locator("#portal-help").click()
    page.get_by_label("Search the help articles").fill("спам")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="Счета приходят в спам").click()
    expect(page.locator("#help-article-body")).to_contain_text("Добавьте наш адрес")

    page.goto("/portal/")
    page.locator("#portal-sign-out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to the portal")
    page.goto(f"/portal/tickets/{desk['ticket'].pk}/")
    expect(page).to_have_url(re.compile(r"/portal/sign-in/"))


def test_support_invites_a_contact_who_sets_a_password_and_signs_in(page, desk, live_server):
    sign_in(page, desk["agent"])
    page.goto(desk["contact"].get_absolute_url())
    page.locator("#portal-invite").get_by_role("button", name="Invite to the portal").click()
    expect(page.locator("#portal-access-menu")).to_contain_text("Portal: invited")
    link = re.search(r"https?://\S+", mail.outbox[-1].body).group(0)
    customer = page.context.browser.new_context(base_url=live_server.url)
    welcome = customer.new_page()
    welcome.goto(link)
    expect(welcome.get_by_role("heading", level=1)).to_have_text("Welcome to the portal")
    welcome.locator("#id_password1").fill("Принтер-работает-2026")
    welcome.locator("#id_password2").fill("Принтер-работает-2026")
    welcome.get_by_role("button", name="Save the password and sign in").click()
    expect(welcome.locator("#portal-tickets")).to_contain_text("Не печатает принтер")
    customer.close()


def test_the_lead_exports_the_periods_survey_answers(page, desk, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    services.ticket_set_status(ticket=desk["ticket"], actor=desk["agent"], status=Status.RESOLVED)
    portal_services.survey_answer(survey=Survey.objects.get(ticket=desk["ticket"]), rating=2,
                                  comment="Долго ждали инженера")
    sign_in(page, desk["lead"])
    page.goto("/portal-admin/feedback/")
    expect(page.locator("#total-answers")).to_have_text("1")
    page.locator("#export-list").click()
    expect(page.locator("#download-export")).to_be_visible(timeout=15_000)
    with page.expect_download() as download_info:
        page.locator("#download-export").click()
    content = download_info.value.path().read_text(encoding="utf-8-sig")
    assert desk["ticket"].number in content and "Долго ждали инженера" in content
    assert page.console_errors == [], page.failed_requests
