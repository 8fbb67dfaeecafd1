"""Customer 360 driven as a person would, in the system Chromium."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Account
from accounts.tests.factories import AccountFactory
from activities.models import Activity
from conftest import sign_in
from contacts.models import Contact
from contacts.tests.factories import ContactFactory
from crm import scheduler

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]


def test_account_and_contact_with_live_duplicate_warning(page, owner, outsider):
    ContactFactory(owner=outsider, first_name="Hidden", last_name="Person", phones=["+442079460777"], emails=[])
    sign_in(page, owner)
    page.goto("/accounts/new/")
    page.locator("#id_name").fill("Stark Industries")
    page.locator("#id_phone").fill("+44 20 7946 0100")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Stark Industries")

    page.get_by_role("link", name="Add a contact").click()
    page.locator("#id_first_name").fill("Pepper")
    page.locator("#id_last_name").fill("Potts")
    page.locator("#id_phones").fill("020 7946 0777")  # the hidden contact's number, another format
    warning = page.locator("#duplicate-warning")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text(f"owned by {outsider}")
    expect(warning).not_to_contain_text("Hidden Person")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#duplicate-warning")).to_be_visible()  # the server asks too
    page.get_by_label("I checked the possible duplicates: save anyway").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Pepper Potts")
    expect(page.get_by_role("link", name="Stark Industries")).to_be_visible()
    assert Contact.objects.get(last_name="Potts").account == Account.objects.get(name="Stark Industries")


def test_log_a_call_with_caller_lookup_and_see_it_on_the_timeline(page, owner):
    account = AccountFactory(owner=owner, name="Wayne Enterprises")
    ContactFactory(owner=owner, account=account, first_name="Lucius", last_name="Fox", phones=["+442079460888"])
    sign_in(page, owner)
    page.locator("#quick-create").click()
    page.locator("#log-call").click()  # two clicks from any page
    page.wait_for_load_state()
    page.locator("#caller-phone").fill("(020) 7946-0888")
    expect(page.locator(".caller-hit")).to_be_visible(timeout=20_000)  # debounced lookup
    page.locator(".caller-hit").click()
    expect(page.locator("#id_subject")).to_have_value("Call: Lucius Fox")
    page.locator("#id_direction").select_option("in")
    page.locator("#id_outcome").select_option("connected")
    page.locator("#id_body").fill("Asked about the new contract")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Call: Lucius Fox")
    page.get_by_role("link", name="Wayne Enterprises").click()
    expect(page.locator("#timeline-items")).to_contain_text("Call: Lucius Fox")
    expect(page.locator("#timeline-items")).to_contain_text("Asked about the new contract")


def test_meeting_reminder_arrives_as_a_notification(page, owner):
    account = AccountFactory(owner=owner, name="Oscorp")
    sign_in(page, owner)
    page.goto(account.get_absolute_url())
    page.get_by_role("link", name="Schedule a meeting").click()
    page.locator("#id_subject").fill("Quarterly review")
    starts = timezone.localtime(timezone.now() + timedelta(minutes=10))
    page.locator("#id_occurred_at").fill(starts.strftime("%Y-%m-%dT%H:%M"))
    page.locator("#id_remind_minutes_before").select_option("15")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Quarterly review")

    scheduler.tick()  # what Celery beat does every minute
    page.reload()
    bell = page.locator("#notification-bell")
    expect(bell.locator(".notification-count")).to_have_text("1")
    bell.click()
    page.get_by_role("button", name=re.compile("Quarterly review")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Quarterly review")
    expect(page.locator("#notification-bell .notification-count")).to_have_count(0)


def test_global_search_finds_a_contact_by_phone(page, owner):
    ContactFactory(owner=owner, first_name="Natasha", last_name="Romanoff", phones=["+74951234567"])
    sign_in(page, owner)
    page.keyboard.press("/")
    expect(page.locator("#global-search")).to_be_focused()
    page.keyboard.type("8 495 123-45-67".replace("8 ", "+7 "))
    dropdown = page.locator("#search-dropdown")
    expect(dropdown).to_contain_text("Natasha Romanoff")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Natasha Romanoff")


def test_manager_hands_over_a_reps_accounts(page, manager, owner, teammate):
    AccountFactory.create_batch(3, owner=owner)
    Activity.objects.create(kind="task", subject="Renewal call", owner=owner, team=owner.team, status="open",
                            occurred_at=timezone.now())
    sign_in(page, manager)
    page.locator("#user-menu").click()
    page.get_by_role("link", name="Hand over customers").click()
    page.locator("#id_from_user").select_option(label=str(owner))
    page.locator("#id_to_user").select_option(label=str(teammate))
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#handover-preview")).to_contain_text("Accounts 3")
    page.get_by_role("button", name="Move 4 records").click()
    expect(page.locator(".toast")).to_contain_text(f"Handed over to {teammate}")
    assert Account.objects.filter(owner=teammate).count() == 3
    assert Activity.objects.get(subject="Renewal call").owner == teammate


def test_hand_over_moves_the_whole_book(page, manager, owner, teammate):
    from sales.tests.factories import OpportunityFactory, PipelineFactory, stage
    from sales.tests.quote_factories import make_quote

    account = AccountFactory(owner=owner, name="Северсталь-Трейд")
    pipeline = PipelineFactory()
    OpportunityFactory(owner=owner, account=account, pipeline=pipeline, name="Поставка труб")
    OpportunityFactory(owner=owner, account=account, pipeline=pipeline, name="Renewal 2027")
    won = OpportunityFactory(owner=owner, account=account, pipeline=pipeline, name="Won last year",
                             stage=stage(pipeline, "Won"))
    quote = make_quote(owner, account=account, title="Трубы, 12 т")
    Activity.objects.create(kind="task", subject="Отправить договор", owner=owner, team=owner.team, status="open",
                            occurred_at=timezone.now(), account=account)
    sign_in(page, manager)
    page.locator("#user-menu").click()
    page.get_by_role("link", name="Hand over customers").click()
    page.wait_for_load_state("load")
    page.locator("#id_from_user").select_option(label=str(owner))
    page.locator("#id_to_user").select_option(label=str(teammate))
    page.get_by_role("button", name="Preview").click()
    preview = page.locator("#handover-preview")
    expect(preview).to_contain_text("Open deals 2")
    expect(preview).to_contain_text("Open quotes (drafts and sent) 1")
    expect(preview).to_contain_text(quote.number)
    expect(preview).to_contain_text("Open tasks and upcoming meetings 1")
    expect(preview).not_to_contain_text("Won last year")
    page.get_by_role("button", name=re.compile(r"Move \d+ records")).click()
    expect(page.locator(".toast")).to_contain_text(f"Handed over to {teammate}")

    # The new owner has the open deals, the quote and the task on their own lists
    page.context.clear_cookies()
    sign_in(page, teammate)
    page.goto("/sales/opportunities/")
    expect(page.locator("main")).to_contain_text("Поставка труб")
    expect(page.locator("main")).to_contain_text("Renewal 2027")
    expect(page.locator("main")).not_to_contain_text("Won last year")
    page.goto(f"/sales/quotes/{quote.pk}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(quote.number)
    page.goto("/")
    expect(page.locator("#my-tasks")).to_contain_text("Отправить договор")

    # The old owner sees none of them: the list is empty of them and the pages answer 404
    page.context.clear_cookies()
    sign_in(page, owner)
    page.goto("/sales/opportunities/")
    expect(page.locator("main")).not_to_contain_text("Поставка труб")
    expect(page.locator("main")).not_to_contain_text("Renewal 2027")
    response = page.goto(f"/sales/quotes/{quote.pk}/")
    assert response.status == 404
    page.goto("/")
    expect(page.locator("#my-tasks")).not_to_contain_text("Отправить договор")
    won.refresh_from_db()
    assert won.owner == owner


def test_a_rep_on_a_phone_opens_my_day_a_customer_and_logs_a_call(page, owner):
    account = AccountFactory(owner=owner, name="Mobile Customer Ltd")
    Activity.objects.create(kind="task", subject="Call back today", owner=owner, team=owner.team, status="open",
                            occurred_at=timezone.now(), account=account)
    page.set_viewport_size({"width": 375, "height": 740})
    sign_in(page, owner)
    expect(page.locator("#my-tasks")).to_contain_text("Call back today")
    page.get_by_role("link", name="Mobile Customer Ltd").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Mobile Customer Ltd")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375, overflowing(page)
    page.get_by_role("link", name="Log a call").click()
    page.locator("#id_subject").fill("Quick call from the car")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Quick call from the car")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375, overflowing(page)


def overflowing(page) -> list[str]:
    """What sticks out to the right, for the assertion message."""
    return page.evaluate("""() => Array.from(document.querySelectorAll('body *'))
        .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
        .slice(0, 8).map(e => e.tagName + '.' + e.className + ' ' + (e.textContent || '').trim().slice(0, 40))""")
