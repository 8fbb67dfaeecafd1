"""Subscriptions: topics an admin defines, the public preference page behind a signed link with an
expiry (a forged or expired link changes nothing), topic mailings that leave out non-subscribers, and
each recipient's chosen language honoured when the mailing has that version."""

import time

import pytest
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from contacts.models import Contact
from contacts.tests.factories import ContactFactory
from marketing import mailings, services, subscriptions
from marketing.models import ContactPreference, Delivery, DeliveryStatus, MailingVersion, Topic, TopicSubscription
from marketing.tests.factories import CampaignFactory
from marketing.tests.test_mailings import BASE, outbox, sent_messages  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def topics(db):
    return {name: Topic.objects.create(name=name) for name in ("Новинки", "Events")} | {
        "Old": Topic.objects.create(name="Old", is_active=False)}


@pytest.fixture
def anna(owner):
    return ContactFactory(owner=owner, first_name="Анна", last_name="Коваленко", emails=["anna@example.com"],
                          email_opt_in=True)


def page_url(contact_id: int) -> str:
    return reverse("marketing:preferences", args=[subscriptions.preference_token(contact_id)])


def expired_url(contact_id: int, monkeypatch, settings) -> str:
    settings.MARKETING_PREFERENCE_LINK_DAYS = 60
    real_time = time.time
    monkeypatch.setattr(signing.time, "time", lambda: real_time() - 61 * 24 * 3600)  # signed 61 days ago
    url = page_url(contact_id)
    monkeypatch.setattr(signing.time, "time", real_time)
    return url


def state(contact):
    contact.refresh_from_db()
    return (subscriptions.language_of(contact), sorted(subscriptions.subscribed_topic_ids(contact)),
            contact.email_opt_in, contact.email_opted_out_at)


# --- The preference page ------------------------------------------------------------------------------


def test_the_page_shows_the_offered_topics_without_sign_in(client, anna, topics):
    response = client.get(page_url(anna.pk))
    assert response.status_code == 200
    text = response.content.decode()
    assert "anna@example.com" in text and "Новинки" in text and "Events" in text
    assert "Old" not in text  # a topic no longer offered is not on the page
    assert "Unsubscribe from all marketing e-mail" in text


def test_saving_language_and_topics_records_the_source(client, anna, topics):
    TopicSubscription.objects.create(contact=anna, topic=topics["Old"])  # stays: not on the page
    TopicSubscription.objects.create(contact=anna, topic=topics["Events"])
    response = client.post(page_url(anna.pk), {"language": "uk", "topics": [topics["Новинки"].pk]})
    assert response.status_code == 302 and response.url.endswith("?saved=1")
    assert state(anna)[:2] == ("uk", sorted([topics["Новинки"].pk, topics["Old"].pk]))
    added = TopicSubscription.objects.get(contact=anna, topic=topics["Новинки"])
    assert added.source == "preference page"
    events = TopicSubscription.pgh_event_model.objects.filter(contact=anna).order_by("pgh_id")
    assert [(event.pgh_label, event.topic_id) for event in events] == [
        ("insert", topics["Old"].pk), ("insert", topics["Events"].pk), ("delete", topics["Events"].pk),
        ("insert", topics["Новинки"].pk)]
    assert events.last().pgh_context.metadata["source"] == "preference page"
    # The page now speaks the chosen language.
    assert '<html lang="uk"' in client.get(page_url(anna.pk) + "?saved=1").content.decode()


def test_unsubscribe_from_everything_and_come_back(client, anna, topics):
    client.post(page_url(anna.pk), {"language": "", "topics": [topics["Events"].pk], "stop_all": "on"})
    anna.refresh_from_db()
    assert not anna.email_opt_in and anna.email_opted_out_at is not None
    assert "You receive no marketing e-mail from us." in client.get(page_url(anna.pk)).content.decode()
    client.post(page_url(anna.pk), {"language": "", "topics": [topics["Events"].pk], "resume": "on"})
    anna.refresh_from_db()
    assert anna.email_opt_in and anna.email_opted_out_at is None
    assert anna.email_opt_in_source == "preference page" and anna.email_opt_in_wording


