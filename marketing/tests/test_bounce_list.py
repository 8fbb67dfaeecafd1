"""The bounced-address page: the addresses suppressed for good with their contacts, for marketers and
admins only; clearing one lets mailings reach it again (until it bounces anew)."""

from django.urls import reverse
from django.utils import timezone

from contacts.tests.factories import ContactFactory
from marketing import bounces
from marketing.models import BouncedAddress
from marketing.tests.test_timeline import mailing_to


def suppressed(email, **fields):
    return BouncedAddress.objects.create(email=email, suppressed_at=timezone.now(), **fields)


def test_the_page_lists_suppressed_addresses_with_their_contacts(client, marketer, owner,
                                                                 django_assert_max_num_queries):
    contact = ContactFactory(owner=owner, first_name="Ирина", last_name="Лебедева", emails=["irina@example.com"])
    suppressed("irina@example.com", hard_bounced_at=timezone.now(), last_reason="550 5.1.1 User unknown")
    suppressed("soft@example.com", soft_bounces=3)
    BouncedAddress.objects.create(email="once@example.com", soft_bounces=1)  # not suppressed: not listed
    for number in range(40):
        suppressed(f"bulk{number}@example.com")
    client.force_login(marketer)
    with django_assert_max_num_queries(15):
        body = client.get(reverse("marketing:bounce_list")).content.decode()
    assert "42" in body and "once@example.com" not in body
    body = client.get(reverse("marketing:bounce_list"), {"q": "IRINA"}).content.decode()
    assert "irina@example.com" in body and contact.get_absolute_url() in body and "User unknown" in body
    assert "soft@example.com" not in body


def test_clearing_an_address_lets_mail_reach_it_again(client, marketer, owner):
    address = suppressed("back@example.com", hard_bounced_at=timezone.now())
    client.force_login(marketer)
    response = client.post(reverse("marketing:bounce_clear", args=[address.pk]), follow=True)
    assert "back@example.com is cleared: mailings go to it again." in response.content.decode()
    address.refresh_from_db()
    assert address.suppressed_at is None and address.hard_bounced_at is None and address.cleared_by == marketer
    response = client.post(reverse("marketing:bounce_clear", args=[address.pk]), follow=True)  # twice
    assert "was not suppressed any more" in response.content.decode()
    # It bounces anew: suppressed again.
    contact = ContactFactory(owner=owner, emails=["back@example.com"])
    delivery = mailing_to(marketer, contact, "Снова", sent_at=timezone.now())
    assert bounces.record(bounces.Bounce(delivery_id=delivery.pk, kind=bounces.HARD, reason="550"))
    assert BouncedAddress.objects.get(pk=address.pk).suppressed_at is not None


def test_only_marketers_and_admins(client, owner, manager, executive, support_agent, admin_user):
    address = suppressed("private@example.com")
    for user in (owner, manager, executive, support_agent):  # a rep sees only their own customers' addresses
        client.force_login(user)
        assert client.get(reverse("marketing:bounce_list")).status_code == 403
        assert client.post(reverse("marketing:bounce_clear", args=[address.pk])).status_code == 403
    assert BouncedAddress.objects.get(pk=address.pk).suppressed_at is not None
    client.force_login(owner)
    assert reverse("marketing:bounce_list") not in client.get(reverse("marketing:overview")).content.decode()
    client.force_login(admin_user)
    assert client.get(reverse("marketing:bounce_list")).status_code == 200
