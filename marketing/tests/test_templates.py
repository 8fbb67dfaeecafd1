"""E-mail templates: sanitising (on save and at render), the merge-field sandbox (only the fields offered,
values escaped in HTML), the plain-text part made from the HTML, multipart messages with both
List-Unsubscribe forms, unsubscribing by mail, template pages with their visibility, preview with a
chosen contact, the rate-limited test to oneself, and new-product notices."""

import email
import email.policy
import mailbox
from email.message import EmailMessage as Raw
from html.parser import HTMLParser

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import AccountFactory
from contacts.models import Contact
from contacts.tests.factories import ContactFactory
from crm.models import OutboxMail
from crm.tests.factories import UserFactory
from marketing import bounces, mailings, notices, services, templating
from marketing.forms import EmailTemplateForm
from marketing.models import Delivery, EmailTemplate, Mailing, MailingStatus, Topic, TopicSubscription
from marketing.tests.factories import CampaignFactory
from sales.models import Product

BASE = "https://crm.example.com"


# --- Sanitising -------------------------------------------------------------------------------------


def test_sanitising_keeps_formatting_and_drops_everything_else():
    dirty = ('<h2 onclick="x()">Hi</h2><p style="color:red">Text <strong>bold</strong> '
             '<a href="javascript:alert(1)">bad</a> <a href="https://example.com/a?b=1&amp;c=2">good</a></p>'
             '<script>alert(1)</script><iframe src="https://evil"></iframe><img src="https://x/y.png" onerror="x()">'
             '<form action="https://evil"><input name="p"></form><!-- hidden -->')
    clean = templating.clean_html(dirty)
    assert "<h2>Hi</h2>" in clean and "<strong>bold</strong>" in clean
    assert 'href="https://example.com/a?b=1&amp;c=2"' in clean
    for gone in ("onclick", "style=", "javascript:", "<script", "alert(1)", "<iframe", "onerror", "<form", "<input",
                 "hidden"):
        assert gone not in clean
    assert '<img src="https://x/y.png">' in clean


def test_html_is_cleaned_when_saved_and_again_when_rendered(marketer):
    template = services.template_save(actor=marketer, template=None, name="T", topic=None,
                                      versions={"en": ("S", '<p>Hi</p><script>steal()</script>')})
    assert template.versions.get().html == "<p>Hi</p>"
    # A row written some other way (the API, an import, SQL) is cleaned at render time all the same.
    contact = ContactFactory(owner=marketer, first_name="Ann")
    dirty = '<p onmouseover="x()">Hi {first_name}</p><script>y()</script>'
    rendered = mailings.render(subject="S", body="", html=dirty,
                               contact=contact, language="en", unsubscribe_url=BASE + "/u/",
                               preferences_url=BASE + "/p/")
    assert "<p>Hi Ann</p>" in rendered.html and "script" not in rendered.html and "onmouseover" not in rendered.html


# --- The sandbox ------------------------------------------------------------------------------------


def test_only_the_offered_fields_are_filled(marketer):
    account = AccountFactory(owner=marketer, name="Acme", city="Kyiv", industry="Retail")
    contact = ContactFactory(owner=marketer, first_name="Ann", last_name="Lee", account=account, city="Lviv",
                             emails=["ann@example.com"], phones=["+380441234567"])
    marketer.phone = "+380 44 000 00 00"
    marketer.save()
    text = ("{first_name} {last_name} | {full_name} | {email} | {phone} | {city} | {company} {company_city} "
            "{company_industry} | {owner_name} {owner_email} {owner_phone} | {unsubscribe_url}")
    recipient = templating.Recipient.of(Contact.objects.select_related("account", "owner").get(pk=contact.pk),
                                        unsubscribe_url="U")
    assert templating.render_text(text, recipient) == (
        f"Ann Lee | {contact.full_name} | ann@example.com | +380441234567 | Lviv | Acme Kyiv Retail | "
        f"{marketer.get_full_name()} {marketer.email} +380 44 000 00 00 | U")


@pytest.mark.parametrize("forged", ["{password}", "{owner.password}", "{contact.owner.password}", "{__class__}",
                                    "{{ contact.owner.password }}", "{first_name.__class__}", "{% debug %}",
                                    "{0}", "{FIRST_NAME}", "{custom}"])