def test_a_forged_link_shows_nothing_and_changes_nothing(client, anna, topics):
    before = state(anna)
    token = subscriptions.preference_token(anna.pk)
    for forged in (token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
                   signing.dumps(anna.pk, salt="marketing.unsubscribe", compress=True),  # another purpose
                   "forged-0123456789abcdef"):
        url = reverse("marketing:preferences", args=[forged])
        response = client.get(url)
        assert response.status_code == 404 and "anna@example.com" not in response.content.decode()
        response = client.post(url, {"language": "ru", "topics": [topics["Events"].pk], "stop_all": "on"})
        assert response.status_code == 404
    assert state(anna) == before


def test_an_expired_link_changes_nothing(client, anna, topics, monkeypatch, settings):
    before = state(anna)
    url = expired_url(anna.pk, monkeypatch, settings)
    response = client.get(url)
    assert response.status_code == 410 and "This link has expired" in response.content.decode()
    assert "anna@example.com" not in response.content.decode()
    assert client.post(url, {"language": "ru", "topics": [topics["Events"].pk], "stop_all": "on"}).status_code == 410
    assert state(anna) == before
    settings.MARKETING_PREFERENCE_LINK_DAYS = 90  # the same link within a longer lifetime works
    assert client.get(url).status_code == 200


def test_a_deleted_contact_link_is_not_valid(client, anna):
    Contact.objects.filter(pk=anna.pk).update(deleted_at=timezone.now())
    assert client.get(page_url(anna.pk)).status_code == 404


def test_bad_input_changes_nothing(client, anna, topics):
    before = state(anna)
    response = client.post(page_url(anna.pk), {"language": "xx", "topics": ["999999"]})
    assert response.status_code == 200 and "is-invalid" in response.content.decode()
    assert state(anna) == before


def test_the_page_answers_in_a_constant_number_of_queries(client, anna, topics, django_assert_max_num_queries):
    for n in range(5):
        Topic.objects.create(name=f"Topic {n}")
    with django_assert_max_num_queries(8):
        assert client.get(page_url(anna.pk)).status_code == 200


# --- Topics (admins) --------------------------------------------------------------------------------


def test_an_admin_adds_and_edits_topics(client, admin_user, anna, topics):
    client.force_login(admin_user)
    response = client.post(reverse("marketing:topic_list"), {"name": "Вебинары", "description": "", "is_active": "on"})
    assert response.status_code == 302
    topic = Topic.objects.get(name="Вебинары")
    TopicSubscription.objects.create(contact=anna, topic=topic)
    assert f'data-subscribers="{topic.pk}">1<' in client.get(reverse("marketing:topic_list")).content.decode()
    client.post(reverse("marketing:topic_edit", args=[topic.pk]), {"name": "Вебинары 2026", "description": "x"})
    topic.refresh_from_db()
    assert topic.name == "Вебинары 2026" and not topic.is_active
    response = client.post(reverse("marketing:topic_list"), {"name": "Вебинары 2026"})  # a duplicate
    assert response.status_code == 200 and Topic.objects.filter(name="Вебинары 2026").count() == 1


def test_only_admins_manage_topics(client, marketer, topics):
    client.force_login(marketer)
    assert client.get(reverse("marketing:topic_list")).status_code == 403
    assert client.post(reverse("marketing:topic_list"), {"name": "Mine"}).status_code == 403
    assert client.post(reverse("marketing:topic_edit", args=[topics["Events"].pk]), {"name": "X"}).status_code == 403
    assert not Topic.objects.filter(name__in=["Mine", "X"]).exists()


def test_the_topic_list_answers_in_a_constant_number_of_queries(client, admin_user, topics,
                                                                 django_assert_max_num_queries):
    client.force_login(admin_user)
    for n in range(10):
        Topic.objects.create(name=f"Topic {n}")
    with django_assert_max_num_queries(12):
        assert client.get(reverse("marketing:topic_list")).status_code == 200


# --- Mailings for a topic, in each reader's language -------------------------------------------------------


