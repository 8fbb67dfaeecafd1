"""The platform driven as a person would, in the system Chromium."""

import re

import pytest
from playwright.sync_api import expect

from accounts.tests.factories import AccountFactory
from conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]

SECTIONS = [("Marketing", "Marketing"), ("Reports", "Pipeline dashboard")]


def test_sign_in_visit_every_section_and_sign_out(page, owner):
    AccountFactory(owner=owner, name="Initech")
    sign_in(page, owner)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Good day")
    nav = page.get_by_role("navigation", name="Main")
    for link, heading in SECTIONS:
        nav.get_by_role("link", name=link, exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    nav.get_by_role("button", name="Service", exact=True).click()  # a menu: my work, hotline, tickets…
    nav.get_by_role("link", name="Tickets", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tickets")
    nav.get_by_role("button", name="Sales", exact=True).click()  # a menu: overview, leads, board, quotes…
    nav.get_by_role("link", name="Sales overview").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sales")
    page.get_by_role("link", name="All accounts").click()
    expect(page.get_by_role("link", name="Initech")).to_be_visible()

    page.locator("#user-menu").click()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.goto("/sales/")
    expect(page).to_have_url(re.compile(r"/auth/login/\?next=/sales/"))
    assert page.console_errors == [], page.failed_requests  # no CSP violation, no script error


def test_wrong_password_shows_a_message(page, owner):
    sign_in(page, owner, password="not-the-password")
    expect(page.get_by_text("Please enter a correct")).to_be_visible()


def test_another_user_cannot_open_my_record_by_url(page, owner, outsider):
    account = AccountFactory(owner=owner, name="Secret Deal Ltd")
    sign_in(page, outsider)
    response = page.goto(account.get_absolute_url())
    assert response.status == 404
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    expect(page.get_by_text("Secret Deal Ltd")).to_have_count(0)


def test_create_and_edit_an_account_and_see_its_history(page, owner):
    sign_in(page, owner)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Accounts").click()
    page.get_by_role("link", name="New account").first.click()
    page.locator("#id_name").fill("Umbrella Logistics")
    page.get_by_label("Industry").fill("Transport")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Umbrella Logistics")
    expect(page.locator(".toast")).to_contain_text("was created")

    page.get_by_role("link", name="Edit").click()
    page.get_by_label("Industry").fill("Shipping")
    page.locator("#id_name").press("Enter")
    history = page.locator("#history")
    expect(history).to_contain_text("Transport")
    expect(history).to_contain_text("Shipping")
    expect(history).to_contain_text("created")


def test_admin_invites_a_user_and_reads_the_invitation(page, admin_user, team, outbox_dir, settings):
    settings.MAILERS = {"default": {"BACKEND": "crm.mail.OutboxBackend"}}  # the embedded default
    sign_in(page, admin_user)
    page.locator("#user-menu").click()
    page.get_by_role("link", name="Users").click()
    page.get_by_role("link", name="Invite a user").click()
    page.get_by_label("E-mail").fill("newbie@example.com")
    page.get_by_label("First name").fill("Nora")
    page.get_by_label("Role").select_option("support_agent")
    page.get_by_label("Team").select_option(label=team.name)
    page.get_by_role("button", name="Send the invitation").click()
    expect(page.get_by_role("row", name=re.compile("newbie@example.com"))).to_contain_text("Invited")

    page.goto("/admin-tools/outbox/")
    page.get_by_role("link", name="You are invited to CRM").click()
    expect(page.locator("#mail-body")).to_contain_text("/auth/invite/")


def test_phone_width_layout(page, owner):
    page.set_viewport_size({"width": 375, "height": 740})
    sign_in(page, owner)
    page.get_by_role("button", name="Toggle navigation").click()
    page.get_by_role("button", name="Sales", exact=True).click()
    page.get_by_role("link", name="Sales overview").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sales")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, "the page scrolls sideways on a phone"