def test_a_forged_field_name_reaches_nothing(marketer, forged):
    contact = ContactFactory(owner=marketer, first_name="Ann")
    recipient = templating.Recipient.of(contact)
    assert templating.render_text(f"x {forged} y", recipient) == f"x {forged} y"
    assert marketer.password not in templating.render_text(f"{forged}", recipient)


def test_the_form_rejects_unknown_fields_and_lists_the_valid_ones():
    form = EmailTemplateForm({"name": "T", "subject_en": "Hi {frist_name}", "html_en": "<p>{owner.password}</p>"})
    assert not form.is_valid()
    assert "Unknown merge field: {frist_name}" in form.errors["subject_en"][0]
    assert "{first_name}" in form.errors["subject_en"][0] and "{unsubscribe_url}" in form.errors["subject_en"][0]
    # "{owner.password}" is not a field name at all: it stays text, as typed
    assert "html_en" not in form.errors


def test_a_contact_named_script_cannot_inject(marketer):
    account = AccountFactory(owner=marketer, name='"><img src=x onerror=alert(1)>')
    contact = ContactFactory(owner=marketer, first_name="<script>alert(1)</script>", account=account)
    html = '<p>Dear {first_name}</p><p><a href="https://example.com/?c={company}">{company}</a></p>'
    rendered = mailings.render(subject="Hi {first_name}", body=templating.html_to_text(html), html=html,
                               contact=contact, language="en", unsubscribe_url=BASE + "/u/",
                               preferences_url=BASE + "/p/")
    tags = elements(rendered.html)
    assert "script" not in {tag for tag, _attrs in tags} and "img" not in {tag for tag, _attrs in tags}
    assert not [name for _tag, attrs in tags for name, _value in attrs if name.startswith("on")]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered.html
    # the plain-text part and the subject are not HTML: the value as it is
    assert rendered.subject == "Hi <script>alert(1)</script>"
    assert "Dear <script>alert(1)</script>" in rendered.text


def elements(html: str) -> list[tuple[str, list]]:
    """Every element of the HTML with its attributes, as a mail client would parse it."""
    found = []

    class Parser(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, attrs))

    Parser().feed(html)
    return found


def test_a_value_cannot_become_a_javascript_link(marketer):
    contact = ContactFactory(owner=marketer, first_name="javascript:alert(1)")
    rendered = mailings.render(subject="", body="", html='<a href="{first_name}">x</a>', contact=contact,
                               language="en", unsubscribe_url=BASE + "/u/", preferences_url=BASE + "/p/")
    hrefs = [value for tag, attrs in elements(rendered.html) if tag == "a" for name, value in attrs if name == "href"]
    assert not [href for href in hrefs if "javascript" in href]


def test_unsubscribe_url_as_a_link(marketer):
    contact = ContactFactory(owner=marketer)
    rendered = mailings.render(subject="", body="", html='<p><a href="{unsubscribe_url}">Leave</a></p>',
                               contact=contact,
                               language="en", unsubscribe_url=BASE + "/u/T/", preferences_url=BASE + "/p/")
    assert f'<a href="{BASE}/u/T/" rel="noopener noreferrer">Leave</a>' in rendered.html


# --- Plain text from HTML ---------------------------------------------------------------------------


def test_plain_text_keeps_paragraphs_lists_and_links():
    html = ('<h2>Spring</h2><p>Hello <strong>{first_name}</strong>,<br>see '
            '<a href="https://example.com/new">our range</a>.'
            '</p><ul><li>One</li><li>Two</li></ul><p><a href="https://example.com/x">https://example.com/x</a> '
            '<a href="mailto:sales@example.com">sales@example.com</a></p><script>x</script>')
    assert templating.html_to_text(html) == (
        "Spring\n\nHello {first_name},\nsee our range (https://example.com/new).\n\n- One\n- Two\n\n"
        "https://example.com/x sales@example.com")


# --- Messages: multipart, headers, per-language ------------------------------------------------------


@pytest.fixture
def outbox(settings, tmp_path):
    settings.EMAIL_OUTBOX_DIR = tmp_path / "mail"
    settings.MAILERS = {"default": {"BACKEND": "crm.mail.OutboxBackend"}}
    return tmp_path / "mail"


