"""Marketing e-mail on the contact's timeline: opens, clicks, unsubscribes and bounces, once per
mailing, for the roles that read campaigns; the contact page stays within its query budget."""

import datetime

from django.utils import timezone

from activities.timeline import timeline_page
from contacts.tests.factories import ContactFactory
from marketing import services
from marketing.models import Delivery, DeliveryStatus, Mailing
from marketing.tests.factories import CampaignFactory


def mailing_to(marketer, contact, subject, **events):
    static_list = services.static_list_create(actor=marketer, name=f"List {subject}")
    mailing = Mailing.objects.create(owner=marketer, team=marketer.team, campaign=CampaignFactory(owner=marketer),
                                     static_list=static_list, subject=subject, body="Текст", status="sent")
    return Delivery.objects.create(mailing=mailing, contact=contact, email=contact.emails[0],
                                   status=DeliveryStatus.SENT, **events)


def test_opens_clicks_unsubscribes_and_bounces_are_on_the_timeline(client, marketer, owner, support_agent,
                                                                   django_assert_max_num_queries):
    contact = ContactFactory(owner=owner)
    now = timezone.now()
    hour = datetime.timedelta(hours=1)
    mailing_to(marketer, contact, "Новинки ноября", sent_at=now - 5 * hour, opened_at=now - 4 * hour,
               clicked_at=now - 3 * hour, unsubscribed_at=now - 2 * hour)
    mailing_to(marketer, contact, "Скидки", sent_at=now - 10 * hour, bounce="hard", bounced_at=now - 9 * hour)
    mailing_to(marketer, contact, "Не открыто", sent_at=now - hour)  # nothing happened: no line
    client.force_login(marketer)
    with django_assert_max_num_queries(15):
        body = client.get(contact.get_absolute_url()).content.decode()
    for line in ("Opened the e-mail “Новинки ноября”", "Clicked a link in “Новинки ноября”",
                 "Unsubscribed through “Новинки ноября”", "“Скидки” bounced (Hard bounce)"):
        assert line in body
    assert "Не открыто" not in body
    titles = [item.title for item in timeline_page(user=marketer, contact=contact, kind="email").items]
    assert titles[0] == "Unsubscribed through “Новинки ноября”" and len(titles) == 4
    assert not [item for item in timeline_page(user=marketer, contact=contact, kind="call").items]
    client.force_login(support_agent)  # reads the contact, not marketing
    assert "Новинки ноября" not in client.get(contact.get_absolute_url()).content.decode()


def test_older_pages_go_on_below_the_cursor(marketer, owner):
    contact = ContactFactory(owner=owner)
    now = timezone.now()
    for day in range(30):
        sent = now - datetime.timedelta(days=day + 1)
        mailing_to(marketer, contact, f"Письмо {day}", sent_at=sent, opened_at=sent + datetime.timedelta(minutes=5))
    first = timeline_page(user=marketer, contact=contact)
    second = timeline_page(user=marketer, contact=contact, cursor=first.next_cursor)
    seen = [item.title for item in first.items + second.items]
    assert len(seen) == 30 == len(set(seen)) and not second.next_cursor
