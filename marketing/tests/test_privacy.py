"""Data-subject requests cover what marketing keeps about a person: the export lists it, the erasure
removes what is only about them and keeps the rows campaign figures count, without the address."""

import pghistory
from django.utils import timezone

from contacts.models import Contact
from contacts.privacy import contact_erase, contact_personal_data
from contacts.tests.factories import ContactFactory
from marketing import calllists, services
from marketing.models import (
    BouncedAddress,
    CallListItem,
    CallResult,
    CallStatus,
    CampaignMember,
    ContactPreference,
    StaticListMember,
    Topic,
    TopicSubscription,
)
from marketing.tests.factories import CampaignFactory
from marketing.tests.test_timeline import mailing_to


def person_with_marketing(marketer, owner):
    contact = ContactFactory(owner=owner, first_name="Алла", last_name="Пугачёва", emails=["alla@example.com"],
                             phones=["+7 495 000-00-01"])
    other = ContactFactory(owner=owner, emails=["other@example.com"])
    now = timezone.now()
    delivery = mailing_to(marketer, contact, "Новинки", sent_at=now, opened_at=now, clicked_at=now)
    BouncedAddress.objects.create(email="alla@example.com", hard_bounced_at=now, suppressed_at=now)
    BouncedAddress.objects.create(email="other@example.com", hard_bounced_at=now, suppressed_at=now)
    with pghistory.context(source="preference page"):
        TopicSubscription.objects.create(contact=contact, topic=Topic.objects.create(name="Акции"), source="page")
        ContactPreference.objects.create(contact=contact, language="ru")
    services.static_list_add(static_list=delivery.mailing.static_list, actor=marketer,
                             contacts=Contact.objects.filter(pk__in=[contact.pk, other.pk]))
    campaign = CampaignFactory(owner=marketer, name="Обзвон")
    call_list = calllists.call_list_create(actor=marketer, campaign=campaign, name="Список", agents=[marketer],
                                           static_list=delivery.mailing.static_list)
    item = CallListItem.objects.get(call_list=call_list, contact=contact)
    CallListItem.objects.filter(pk=item.pk).update(claimed_by=marketer, claimed_at=now)
    calllists.call_log(call_list=call_list, agent=marketer, item_id=item.pk, result=CallResult.CALLBACK,
                       callback_at=now + timezone.timedelta(days=1), notes="Перезвонить после обеда")
    return contact, other, delivery, campaign


def test_the_export_has_every_marketing_row(marketer, owner):
    contact, _other, _delivery, _campaign = person_with_marketing(marketer, owner)
    data = contact_personal_data(contact)
    assert data["marketing_email"][0]["subject"] == "Новинки" and data["marketing_email"][0]["clicked"]
    assert data["marketing_email"][0]["address"] == "alla@example.com"
    assert data["topic_subscriptions"][0]["topic"] == "Акции" and data["email_language"] == "ru"
    assert data["static_lists"][0]["list"] == "List Новинки"
    assert data["call_lists"][0]["outcome"] == CallResult.CALLBACK and data["call_lists"][0]["campaign"] == "Обзвон"
    assert [(b["address"], bool(b["hard_bounce"])) for b in data["bounced_addresses"]] == [("alla@example.com", True)]
    assert any("Перезвонить после обеда" in a["details"] for a in data["activities"])


def test_erasure_removes_what_is_only_about_them_and_keeps_the_counts(marketer, owner, admin_user):
    contact, other, delivery, campaign = person_with_marketing(marketer, owner)
    contact_erase(contact=contact, actor=admin_user)
    delivery.refresh_from_db()
    assert delivery.email == "" and delivery.clicked_at is not None  # still counted, no address
    assert list(BouncedAddress.objects.values_list("email", flat=True)) == ["other@example.com"]
    assert not StaticListMember.objects.filter(contact=contact).exists()
    assert StaticListMember.objects.filter(contact=other).exists()
    assert not TopicSubscription.objects.filter(contact=contact).exists()
    assert not TopicSubscription.pgh_event_model.objects.filter(contact_id=contact.pk).exists()
    assert not ContactPreference.objects.filter(contact=contact).exists()
    assert not ContactPreference.pgh_event_model.objects.filter(pgh_obj_id=contact.pk).exists()
    item = CallListItem.objects.get(contact=contact)
    assert item.status == CallStatus.DONE and item.due_at is None
    assert CampaignMember.objects.filter(campaign=campaign, contact=contact).exists()  # figures keep counting
