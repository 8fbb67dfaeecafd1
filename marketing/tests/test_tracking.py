"""Open and click tracking: links of the mailing go through signed redirect links that lead only to a
link the mailing contains (a forged target is refused: never an open redirect), a pixel counts opens,
each once per recipient, counts on the mailing and the campaign, and a click makes the contact a
"responded" member of the campaign. Switched off per mailing."""

import re

import pytest
from django.core import signing
from django.urls import reverse
from django.utils.html import escape

from contacts.models import Contact
from contacts.tests.factories import ContactFactory
from marketing import mailings, services, tracking
from marketing.figures import campaign_figures
from marketing.models import CampaignMember, Delivery, LinkClick, MemberStatus
from marketing.tests.factories import CampaignFactory
from marketing.tests.test_mailings import BASE, outbox, sent_messages  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db

SHOP = "https://shop.example.com/spring?utm=mail"
GUIDE = "https://example.org/guide"


@pytest.fixture
def readers(owner, marketer):
    people = [ContactFactory(owner=owner, first_name=f"Читатель{n}", emails=[f"reader{n}@example.com"],
                             email_opt_in=True) for n in range(3)]
    ContactFactory(owner=owner, first_name="https://evil.example/x", emails=["sly@example.com"], email_opt_in=True)
    static_list = services.static_list_create(actor=marketer, name="Все")
    services.static_list_add(static_list=static_list, actor=marketer, contacts=Contact.objects.all())
    return {"people": people, "list": static_list}


def send(marketer, readers, django_capture_on_commit_callbacks, track=True, campaign=None):
    campaign = campaign or CampaignFactory(owner=marketer)
    mailing = services.mailing_create(
        actor=marketer, campaign=campaign, static_list=readers["list"], language="ru", track=track,
        subject="Весна", body=f"Здравствуйте, {{first_name}}! Новинки: {SHOP}. Читайте ({GUIDE}).")
    with django_capture_on_commit_callbacks(execute=False):
        assert mailings.mailing_start(mailing=mailing, actor=marketer, base_url=BASE)
    mailings.mailing_send(mailing.pk)
    return mailing


def message_to(address):
    return next(m for m in sent_messages() if str(m["To"]) == address)


def tracked_links(message) -> list[str]:
    return re.findall(re.escape(BASE) + r"/marketing/t/c/[^/\s]+/", message.get_body(("plain",)).get_content())


def path(url: str) -> str:
    return url.removeprefix(BASE)


def test_links_are_tracked_and_the_html_part_carries_the_pixel(outbox, marketer, readers,  # noqa: F811
                                                               django_capture_on_commit_callbacks):
    send(marketer, readers, django_capture_on_commit_callbacks)
    message = message_to("reader0@example.com")
    text = message.get_body(("plain",)).get_content()
    assert SHOP not in text and GUIDE not in text and len(tracked_links(message)) == 2
    assert "Читайте (" + BASE in text  # the punctuation around a link stays
    html = message.get_body(("html",)).get_content()
    assert re.search(r'<img src="' + re.escape(BASE) + r'/marketing/t/o/[^"]+" width="1" height="1" alt="">', html)
    assert "Здравствуйте, Читатель0!" in html
    # A link typed into a contact's name is merged as text, never tracked (nor a click target).
    sly = message_to("sly@example.com").get_body(("plain",)).get_content()
    assert "Здравствуйте, https://evil.example/x!" in sly and len(tracked_links(message_to("sly@example.com"))) == 2