@pytest.fixture
def readers(owner, marketer, topics):
    people = {
        "ru": ContactFactory(owner=owner, first_name="Иван", emails=["ivan@example.com"], email_opt_in=True),
        "uk": ContactFactory(owner=owner, first_name="Олена", emails=["olena@example.com"], email_opt_in=True),
        "none": ContactFactory(owner=owner, first_name="Tom", emails=["tom@example.com"], email_opt_in=True),
        "other": ContactFactory(owner=owner, first_name="Off", emails=["off@example.com"], email_opt_in=True),
    }
    subscriptions.preferences_save(contact=people["ru"], language="ru", topics=[topics["Новинки"]])
    subscriptions.preferences_save(contact=people["uk"], language="uk", topics=[topics["Новинки"]])
    subscriptions.preferences_save(contact=people["none"], language="", topics=[topics["Новинки"]])
    subscriptions.preferences_save(contact=people["other"], language="ru", topics=[topics["Events"]])
    static_list = services.static_list_create(actor=marketer, name="Все")
    services.static_list_add(static_list=static_list, actor=marketer, contacts=Contact.objects.all())
    return people | {"list": static_list}


def test_a_topic_mailing_leaves_out_non_subscribers_and_speaks_each_language(
        outbox, marketer, readers, topics, django_capture_on_commit_callbacks):  # noqa: F811
    mailing = services.mailing_create(
        actor=marketer, campaign=CampaignFactory(owner=marketer), static_list=readers["list"], topic=topics["Новинки"],
        language="en", subject="News for {first_name}", body="Hello {first_name}",
        versions={"ru": ("Новости для {first_name}", "Здравствуйте, {first_name}")})
    with django_capture_on_commit_callbacks(execute=False):
        assert mailings.mailing_start(mailing=mailing, actor=marketer, base_url=BASE)
    rows = {row.email: row for row in Delivery.objects.filter(mailing=mailing)}
    assert rows["off@example.com"].status == DeliveryStatus.SUPPRESSED
    assert rows["off@example.com"].reason == "not subscribed to the topic"
    # The chosen language where the mailing has it; the mailing's own otherwise (no Ukrainian version).
    assert {email: row.language for email, row in rows.items() if row.status == DeliveryStatus.PENDING} == {
        "ivan@example.com": "ru", "olena@example.com": "en", "tom@example.com": "en"}
    assert mailings.mailing_send(mailing.pk) == 3
    by_address = {str(message["To"]): message for message in sent_messages()}
    assert set(by_address) == {"ivan@example.com", "olena@example.com", "tom@example.com"}
    ivan = by_address["ivan@example.com"]
    assert str(ivan["Subject"]) == "Новости для Иван" and str(ivan["Content-Language"]) == "ru"
    assert "Здравствуйте, Иван" in ivan.get_body(("plain",)).get_content()
    assert "Отписаться в один клик" in ivan.get_body(("plain",)).get_content()  # the footer in Russian
    tom = by_address["tom@example.com"]
    assert str(tom["Subject"]) == "News for Tom"
    assert "Choose your topics and language" in tom.get_body(("plain",)).get_content()


def test_the_preference_link_in_a_message_opens_the_page(client, outbox, marketer, readers, topics,  # noqa: F811
                                                          django_capture_on_commit_callbacks):
    mailing = services.mailing_create(actor=marketer, campaign=CampaignFactory(owner=marketer),
                                      static_list=readers["list"], language="en", subject="Hi", body="Hi")
    with django_capture_on_commit_callbacks(execute=False):
        mailings.mailing_start(mailing=mailing, actor=marketer, base_url=BASE)
    mailings.mailing_send(mailing.pk)
    message = next(m for m in sent_messages() if str(m["To"]) == "off@example.com")
    words = message.get_body(("plain",)).get_content().split()
    link = next(word for word in words if "/marketing/preferences/" in word)
    assert client.get(link.removeprefix(BASE)).status_code == 200
    client.post(link.removeprefix(BASE), {"language": "", "topics": [], "stop_all": "on"})
    assert not Contact.objects.get(pk=readers["other"].pk).email_opt_in


