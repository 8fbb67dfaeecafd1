"""A telemarketing call list driven as people would, in the system Chromium: the marketer builds it on
the campaign page from a static list, an agent works through it (the phone, the script, an outcome per
call, a call-back, a lead for the interested one, someone who asks not to be called), and the progress
shows on the list's and the campaign's pages and the call on the contact's timeline."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from conftest import sign_in
from contacts.models import Contact
from contacts.tests.factories import ContactFactory
from crm.models import Role
from crm.tests.factories import UserFactory
from marketing import services
from marketing.models import CallList, LeadAttribution
from marketing.tests.factories import CampaignFactory

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]


def test_build_a_call_list_and_work_through_it(page, marketer, owner):
    agent = UserFactory(email="caller@example.com", first_name="Дарья", last_name="Звонова", role=Role.MARKETER)
    people = [ContactFactory(owner=owner, first_name="Иван", last_name="Петров", phones=["+74951234567"],
                             emails=["ivan@example.com"]),
              ContactFactory(owner=owner, first_name="Олена", last_name="Коваль", phones=["+380441234567"],
                             emails=["olena@example.com"]),
              ContactFactory(owner=owner, first_name="Пётр", last_name="Сидоров", phones=["+74957654321"],
                             emails=["petr@example.com"]),
              ContactFactory(owner=owner, first_name="Не", last_name="Звонить", do_not_call=True)]
    static_list = services.static_list_create(actor=marketer, name="Участники выставки")
    services.static_list_add(static_list=static_list, actor=marketer,
                             contacts=Contact.objects.filter(pk__in=[p.pk for p in people]))
    campaign = CampaignFactory(owner=marketer, name="Осенний обзвон", type="telemarketing")

    sign_in(page, marketer)
    page.goto(campaign.get_absolute_url())
    page.locator("#new-call-list").click()
    page.get_by_label("or a static list").select_option(label="Участники выставки")
    page.locator(f"input[name=agents][value='{agent.pk}']").check()
    page.locator("#id_script").fill("Добрый день! Звоню по поводу выставки.")
    page.get_by_role("button", name="Build the list").click()
    expect(page.get_by_text("was built: 3 people to call.")).to_be_visible()
    expect(page.locator("#figure-left-out")).to_have_text("1")
    expect(page.locator("#start-calling")).to_have_count(0)  # the marketer is no agent of this list
    call_list = CallList.objects.get()

    page.context.clear_cookies()
    sign_in(page, agent)  # "my day" offers the list with the people waiting
    expect(page.locator("#my-call-lists")).to_contain_text("3 people waiting")
    page.locator("#my-call-lists").get_by_role("link", name="Call", exact=True).click()
    expect(page.locator("#call-script")).to_contain_text("Звоню по поводу выставки")
    expect(page.locator("#callee-heading")).to_have_text("Олена Коваль")  # the list goes by last name
    expect(page.locator("#callee-phones a")).to_have_attribute("href", "tel:+380441234567")
    expect(page.locator("#callee-phones a")).to_contain_text("+380 44 123 4567")  # written as people read it

    page.get_by_label("Interested", exact=True).check()
    page.get_by_label("Notes").fill("Нужно КП на 250 000 ₽")
    page.locator("#log-outcome").click()
    expect(page.get_by_text("Logged: Interested. Lead Олена Коваль was created.")).to_be_visible()

    expect(page.locator("#callee-heading")).to_have_text("Иван Петров")
    page.get_by_label("Call back at a time").check()
    page.locator("#log-outcome").click()  # no time chosen: refused, nothing logged
    expect(page.get_by_text("Choose when to call back.")).to_be_visible()
    when = timezone.localtime() + datetime.timedelta(days=1)
    page.get_by_label("Call back at", exact=True).fill(when.strftime("%Y-%m-%dT%H:%M"))
    page.locator("#log-outcome").click()
    expect(page.get_by_text("A call-back task with a reminder is in your day.")).to_be_visible()

    expect(page.locator("#callee-heading")).to_have_text("Пётр Сидоров")
    page.get_by_label("Asked not to be called").check()
    page.locator("#log-outcome").click()
    expect(page.locator("#queue-empty")).to_contain_text("The next call-back or retry is due at")
    expect(page.locator("#my-callbacks")).to_have_text("1")

    page.goto(call_list.get_absolute_url())
    expect(page.locator("#figure-done")).to_have_text("2 / 3")
    expect(page.locator("#outcome-interested")).to_contain_text("1")
    expect(page.locator("#recent-calls")).to_contain_text("Иван Петров")

    page.context.clear_cookies()
    sign_in(page, marketer)
    page.goto(campaign.get_absolute_url())
    expect(page.locator(f"#call-list-progress-{call_list.pk}")).to_have_text("2 of 3 done · 1 interested")
    page.goto(people[1].get_absolute_url())
    expect(page.get_by_text("Осенний обзвон: Interested").first).to_be_visible()
    assert LeadAttribution.objects.get().campaign == campaign
    assert Contact.objects.get(pk=people[2].pk).do_not_call
    assert page.console_errors == [] and page.failed_requests == []