def test_a_click_redirects_to_the_target_counts_once_and_the_contact_responded(
        client, outbox, marketer, readers, django_capture_on_commit_callbacks):  # noqa: F811
    mailing = send(marketer, readers, django_capture_on_commit_callbacks)
    reader = readers["people"][0]
    CampaignMember.objects.create(campaign=mailing.campaign, contact=reader, status=MemberStatus.SENT)
    shop_link, guide_link = tracked_links(message_to("reader0@example.com"))
    response = client.get(path(shop_link))
    assert response.status_code == 302 and response["Location"] == SHOP
    assert client.get(path(guide_link))["Location"] == GUIDE
    assert client.get(path(shop_link)).status_code == 302  # again: still leads there
    delivery = Delivery.objects.get(mailing=mailing, contact=reader)
    assert delivery.clicked_at and delivery.opened_at  # a click is an open too
    counts = mailings.counts(mailing)
    assert (counts.clicked, counts.opened) == (1, 1)  # once per recipient
    assert CampaignMember.objects.get(campaign=mailing.campaign, contact=reader).status == MemberStatus.RESPONDED

    # Someone who was not a member becomes one; a converted member stays converted.
    other, converted = readers["people"][1], readers["people"][2]
    CampaignMember.objects.create(campaign=mailing.campaign, contact=converted, status=MemberStatus.CONVERTED)
    client.get(path(tracked_links(message_to("reader1@example.com"))[0]))
    client.get(path(tracked_links(message_to("reader2@example.com"))[0]))
    members = dict(CampaignMember.objects.filter(campaign=mailing.campaign).values_list("contact_id", "status"))
    assert members[other.pk] == MemberStatus.RESPONDED and members[converted.pk] == MemberStatus.CONVERTED


def test_a_forged_target_is_never_followed(client, outbox, marketer, readers,  # noqa: F811
                                           django_capture_on_commit_callbacks):
    mailing = send(marketer, readers, django_capture_on_commit_callbacks)
    delivery = Delivery.objects.get(mailing=mailing, email="reader0@example.com")
    genuine = tracked_links(message_to("reader0@example.com"))[0]
    token = genuine.rstrip("/").rsplit("/", 1)[1]
    forged = [
        # correctly signed (as if the key had leaked) but naming a target the mailing does not contain
        tracking.click_url(BASE, delivery.pk, "https://evil.example/phish"),
        tracking.click_url(BASE, delivery.pk, SHOP + "&next=https://evil.example"),
        tracking.click_url(BASE, delivery.pk, "https://evil.example/x"),  # in a contact's name, not the mailing
        # altered or unsigned
        BASE + reverse("marketing:track_click", args=[token[:-3] + "abc"]),
        BASE + reverse("marketing:track_click", args=[signing.dumps([delivery.pk, SHOP], salt="marketing.open")]),
        BASE + reverse("marketing:track_click", args=["forged-0123456789abcdef"]),
    ]
    for url in forged:
        response = client.get(path(url))
        assert response.status_code == 404 and "Location" not in response
        assert "This link is not valid" in response.content.decode()
    delivery.refresh_from_db()
    assert delivery.clicked_at is None and not CampaignMember.objects.exists()


def test_the_pixel_counts_an_open_once(client, outbox, marketer, readers,  # noqa: F811
                                       django_capture_on_commit_callbacks):
    mailing = send(marketer, readers, django_capture_on_commit_callbacks)
    html = message_to("reader1@example.com").get_body(("html",)).get_content()
    pixel = re.search(r'<img src="([^"]+)"', html).group(1)
    for _ in range(3):
        response = client.get(path(pixel))
        assert response.status_code == 200 and response["Content-Type"] == "image/gif"
        assert response.content.startswith(b"GIF89a") and "no-store" in response["Cache-Control"]
    assert mailings.counts(mailing).opened == 1
    assert client.get(reverse("marketing:track_open", args=["forged"])).status_code == 404
    assert client.get(reverse("marketing:track_open", args=[signing.dumps(
        Delivery.objects.get(email="reader2@example.com").pk, salt="marketing.click")])).status_code == 404
    assert mailings.counts(mailing).opened == 1


def test_tracking_switched_off(client, outbox, marketer, readers, django_capture_on_commit_callbacks):  # noqa: F811
    mailing = send(marketer, readers, django_capture_on_commit_callbacks, track=False)
    message = message_to("reader0@example.com")
    assert not message.is_multipart() and SHOP in message.get_content() and not tracked_links(message)
    delivery = Delivery.objects.get(mailing=mailing, email="reader0@example.com")
    # Even a link signed while tracking was on leads nowhere once it is off.
    assert client.get(path(tracking.click_url(BASE, delivery.pk, SHOP))).status_code == 404
    assert client.get(path(tracking.open_url(BASE, delivery.pk))).status_code == 404
    client.force_login(marketer)
    assert 'id="mailing-untracked"' in client.get(mailing.get_absolute_url()).content.decode()