def sent(folder):
    return [email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            for path in sorted(folder.glob("*.eml"))] if folder.exists() else []


@pytest.fixture
def html_mailing(marketer, owner):
    people = [ContactFactory(owner=owner, first_name=name, emails=[f"{name.lower()}@example.com"], email_opt_in=True)
              for name in ("Anna", "Boris")]
    static_list = services.static_list_create(actor=marketer, name="L")
    services.static_list_add(static_list=static_list, actor=marketer, contacts=Contact.objects.all())
    html = '<p>Hello {first_name}, see <a href="https://example.com/new">the range</a>.</p>'
    ru_html = '<p>Привет, {first_name}! <a href="https://example.com/ru">Новинки</a></p>'
    mailing = services.mailing_create(
        actor=marketer, campaign=CampaignFactory(owner=marketer), static_list=static_list, language="en",
        subject="News for {first_name}", body=templating.html_to_text(html), html=html,
        versions={"ru": ("Новости для {first_name}", templating.html_to_text(ru_html), ru_html)})
    from marketing.models import ContactPreference

    ContactPreference.objects.create(contact=people[1], language="ru")
    return mailing


def test_an_html_mailing_is_multipart_alternative_with_both_unsubscribe_forms(
        outbox, marketer, html_mailing, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        assert mailings.mailing_start(mailing=html_mailing, actor=marketer, base_url=BASE)
    mailings.mailing_send(html_mailing.pk)
    by_to = {str(message["To"]): message for message in sent(outbox)}
    anna = by_to["anna@example.com"]
    assert anna.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in anna.iter_parts()] == ["text/plain", "text/html"]
    text, html = anna.get_body(("plain",)).get_content(), anna.get_body(("html",)).get_content()
    assert "Hello Anna, see the range (https://crm.example.com/marketing/t/c/" in text
    assert "<p>Hello Anna, see <a href=\"https://crm.example.com/marketing/t/c/" in html  # tracked link
    assert "/marketing/t/o/" in html  # the open pixel
    header = str(anna["List-Unsubscribe"])
    https, mailto = (part.strip().strip("<>") for part in header.split(","))
    delivery = Delivery.objects.get(mailing=html_mailing, email="anna@example.com")
    assert https.startswith(BASE + "/marketing/unsubscribe/")
    assert mailings.delivery_for_token(https.rstrip("/").rsplit("/", 1)[1]).pk == delivery.pk
    assert mailto == f"mailto:{bounces.unsubscribe_address(delivery.pk)}?subject=unsubscribe"
    assert mailto.startswith(f"mailto:unsubscribe+{delivery.pk}-")
    assert str(anna["List-Unsubscribe-Post"]) == "List-Unsubscribe=One-Click"
    assert https in html and https in text  # the visible link in both parts
    # Boris chose Russian: his own version
    boris = by_to["boris@example.com"]
    assert str(boris["Subject"]) == "Новости для Boris" and str(boris["Content-Language"]) == "ru"
    assert "Привет, Boris!" in boris.get_body(("html",)).get_content()


