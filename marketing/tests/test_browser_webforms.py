"""Web-to-lead as people use it, in the system Chromium: an admin builds a form for a campaign; a
visitor (not signed in) fills it in; the lead waits in the queue, from the web, with its campaign."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from conftest import sign_in
from marketing.models import WebForm
from marketing.tests.factories import CampaignFactory
from sales.models import Lead

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]


def test_build_a_form_submit_it_and_find_the_lead_in_the_queue(page, live_server, admin_user, marketer, team):
    CampaignFactory(owner=marketer, name="Выставка 2026")
    sign_in(page, admin_user)
    page.goto("/marketing/")
    page.locator("#overview-webforms").click()
    page.wait_for_load_state("load")
    page.locator("#webform-new").click()
    page.wait_for_load_state("load")
    page.locator("#id_name").fill("Запрос цены")
    page.get_by_label("Campaign").select_option(label="Выставка 2026")
    page.get_by_label("Lead queue (team)").select_option(value=str(team.pk))
    page.get_by_label("Language").select_option("ru")
    page.get_by_label("Company").check()
    page.get_by_label("Consent wording").fill("Я согласен получать письма.")
    page.locator("#id_thank_you").fill("Спасибо! Мы перезвоним.")
    page.get_by_role("button", name="Save").click()
    link = page.locator(".webform-link").first
    expect(link).to_be_visible()
    public = link.get_attribute("href")

    page.context.clear_cookies()  # the visitor is not signed in
    page.goto(public)
    page.get_by_label("Фамилия").fill("Коваль")
    page.locator("#id_email").fill("koval@example.com")
    page.get_by_label("Компания").fill("ООО Север")
    page.get_by_label("Я согласен получать письма.").check()
    page.locator("#webform-submit").click()
    expect(page.locator("#webform-thanks")).to_have_text("Спасибо! Мы перезвоним.")

    sign_in(page, admin_user)
    page.goto(reverse("sales:lead_queue"))
    expect(page.get_by_role("link", name="Коваль")).to_be_visible()
    lead = Lead.objects.get(last_name="Коваль")
    assert lead.attribution.campaign.name == "Выставка 2026" and WebForm.objects.get().submissions.count() == 1
    page.goto(lead.get_absolute_url())
    expect(page.locator("#lead-campaign")).to_contain_text("Выставка 2026")
    assert page.console_errors == [] and page.failed_requests == [], (page.console_errors, page.failed_requests)


@pytest.fixture
def company_site(tmp_path):
    """The customer's own web site: a static page served from a temp dir on another origin."""
    import functools
    import http.server
    import threading

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield tmp_path, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_the_snippet_embeds_the_form_on_another_site_and_takes_a_lead(page, live_server, admin_user, marketer,
                                                                        team, company_site):
    folder, site = company_site
    web_form = WebForm.objects.create(name="Запрос демо", campaign=CampaignFactory(owner=marketer, name="Сайт"),
                                      team=team, fields=["company", "message"], language="ru",
                                      consent_wording="Согласен на обработку данных.", thank_you="Спасибо, до связи!",
                                      created_by=admin_user)
    sign_in(page, admin_user)
    page.goto(reverse("marketing:webform_edit", args=[web_form.pk]))
    page.get_by_label("Sites that may embed the form").fill(site)
    page.locator("#id_is_active").check()
    page.get_by_role("button", name="Save").click()
    page.goto(reverse("marketing:webform_edit", args=[web_form.pk]))
    snippet = page.locator("#webform-snippet-iframe").input_value()
    assert snippet.startswith("<iframe") and "/embed/" in snippet
    (folder / "index.html").write_text(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>ACME</title>'
        '<link rel="icon" href="data:,"></head>'
        f"<body><h1>Contact us</h1>{snippet}<p id='after'>Footer</p></body></html>", encoding="utf-8")

    page.context.clear_cookies()  # a visitor of the company's site
    page.goto(site + "/index.html")
    frame_element = page.locator(f"iframe#crm-webform-{web_form.pk}")
    frame = page.frame_locator(f"iframe#crm-webform-{web_form.pk}")
    expect(frame.locator("#webform-submit")).to_be_visible()
    # The frame grew to the form's height (the page posted it; the snippet's listener applied it).
    page.wait_for_function(f"document.getElementById('crm-webform-{web_form.pk}').style.height !== ''")
    first_height = frame_element.bounding_box()["height"]
    assert first_height > 420
    frame.get_by_label("Фамилия").fill("Гринько")
    frame.get_by_label("Компания").fill("ТОВ Сад")
    frame.locator("#webform-submit").click()  # no e-mail, no consent: the messages grow the frame
    expect(frame.locator(".invalid-feedback").first).to_be_visible()
    page.wait_for_function(f"parseFloat(document.getElementById('crm-webform-{web_form.pk}').style.height) > "
                           f"{first_height}")
    frame.locator("#id_email").fill("grynko@example.com")
    frame.get_by_label("Согласен на обработку данных.").check()
    frame.locator("#webform-submit").click()
    expect(frame.locator("#webform-thanks")).to_have_text("Спасибо, до связи!")
    lead = Lead.objects.get(last_name="Гринько")
    assert lead.company == "ТОВ Сад" and lead.attribution.campaign.name == "Сайт"
    assert page.console_errors == [], page.console_errors

    # Another site may not frame it: the browser refuses (CSP frame-ancestors lists only the company's site).
    WebForm.objects.filter(pk=web_form.pk).update(embed_origins="https://www.elsewhere.example")
    page.goto(site + "/index.html")
    expect(frame.locator("#webform-submit")).to_have_count(0)
    assert Lead.objects.count() == 1


def test_a_known_contact_submits_and_the_owner_sees_it_on_the_timeline(page, live_server, admin_user, owner, team):
    from contacts.tests.factories import ContactFactory
    from marketing import webforms

    contact = ContactFactory(owner=owner, first_name="Ирина", last_name="Коваль", emails=["irina@example.com"])
    web_form = WebForm.objects.create(name="Запрос цены", team=team, fields=["company", "message"], language="ru",
                                      consent_wording="Я согласен получать письма.",
                                      thank_you="Спасибо! Мы перезвоним.", created_by=admin_user)
    page.goto(reverse("marketing:webform_public", args=[webforms.form_key(web_form.pk)]))
    page.get_by_label("Фамилия").fill("Коваль")
    page.locator("#id_email").fill("Irina@Example.com")
    page.get_by_label("Сообщение").fill("Снова нужна цена на 30 лицензий")
    page.get_by_label("Я согласен получать письма.").check()
    page.locator("#webform-submit").click()
    expect(page.locator("#webform-thanks")).to_have_text("Спасибо! Мы перезвоним.")
    assert not Lead.objects.exists()

    sign_in(page, owner)
    page.goto(contact.get_absolute_url())
    expect(page.get_by_text("Web form “Запрос цены” sent again").first).to_be_visible()
    expect(page.get_by_text("Снова нужна цена на 30 лицензий").first).to_be_visible()
    assert page.console_errors == [] and page.failed_requests == [], (page.console_errors, page.failed_requests)