def test_a_mailing_without_a_topic_goes_to_everyone_who_agreed(outbox, marketer, readers,  # noqa: F811
                                                               django_capture_on_commit_callbacks):
    mailing = services.mailing_create(actor=marketer, campaign=CampaignFactory(owner=marketer),
                                      static_list=readers["list"], language="ru", subject="Привет", body="Текст")
    with django_capture_on_commit_callbacks(execute=False):
        mailings.mailing_start(mailing=mailing, actor=marketer, base_url=BASE)
    assert Delivery.objects.filter(mailing=mailing, status=DeliveryStatus.PENDING).count() == 4
    assert set(Delivery.objects.filter(mailing=mailing).values_list("language", flat=True)) == {"ru"}


def test_the_mailing_form_saves_versions_and_refuses_a_second_main_language(client, marketer, readers, topics):
    campaign = CampaignFactory(owner=marketer)
    client.force_login(marketer)
    url = reverse("marketing:mailing_create", args=[campaign.pk])
    data = {"static_list": readers["list"].pk, "topic": topics["Новинки"].pk, "language": "en", "subject": "Hi",
            "body": "Hello", "subject_uk": "Привіт", "body_uk": "Вітаємо"}
    response = client.post(url, {**data, "subject_en": "Again", "body_en": "Twice"})
    assert response.status_code == 200 and "The main text is already in this language." in response.content.decode()
    response = client.post(url, {**data, "subject_ru": "Без текста"})
    assert response.status_code == 200 and "Give this version a text too." in response.content.decode()
    assert not MailingVersion.objects.exists()
    response = client.post(url, data)
    assert response.status_code == 302
    version = MailingVersion.objects.get()
    assert (version.language, version.subject, version.body) == ("uk", "Привіт", "Вітаємо")
    assert version.mailing.topic == topics["Новинки"]
    assert "English, Ukrainian" in client.get(response.url).content.decode()
    assert ContactPreference.objects.count() == 4


def test_the_contact_page_shows_the_choices_and_a_bounced_address(client, marketer, support_agent, anna, topics):
    from marketing.models import BouncedAddress

    url = anna.get_absolute_url()
    client.force_login(marketer)
    assert 'id="contact-email-preferences"' not in client.get(url).content.decode()  # nothing to say yet
    subscriptions.preferences_save(contact=anna, language="uk", topics=[topics["Новинки"], topics["Events"]])
    BouncedAddress.objects.create(email="anna@example.com", suppressed_at=timezone.now())
    body = client.get(url).content.decode()
    assert 'data-preference="language">Ukrainian<' in body
    assert 'data-preference="topics">Events, Новинки<' in body and 'data-preference="bounced"' in body
    client.force_login(support_agent)  # reads contacts, not campaigns
    assert 'id="contact-email-preferences"' not in client.get(url).content.decode()