def test_the_tracked_html_link_leads_to_its_target(client, outbox, marketer, html_mailing,
                                                   django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        mailings.mailing_start(mailing=html_mailing, actor=marketer, base_url=BASE)
    mailings.mailing_send(html_mailing.pk)
    html = next(m for m in sent(outbox) if str(m["To"]) == "anna@example.com").get_body(("html",)).get_content()
    path = html.split('href="' + BASE)[1].split('"')[0]
    response = client.get(path)
    assert response.status_code == 302 and response["Location"] == "https://example.com/new"


def test_a_plain_text_mailing_still_works(outbox, marketer, owner, django_capture_on_commit_callbacks):
    """Mailings written before templates (no HTML) go out as before: the text, and an HTML copy of it only
    for tracking."""
    ContactFactory(owner=owner, first_name="Old", emails=["old@example.com"], email_opt_in=True)
    static_list = services.static_list_create(actor=marketer, name="L")
    services.static_list_add(static_list=static_list, actor=marketer, contacts=Contact.objects.all())
    mailing = services.mailing_create(actor=marketer, campaign=CampaignFactory(owner=marketer), static_list=static_list,
                                      subject="S", body="Hi {first_name}", track=False)
    with django_capture_on_commit_callbacks():
        mailings.mailing_start(mailing=mailing, actor=marketer, base_url=BASE)
    mailings.mailing_send(mailing.pk)
    (message,) = sent(outbox)
    assert message.get_content_type() == "text/plain" and message.get_content().startswith("Hi Old")


# --- Unsubscribing by mail --------------------------------------------------------------------------


def test_a_mail_to_the_unsubscribe_address_unsubscribes(tmp_path, outbox, marketer, html_mailing,
                                                        django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        mailings.mailing_start(mailing=html_mailing, actor=marketer, base_url=BASE)
    mailings.mailing_send(html_mailing.pk)
    delivery = Delivery.objects.get(mailing=html_mailing, email="anna@example.com")
    other = Delivery.objects.get(mailing=html_mailing, email="boris@example.com")
    box = mailbox.Maildir(tmp_path / "drop", create=True)
    for to in (bounces.unsubscribe_address(delivery.pk),
               f"unsubscribe+{other.pk}-0000000000000000@{bounces.bounce_address()[1]}"):  # forged signature
        raw = Raw()
        raw["From"], raw["To"], raw["Subject"] = "someone@example.com", to, "unsubscribe"
        raw.set_content("")
        box.add(raw.as_bytes())
    bounces.read_maildir(tmp_path / "drop")
    assert Contact.objects.get(pk=delivery.contact_id).email_opted_out_at is not None
    assert Delivery.objects.get(pk=delivery.pk).unsubscribed_at is not None
    assert Contact.objects.get(pk=other.contact_id).email_opted_out_at is None  # the forged one changed nothing
    assert not list(box.iterkeys())  # both read and removed


# --- Template pages -----------------------------------------------------------------------------------


def template_data(**fields):
    data = {"name": "Spring", "topic": "", "subject_en": "Hello {first_name}", "html_en": "<p>Hi {first_name}</p>",
            "subject_ru": "Привет, {first_name}", "html_ru": "<p>Привет</p>", "subject_uk": "", "html_uk": ""}
    data.update(fields)
    return data


def test_a_marketer_creates_edits_and_deletes_a_template(client, marketer):
    client.force_login(marketer)
    response = client.post(reverse("marketing:template_create"),
                           template_data(html_en='<p onclick="x()">Hi {first_name}</p><script>x()</script>'))
    template = EmailTemplate.objects.get()
    assert response.status_code == 302 and response["Location"] == template.get_absolute_url()
    assert dict(template.versions.values_list("language", "html")) == {"en": "<p>Hi {first_name}</p>",
                                                                       "ru": "<p>Привет</p>"}
    client.post(reverse("marketing:template_edit", args=[template.pk]),
                template_data(subject_ru="", html_ru="", subject_uk="Привіт", html_uk="<p>Привіт</p>"))
    assert sorted(template.versions.values_list("language", flat=True)) == ["en", "uk"]
    response = client.post(reverse("marketing:template_create"), template_data(subject_en="", html_en="", subject_ru="",
                                                                               html_ru=""))
    assert "Write the template in at least one language." in response.content.decode()
    client.post(reverse("marketing:template_delete", args=[template.pk]))
    assert not EmailTemplate.objects.visible_to(marketer).exists()
    assert client.get(template.get_absolute_url()).status_code == 404


def test_template_visibility_follows_campaigns(client, marketer, owner, support_agent, outsider):
    template = services.template_save(actor=marketer, template=None, name="Shared", topic=None,
                                      versions={"en": ("S", "<p>x</p>")})
    client.force_login(support_agent)
    assert client.get(reverse("marketing:template_list")).status_code in (403, 404)
    assert client.get(template.get_absolute_url()).status_code == 404
    client.force_login(owner)  # a rep reads every template (like campaigns) but edits only their own
    assert client.get(template.get_absolute_url()).status_code == 200
    assert client.get(reverse("marketing:template_edit", args=[template.pk])).status_code == 403
    assert client.post(reverse("marketing:template_delete", args=[template.pk])).status_code == 403
    assert EmailTemplate.objects.filter(pk=template.pk, deleted_at__isnull=True).exists()


def test_the_template_list_query_count(client, marketer, django_assert_max_num_queries):
    for n in range(8):
        services.template_save(actor=marketer, template=None, name=f"T{n}", topic=None,
                               versions={"en": ("S", "<p>x</p>"), "ru": ("С", "<p>х</p>")})
    client.force_login(marketer)
    with django_assert_max_num_queries(15):
        assert client.get(reverse("marketing:template_list")).status_code == 200


def test_a_mailing_is_created_from_a_template(client, marketer):
    topic = Topic.objects.create(name="News")
    template = services.template_save(actor=marketer, template=None, name="T", topic=topic,
                                      versions={"en": ("Hello {first_name}", "<p>Hi</p>"),
                                                "uk": ("Привіт", "<p>Вітаю</p>")})
    campaign = CampaignFactory(owner=marketer)
    client.force_login(marketer)
    url = reverse("marketing:mailing_create", args=[campaign.pk])
    body = client.get(url + f"?template={template.pk}").content.decode()
    assert "Hello {first_name}" in body and "&lt;p&gt;Вітаю&lt;/p&gt;" in body
    assert 'id="mailing-template-chosen"' in body
    other = services.template_save(actor=UserFactory(role="sales_rep"), template=None, name="X", topic=None,
                                   versions={"en": ("S", "<p>x</p>")})
    EmailTemplate.objects.filter(pk=other.pk).update(deleted_at=timezone.now())
    assert client.get(url + f"?template={other.pk}").status_code == 404


# --- Preview and the test to oneself -------------------------------------------------------------------


@pytest.fixture
def template(marketer):
    return services.template_save(actor=marketer, template=None, name="T", topic=None,
                                  versions={"en": ("Hello {first_name}", "<p>Hi {first_name} from {company}</p>"),
                                            "ru": ("Привет, {first_name}", "<p>Здравствуйте, {first_name}</p>")})


def test_preview_with_a_chosen_contact_in_each_language(client, marketer, owner, template):
    contact = ContactFactory(owner=owner, first_name="Zoya", account=AccountFactory(owner=owner, name="Acme"))
    client.force_login(marketer)
    url = template.get_absolute_url()
    body = client.get(url, {"contact": contact.pk, "language": "en"}).content.decode()
    assert "Hello Zoya" in body and "Hi Zoya from Acme" in body
    body = client.get(url, {"contact": contact.pk, "language": "ru"}).content.decode()
    assert "Привет, Zoya" in body and "Здравствуйте, Zoya" in body


def test_preview_with_a_contact_the_user_may_not_see_is_refused(client, owner, outsider, template):
    hidden = ContactFactory(owner=outsider, first_name="Secret")
    client.force_login(owner)  # a rep sees only their own contacts
    body = client.get(template.get_absolute_url(), {"contact": hidden.pk}).content.decode()
    assert "Choose a contact you may see." in body and "Secret" not in body
    body = client.get(template.get_absolute_url(), {"contact": "999999"}).content.decode()
    assert "Choose a contact you may see." in body
    response = client.post(reverse("marketing:template_test", args=[template.pk]), {"contact": hidden.pk,
                                                                                     "language": "en"})
    assert response.status_code == 302 and not OutboxMail.objects.exists()


def test_a_test_goes_only_to_the_signed_in_user_and_is_rate_limited(client, marketer, owner, template, outbox):
    contact = ContactFactory(owner=owner, first_name="Zoya", emails=["zoya@example.com"])
    client.force_login(marketer)
    url = reverse("marketing:template_test", args=[template.pk])
    for _n in range(mailings.TEST_SENDS_PER_HOUR):
        client.post(url, {"contact": contact.pk, "language": "ru", "to": "victim@example.com"})
    mails = list(OutboxMail.objects.all())
    assert len(mails) == mailings.TEST_SENDS_PER_HOUR
    assert all(mail.recipients == [marketer.email] for mail in mails)
    raw = email.message_from_bytes(bytes(mails[0].raw), policy=email.policy.default)
    assert str(raw["Subject"]).startswith("[Тест] Привет, Zoya")
    assert "Здравствуйте, Zoya" in raw.get_body(("html",)).get_content()
    response = client.post(url, {"contact": contact.pk, "language": "ru"}, follow=True)
    assert "wait a little before the next" in response.content.decode()
    assert OutboxMail.objects.count() == mailings.TEST_SENDS_PER_HOUR


def test_a_mailing_draft_is_previewed_and_tested(client, marketer, html_mailing, outbox):
    anna = Contact.objects.get(first_name="Anna")
    client.force_login(marketer)
    body = client.get(html_mailing.get_absolute_url(), {"contact": anna.pk, "language": "ru"}).content.decode()
    assert "Новости для Anna" in body
    client.post(reverse("marketing:mailing_test", args=[html_mailing.pk]), {"contact": anna.pk, "language": "en"})
    (mail,) = OutboxMail.objects.all()
    assert mail.recipients == [marketer.email] and mail.subject == "[Test] News for Anna"
    assert not Delivery.objects.exists()  # a test is not a delivery: the mailing is still a draft


# --- New-product notices ------------------------------------------------------------------------------


@pytest.fixture
def new_product(db):
    return Product.objects.create(sku="NP-1", name="Drill {first_name} X", family="Tools", is_new=True,
                                  description="Cordless.\nTwo batteries.", default_price=99, currency="EUR")


def test_a_new_product_is_announced_to_its_family_topic(client, marketer, owner, new_product,
                                                        django_capture_on_commit_callbacks, outbox):
    topic = Topic.objects.create(name="Tool news", product_family="tools")
    Topic.objects.create(name="Other", product_family="Garden")
    fan = ContactFactory(owner=owner, first_name="Fan", emails=["fan@example.com"], email_opt_in=True)
    ContactFactory(owner=owner, first_name="Not", emails=["not@example.com"], email_opt_in=True)
    TopicSubscription.objects.create(contact=fan, topic=topic)
    campaign = CampaignFactory(owner=marketer)
    assert list(notices.topics_for(new_product)) == [topic]
    client.force_login(marketer)
    assert 'id="product-announce"' in client.get(new_product.get_absolute_url()).content.decode()
    response = client.post(reverse("marketing:product_notice", args=[new_product.pk]),
                           {"campaign": campaign.pk, "topic": topic.pk})
    mailing = Mailing.objects.get()
    assert response["Location"] == mailing.get_absolute_url()
    assert (mailing.topic, mailing.product, mailing.segment, mailing.static_list) == (topic, new_product, None, None)
    assert mailing.status == MailingStatus.DRAFT and mailing.versions.count() == 2
    assert "<h2>Drill {first_name} X</h2>" in mailing.html and "Cordless.<br>Two batteries." in mailing.html
    with django_capture_on_commit_callbacks():
        client.post(reverse("marketing:mailing_send", args=[mailing.pk]))
    mailings.mailing_send(mailing.pk)
    (message,) = sent(outbox)
    assert str(message["To"]) == "fan@example.com"
    assert "<h2>Drill Fan X</h2>" in message.get_body(("html",)).get_content()  # braces are merge fields anywhere


def test_only_a_new_product_is_announced(client, marketer, new_product):
    Product.objects.filter(pk=new_product.pk).update(is_new=False)
    topic = Topic.objects.create(name="Tool news", product_family="Tools")
    client.force_login(marketer)
    assert 'id="product-announce"' not in client.get(new_product.get_absolute_url()).content.decode()
    response = client.post(reverse("marketing:product_notice", args=[new_product.pk]),
                           {"campaign": CampaignFactory(owner=marketer).pk, "topic": topic.pk})
    assert "Only a product marked as new can be announced." in response.content.decode()
    assert not Mailing.objects.exists()


def test_a_rep_cannot_announce_with_someone_elses_campaign(client, owner, marketer, new_product):
    topic = Topic.objects.create(name="Tool news", product_family="Tools")
    client.force_login(owner)
    response = client.post(reverse("marketing:product_notice", args=[new_product.pk]),
                           {"campaign": CampaignFactory(owner=marketer).pk, "topic": topic.pk})
    assert response.status_code in (200, 403) and not Mailing.objects.exists()
