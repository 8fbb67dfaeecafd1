"""Subscriptions as people use them, in the system Chromium: an admin adds a topic; a customer opens
the preference link from a message, chooses Russian and the topic; a marketer sends a topic mailing
with a Russian version, and only the subscriber gets it, in Russian."""

import email
import email.policy

import pytest
from playwright.sync_api import expect

from conftest import sign_in
from contacts.models import Contact
from contacts.tests.factories import ContactFactory
from crm.mail import outbox_dir
from marketing import services
from marketing.models import TopicSubscription
from marketing.subscriptions import preference_token
from marketing.tests.factories import CampaignFactory

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]


def messages():
    return [email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            for path in sorted(outbox_dir().glob("*.eml"))]


def test_topics_preferences_and_a_topic_mailing_in_the_readers_language(page, live_server, admin_user, marketer,
                                                                        owner, settings, tmp_path):
    settings.EMAIL_OUTBOX_DIR = tmp_path / "mail"
    settings.MAILERS = {"default": {"BACKEND": "crm.mail.OutboxBackend"}}
    ivan = ContactFactory(owner=owner, first_name="Иван", last_name="Петров", emails=["ivan@example.com"],
                          email_opt_in=True)
    ContactFactory(owner=owner, first_name="Anna", last_name="Berg", emails=["anna@example.com"], email_opt_in=True)
    static_list = services.static_list_create(actor=marketer, name="Клиенты")
    services.static_list_add(static_list=static_list, actor=marketer, contacts=Contact.objects.all())
    CampaignFactory(owner=marketer, name="Новинки весны")

    # An admin defines the topic.
    sign_in(page, admin_user)
    page.goto("/marketing/")
    page.locator("#overview-topics").click()
    page.wait_for_load_state("load")
    page.locator("#id_name").fill("Новинки")
    page.get_by_label("Name in English").fill("New products")  # what English readers see
    page.get_by_role("button", name="Add topic").click()
    expect(page.locator("#topic-table")).to_contain_text("Новинки")

    # The customer, not signed in, opens their preference link and chooses Russian and the topic.
    page.context.clear_cookies()
    page.goto(f"/marketing/preferences/{preference_token(ivan.pk)}/")
    expect(page.get_by_text("For ivan@example.com.")).to_be_visible()
    page.get_by_label("Language of our e-mail").select_option("ru")
    page.get_by_label("New products").check()  # the page speaks English so far: the topic's English name
    page.locator("#preferences-save").click()
    expect(page.locator("#preferences-saved")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "ru")  # the page now speaks Russian
    expect(page.get_by_label("Новинки")).to_be_checked()
    assert TopicSubscription.objects.filter(contact=ivan, topic__name="Новинки").exists()

    # The marketer writes the mailing for the topic, with a Russian version, and sends it.
    sign_in(page, marketer)
    page.goto("/marketing/campaigns/")
    page.get_by_role("link", name="Новинки весны").click()
    page.locator("#new-mailing").click()
    page.wait_for_load_state("load")
    page.get_by_label("or a static list").select_option(label="Клиенты")
    page.get_by_label("Topic", exact=True).select_option(label="Новинки")
    page.get_by_label("Language of the text").select_option("en")
    page.locator("#id_subject").fill("Spring news for {first_name}")
    page.locator("#id_html").fill("Hello {first_name}")
    page.locator("#mailing-versions summary").click()
    page.get_by_label("Subject (Russian)").fill("Весенние новинки для {first_name}")
    page.get_by_label("Message (Russian)").fill("<p>Здравствуйте, {first_name}!</p>")
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator("#mailing-topic")).to_have_text("Новинки")
    expect(page.locator("#mailing-languages")).to_have_text("English, Russian")
    page.locator("#mailing-send").click()
    expect(page.get_by_text("The mailing is being sent.")).to_be_visible()
    page.reload()
    expect(page.locator("[data-count=sent]")).to_have_text("1")
    expect(page.locator("[data-count=suppressed]")).to_have_text("1")  # Anna is not subscribed

    [message] = messages()
    assert str(message["To"]) == "ivan@example.com"
    assert str(message["Subject"]) == "Весенние новинки для Иван"
    assert "Здравствуйте, Иван!" in message.get_body(("plain",)).get_content()
    assert page.console_errors == [] and page.failed_requests == []


def test_staff_record_a_contacts_topics_and_the_customer_reads_them_described_in_their_language(
        page, live_server, owner):
    from marketing.models import Topic

    Topic.objects.create(name="Product news", description="New products, once a month",
                         translations={"uk": "Новинки"}, description_translations={"uk": "Нові продукти раз на місяць"})
    Topic.objects.create(name="Events", description="Invitations to our events")
    contact = ContactFactory(owner=owner, first_name="Ірина", last_name="Мельник", emails=["iryna@example.com"],
                             email_opt_in=True)
    sign_in(page, owner)
    page.goto(contact.get_absolute_url())
    panel = page.locator("#contact-email-preferences")
    expect(panel.locator('[data-preference="none"]')).to_be_visible()
    panel.locator("#contact-topics-change").click()
    page.wait_for_load_state("load")
    expect(page.get_by_text("New products, once a month")).to_be_visible()  # staff read the typed description
    page.get_by_label("Language of marketing e-mail").select_option("uk")
    page.get_by_label("Product news").check()
    page.locator("#contact-topics-save").click()
    page.wait_for_load_state("load")
    expect(panel.locator('[data-preference="topics"]')).to_have_text("Product news")
    assert TopicSubscription.objects.get(contact=contact).source == "staff"

    page.context.clear_cookies()  # the customer opens the link from an e-mail
    page.goto(f"/marketing/preferences/{preference_token(contact.pk)}/")
    expect(page.get_by_text("Нові продукти раз на місяць")).to_be_visible()
    expect(page.get_by_label("Новинки")).to_be_checked()
    assert page.console_errors == [] and page.failed_requests == [], (page.console_errors, page.failed_requests)
