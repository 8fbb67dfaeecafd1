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
