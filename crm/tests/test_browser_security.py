"""Issue 14 in Chromium: two-factor sign-in, a lockout an admin lifts, and script payloads that stay inert."""

import time

import pyotp
import pytest
from playwright.sync_api import expect

from accounts.tests.factories import AccountFactory
from conftest import PASSWORD, sign_in
from contacts.tests.factories import ContactFactory
from crm.models import Role
from crm.tests.factories import UserFactory
from service import kb_services
from service.models import Article, ArticleStatus

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]


def sign_out(page):
    page.locator("#user-menu").click()
    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_enrol_in_two_factor_sign_out_and_sign_in_with_a_code(page, owner):
    sign_in(page, owner)
    page.locator("#user-menu").click()
    page.get_by_role("link", name="Sign-in and security").click()
    page.get_by_role("link", name="Set up two-factor sign-in").click()
    expect(page.get_by_role("img", name="QR code for the authenticator app")).to_be_visible()
    totp = pyotp.TOTP(page.locator("#two-factor-secret").inner_text().strip())
    page.get_by_label("Code from the app").fill(totp.now())
    page.get_by_role("button", name="Turn on").click()
    expect(page.get_by_text("Two-factor sign-in is on.")).to_be_visible()
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    page.get_by_role("link", name="I have saved them").click()
    expect(page.get_by_text("On", exact=True)).to_be_visible()
    sign_out(page)

    page.get_by_label("E-mail address").fill(owner.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    page.get_by_label("Code").fill(totp.at(time.time() + 30))  # the next step: the enrolment code is spent
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Good day")
    assert page.console_errors == [], page.failed_requests


def test_wrong_passwords_lock_the_account_and_an_admin_unlocks_it(page, browser, live_server, owner, admin_user):
    for _ in range(5):
        sign_in(page, owner, password="not-the-password")
    expect(page.get_by_text("this account is locked")).to_be_visible()
    sign_in(page, owner)  # the right password, refused while locked
    expect(page.get_by_text("this account is locked")).to_be_visible()

    admin = browser.new_context(base_url=live_server.url).new_page()
    sign_in(admin, admin_user)
    admin.goto("/admin-tools/users/")
    row = admin.get_by_role("row").filter(has_text=owner.email)
    expect(row.get_by_text("Locked")).to_be_visible()
    row.get_by_role("link").first.click()
    admin.get_by_role("button", name="Unlock").click()
    expect(admin.get_by_text("can sign in again")).to_be_visible()
    admin.goto("/admin-tools/security-log/?kind=locked")
    expect(admin.locator("#security-log")).to_contain_text(owner.email)
    admin.context.close()

    sign_in(page, owner)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Good day")


PAYLOAD = '<img src=x onerror="window.__xss=1"><script>window.__xss=1</script>"><svg onload="window.__xss=1">'


def test_script_payloads_in_names_and_notes_stay_inert(page, owner):
    account = AccountFactory(owner=owner, team=owner.team, name=f"Acme {PAYLOAD}", description=PAYLOAD)
    contact = ContactFactory(owner=owner, team=owner.team, account=account, first_name=PAYLOAD, last_name="Xss")
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_in(page, owner)
    for url in [account.get_absolute_url(), contact.get_absolute_url(), "/accounts/?q=Acme", "/contacts/?q=Xss",
                "/search/?q=Acme", "/"]:
        page.goto(url)
        page.wait_for_load_state("networkidle")
        assert page.evaluate("window.__xss") is None, url
    page.goto(account.get_absolute_url())
    expect(page.get_by_role("heading", level=1)).to_contain_text("<script>")  # shown as text, not run
    assert dialogs == []


def test_an_article_with_formatting_and_a_payload_shows_the_formatting_and_runs_nothing(page, owner):
    author = UserFactory(email="kb-writer@example.com", role=Role.SUPPORT_LEAD)
    article = kb_services.article_create(
        actor=author, title="Как заменить картридж", status=ArticleStatus.PUBLISHED,
        body=f"<h2>Шаги</h2><ol><li><strong>Выключите</strong> принтер</li></ol>{PAYLOAD}")
    Article.objects.filter(pk=article.pk).update(body=article.body + PAYLOAD)  # as if written past the form
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_in(page, owner)
    page.goto(article.get_absolute_url())
    page.wait_for_load_state("networkidle")
    expect(page.locator(".article-body h2")).to_have_text("Шаги")
    expect(page.locator(".article-body ol strong")).to_have_text("Выключите")
    assert page.evaluate("window.__xss") is None and dialogs == []
