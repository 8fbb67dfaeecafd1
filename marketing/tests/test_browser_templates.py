"""E-mail templates and new-product notices driven as a marketer would, in the system Chromium: build a
template in two languages, preview it with a chosen contact, send a test to oneself, start a mailing from
it; and announce a new product to the subscribers of its family's topic."""

import email
import email.policy

import pytest
from playwright.sync_api import expect

from accounts.tests.factories import AccountFactory
from conftest import sign_in
from contacts.tests.factories import ContactFactory
from crm.mail import outbox_dir
from crm.models import OutboxMail
from marketing.models import EmailTemplate, Mailing, Topic, TopicSubscription
from marketing.tests.factories import CampaignFactory
from sales.models import Product

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]


def test_build_a_template_preview_it_with_a_contact_and_send_a_test_to_me(page, marketer, owner):
    ContactFactory(owner=owner, first_name="Aaron", last_name="Able")
    ContactFactory(owner=owner, first_name="Zoya", last_name="Zorina", account=AccountFactory(owner=owner, name="Acme"))
    CampaignFactory(owner=marketer, name="Spring news")
    sign_in(page, marketer)

    page.goto("/marketing/")
    page.locator("#overview-templates").click()
    page.locator("#template-new").click()
    page.get_by_label("Name").fill("Spring letter")
    page.locator("#id_subject_en").fill("Spring for {frist_name}")  # a typo: refused with the valid fields
    page.locator("#id_html_en").fill("<h2>Spring</h2><p>Hello {first_name} from {company}!</p>"
                                     '<p><a href="https://example.com/spring">See the range</a></p>'
                                     "<script>alert(1)</script>")
    page.locator("#id_subject_ru").fill("Весна для {first_name}")
    page.locator("#id_html_ru").fill("<p>Здравствуйте, {first_name}!</p>")
    page.locator("#template-save").click()
    expect(page.locator("#template-form")).to_contain_text("Unknown merge field: {frist_name}. Valid fields:")
    page.locator("#id_subject_en").fill("Spring for {first_name}")
    page.locator("#template-save").click()
    expect(page.get_by_text("Template “Spring letter” saved.")).to_be_visible()
    assert "script" not in EmailTemplate.objects.get().versions.get(language="en").html

    # Preview with a chosen contact (search-as-you-type), in each language.
    page.locator("#id_contact-ts-control").fill("Zorina")
    page.locator(".ts-dropdown .option", has_text="Zoya Zorina").click()
    expect(page.locator(".ts-control .item", has_text="Zoya Zorina")).to_be_visible()
    page.get_by_label("Language").select_option("en")
    page.locator("#preview-show").click()
    expect(page.locator("#preview-subject")).to_have_text("Spring for Zoya")
    frame = page.frame_locator("#preview-html")
    expect(frame.locator("p").first).to_have_text("Hello Zoya from Acme!")
    expect(frame.get_by_role("link", name="See the range")).to_be_visible()
    page.get_by_label("Language").select_option("ru")
    page.locator("#preview-show").click()
    expect(page.locator("#preview-subject")).to_have_text("Весна для Zoya")

    # A test to myself, through the outbox.
    page.locator("#send-test").click()
    expect(page.get_by_text(f"A test was sent to {marketer.email}.")).to_be_visible()
    (mail,) = OutboxMail.objects.all()
    assert mail.recipients == [marketer.email] and mail.subject == "[Тест] Весна для Zoya"

    # Start a mailing from the template: its versions are copied into the form.
    page.locator("#template-use").click()
    expect(page.locator("#mailing-template-chosen")).to_contain_text("Spring letter")
    expect(page.locator("#id_subject")).to_have_value("Весна для {first_name}" if marketer.language == "ru"
                                                      else "Spring for {first_name}")
    assert page.console_errors == [] and page.failed_requests == []


def test_announce_a_new_product_to_the_subscribers_of_its_family(page, marketer, owner, settings, tmp_path):
    settings.EMAIL_OUTBOX_DIR = tmp_path / "mail"
    settings.MAILERS = {"default": {"BACKEND": "crm.mail.OutboxBackend"}}
    topic = Topic.objects.create(name="Tool news", product_family="Tools")
    fan = ContactFactory(owner=owner, first_name="Fan", emails=["fan@example.com"], email_opt_in=True)
    ContactFactory(owner=owner, first_name="Other", emails=["other@example.com"], email_opt_in=True)
    TopicSubscription.objects.create(contact=fan, topic=topic)
    CampaignFactory(owner=marketer, name="Launches")
    product = Product.objects.create(sku="DR-1", name="Cordless drill", family="Tools", is_new=True,
                                     description="Two batteries included.", default_price=99, currency="EUR")
    sign_in(page, marketer)

    page.goto(product.get_absolute_url())
    expect(page.locator("#product-notice")).to_contain_text("Tool news")
    page.locator("#product-announce").click()
    page.locator("#id_campaign-ts-control").fill("Launch")
    page.locator(".ts-dropdown .option", has_text="Launches").click()
    expect(page.get_by_label("Send to the subscribers of")).to_have_value(str(topic.pk))  # the family's topic
    page.locator("#notice-create").click()
    expect(page.get_by_text("The announcement is ready as a draft.")).to_be_visible()
    expect(page.locator("#mailing-product")).to_have_text("Cordless drill")
    expect(page.locator("#mailing-send")).to_contain_text("Send to 1 contact")
    expect(page.frame_locator("#preview-html").locator("h2")).to_have_text("Cordless drill")
    page.locator("#mailing-send").click()
    expect(page.get_by_text("The mailing is being sent.")).to_be_visible()
    page.reload()
    expect(page.locator("[data-count=sent]")).to_have_text("1")
    (path,) = sorted(outbox_dir().glob("*.eml"))
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert str(message["To"]) == "fan@example.com" and message.get_content_type() == "multipart/alternative"
    assert Mailing.objects.get().product_id == product.pk
    assert page.console_errors == [] and page.failed_requests == []