def test_counts_on_the_mailing_and_the_campaign_pages(client, outbox, marketer, readers,  # noqa: F811
                                                      django_capture_on_commit_callbacks):
    campaign = CampaignFactory(owner=marketer, name="Весенняя")
    first = send(marketer, readers, django_capture_on_commit_callbacks, campaign=campaign)
    client.get(path(tracked_links(message_to("reader0@example.com"))[1]))
    html = message_to("reader1@example.com").get_body(("html",)).get_content()
    client.get(path(re.search(r'<img src="([^"]+)"', html).group(1)))
    figures = campaign_figures(campaign)
    assert (figures.emails_sent, figures.emails_opened, figures.emails_clicked) == (4, 2, 1)
    client.force_login(marketer)
    body = client.get(first.get_absolute_url()).content.decode()
    assert 'data-count="opened">2<' in body and 'data-count="clicked">1<' in body
    body = client.get(campaign.get_absolute_url()).content.decode()
    assert 'data-figure="opened">2<' in body and "1 clicked, of 4 sent" in body


def test_clicks_are_counted_per_link_once_per_recipient(client, outbox, marketer, readers,  # noqa: F811
                                                        django_capture_on_commit_callbacks):
    mailing = send(marketer, readers, django_capture_on_commit_callbacks)
    first_shop, first_guide = tracked_links(message_to("reader0@example.com"))
    second_shop, _second_guide = tracked_links(message_to("reader1@example.com"))
    for link in (first_shop, first_shop, first_guide, second_shop, second_shop):  # repeats count once
        assert client.get(path(link)).status_code == 302
    assert [(link.url, link.clicks) for link in tracking.link_counts(mailing)] == [(SHOP, 2), (GUIDE, 1)]
    assert mailings.counts(mailing).clicked == 2  # recipients who clicked anything
    # A forged target is refused before anything is counted: it never becomes a row.
    forged = tracking.click_url(BASE, Delivery.objects.get(email="reader2@example.com").pk, "https://evil.example/")
    assert client.get(path(forged)).status_code == 404
    assert LinkClick.objects.filter(mailing=mailing).count() == 3
    client.force_login(marketer)
    body = client.get(mailing.get_absolute_url()).content.decode()
    assert f'data-link-clicks="{escape(SHOP)}">2<' in body and f'data-link-clicks="{GUIDE}">1<' in body


def test_a_link_nobody_clicked_is_listed_with_nought(client, outbox, marketer, readers,  # noqa: F811
                                                     django_capture_on_commit_callbacks):
    mailing = send(marketer, readers, django_capture_on_commit_callbacks)
    assert [(link.url, link.clicks) for link in tracking.link_counts(mailing)] == [(GUIDE, 0), (SHOP, 0)]


def test_a_link_only_in_the_html_part_is_tracked_and_followed(client, outbox, marketer, readers,  # noqa: F811
                                                              django_capture_on_commit_callbacks):
    offer = "https://shop.example.com/only-in-html"
    mailing = services.mailing_create(
        actor=marketer, campaign=CampaignFactory(owner=marketer), static_list=readers["list"], language="ru",
        subject="Весна", body="Здравствуйте, {first_name}! Предложение в письме.",
        html=f'<p>Здравствуйте, {{first_name}}! <a href="{offer}">Предложение</a></p>')
    with django_capture_on_commit_callbacks(execute=False):
        assert mailings.mailing_start(mailing=mailing, actor=marketer, base_url=BASE)
    mailings.mailing_send(mailing.pk)
    html = message_to("reader0@example.com").get_body(("html",)).get_content()
    [tracked] = re.findall(re.escape(BASE) + r"/marketing/t/c/[^/\"]+/", html)
    response = client.get(path(tracked))
    assert response.status_code == 302 and response["Location"] == offer
    assert offer in tracking.allowed_targets(mailing)