def test_topic_names_in_the_readers_language(client, admin_user, anna, topics):
    client.force_login(admin_user)
    topic = topics["Events"]
    client.post(reverse("marketing:topic_edit", args=[topic.pk]), {
        "name": "Events", "is_active": "on", "name_ru": "Мероприятия", "name_uk": "Заходи", "name_en": " "})
    topic.refresh_from_db()
    assert topic.translations == {"ru": "Мероприятия", "uk": "Заходи"}
    assert 'value="Мероприятия"' in client.get(reverse("marketing:topic_edit", args=[topic.pk])).content.decode()
    client.logout()
    ContactPreference.objects.create(contact=anna, language="uk")
    body = client.get(page_url(anna.pk)).content.decode()
    assert "Заходи" in body and "Мероприятия" not in body and "Новинки" in body  # no translation: the name
    ContactPreference.objects.filter(contact=anna).update(language="")
    assert "Events" in client.get(page_url(anna.pk), HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_topic_descriptions_in_the_readers_language(client, admin_user, anna, topics):
    client.force_login(admin_user)
    topic = topics["Events"]
    response = client.post(reverse("marketing:topic_edit", args=[topic.pk]), {
        "name": "Events", "description": "Invitations to our events", "is_active": "on",
        "description_uk": "Запрошення на наші заходи", "description_ru": " ", "description_en": ""})
    assert response.status_code == 302
    topic.refresh_from_db()
    assert topic.description_translations == {"uk": "Запрошення на наші заходи"}
    client.logout()
    ContactPreference.objects.create(contact=anna, language="uk")
    body = client.get(page_url(anna.pk)).content.decode()
    assert "Запрошення на наші заходи" in body and "Invitations to our events" not in body
    ContactPreference.objects.filter(contact=anna).update(language="ru")  # no Russian text: the description
    assert "Invitations to our events" in client.get(page_url(anna.pk)).content.decode()
    # A description is text, never markup.
    Topic.objects.filter(pk=topic.pk).update(description_translations={"ru": "<script>alert(1)</script>"})
    body = client.get(page_url(anna.pk)).content.decode()
    assert "<script>alert(1)</script>" not in body and "&lt;script&gt;alert(1)&lt;/script&gt;" in body


# --- Staff change a contact's topics -----------------------------------------------------------------


def test_staff_change_a_contacts_topics_recorded_as_staff(client, owner, anna, topics):
    TopicSubscription.objects.create(contact=anna, topic=topics["Old"])  # not offered: stays
    TopicSubscription.objects.create(contact=anna, topic=topics["Events"])
    client.force_login(owner)
    assert 'id="contact-topics-change"' in client.get(anna.get_absolute_url()).content.decode()
    url = reverse("marketing:contact_topics", args=[anna.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"language": "uk", "topics": [topics["Новинки"].pk]})
    assert response.status_code == 302 and response["Location"] == anna.get_absolute_url()
    assert state(anna)[:3] == ("uk", sorted([topics["Новинки"].pk, topics["Old"].pk]), True)
    assert TopicSubscription.objects.get(contact=anna, topic=topics["Новинки"]).source == "staff"
    events = TopicSubscription.pgh_event_model.objects.filter(contact=anna).order_by("pgh_id")
    removed, added = events[len(events) - 2:]
    assert (removed.pgh_label, removed.topic_id, added.pgh_label) == ("delete", topics["Events"].pk, "insert")
    for event in (removed, added):
        assert event.pgh_context.metadata["source"] == "staff" and event.pgh_context.metadata["actor"] == owner.pk
    language = ContactPreference.pgh_event_model.objects.filter(contact=anna).last()
    assert language.language == "uk" and language.pgh_context.metadata["source"] == "staff"


def test_staff_cannot_opt_a_contact_back_in(client, owner, anna, topics):
    Contact.objects.filter(pk=anna.pk).update(email_opt_in=False, email_opted_out_at=timezone.now())
    client.force_login(owner)
    url = reverse("marketing:contact_topics", args=[anna.pk])
    assert 'id="contact-topics-stopped"' in client.get(url).content.decode()
    client.post(url, {"language": "", "topics": [topics["Events"].pk], "resume": "on", "stop_all": ""})
    assert state(anna)[2] is False  # topics recorded, the opt-out stands


def test_who_may_change_a_contacts_topics(client, anna, topics, outsider, support_agent):
    url = reverse("marketing:contact_topics", args=[anna.pk])
    client.force_login(outsider)  # does not see the contact
    assert client.post(url, {"topics": [topics["Events"].pk]}).status_code == 404
    client.force_login(support_agent)  # reads the contact, not marketing
    assert client.post(url, {"topics": [topics["Events"].pk]}).status_code == 403
    assert not TopicSubscription.objects.filter(contact=anna).exists()


def test_a_forged_topic_changes_nothing(client, owner, anna, topics):
    client.force_login(owner)
    url = reverse("marketing:contact_topics", args=[anna.pk])
    for bad in ([topics["Old"].pk], [999999], ["x"]):
        response = client.post(url, {"language": "", "topics": bad})
        assert response.status_code == 200 and "is-invalid" in response.content.decode()
    response = client.post(url, {"language": "xx", "topics": []})
    assert response.status_code == 200 and "is-invalid" in response.content.decode()
    assert state(anna)[:2] == ("", [])
