"""Segments: each criterion, one query, visibility, saving, the live preview, and a whole segment
joining a campaign in one INSERT … SELECT."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import AccountFactory
from contacts.tests.factories import ContactFactory
from crm.models import Territory
from marketing import services
from marketing.models import CampaignMember, MemberStatus, Segment
from marketing.segments import contacts_in, describe, months_ago
from marketing.tests.factories import CampaignFactory
from sales.models import Order, OrderLine, OrderStatus
from sales.tests.factories import ProductFactory


def order(account, *, product=None, days_ago=10, status=OrderStatus.CONFIRMED):
    made = Order.objects.create(owner=account.owner, team=account.team, number=f"SO-{Order.objects.count() + 1}",
                                account=account, status=status,
                                ordered_on=timezone.localdate() - timedelta(days=days_ago))
    OrderLine.objects.create(order=made, product=product, name=product.name if product else "Service",
                             unit_price=Decimal("100.00"))
    return made


@pytest.fixture
def world(marketer, owner):
    europe = Territory.objects.create(name="Европа")
    germany = Territory.objects.create(name="Германия", parent=europe)
    widget = ProductFactory(name="Виджет Про")
    accounts = {
        "berlin": AccountFactory(owner=owner, name="Berlin Tools", industry="Manufacturing", territory=germany,
                                 type="customer", tier="key", is_vip=True, tags=["dach"]),
        "moscow": AccountFactory(owner=owner, name="ООО «СибЛес»", industry="Лесозаготовка", type="prospect",
                                 tier="small"),
        "lapsed": AccountFactory(owner=owner, name="Old Customer", industry="manufacturing", type="customer"),
    }
    order(accounts["berlin"], product=widget, days_ago=20)
    order(accounts["lapsed"], days_ago=400)
    order(accounts["moscow"], product=widget, days_ago=5, status=OrderStatus.CANCELLED)
    people = {
        "anna": ContactFactory(owner=owner, first_name="Anna", last_name="Berg", account=accounts["berlin"],
                               email_opt_in=True, lead_source="web"),
        "ivan": ContactFactory(owner=owner, first_name="Иван", last_name="Петров", account=accounts["moscow"],
                               emails=["ivan@example.com"], tags=["dach"], do_not_call=True),
        "olga": ContactFactory(owner=owner, first_name="Ольга", last_name="Сидорова", account=accounts["lapsed"],
                               emails=[], email_opt_in=True, email_opted_out_at=timezone.now()),
        "free": ContactFactory(owner=marketer, first_name="Free", last_name="Agent", account=None, lead_source="event"),
    }
    return {"europe": europe, "widget": widget, "accounts": accounts, "people": people}


def names(criteria, user):
    return sorted(c.first_name for c in contacts_in(criteria, user))


@pytest.mark.parametrize(("criteria", "expected"), [
    ({}, ["Anna", "Free", "Иван", "Ольга"]),
    ({"industries": ["MANUFACTURING"]}, ["Anna", "Ольга"]),
    ({"industries": ["лесозаготовка", "none"]}, ["Иван"]),
    ({"account_types": ["prospect"]}, ["Иван"]),
    ({"tiers": ["key", "small"]}, ["Anna", "Иван"]),
    ({"vip": "yes"}, ["Anna"]),
    ({"vip": "no"}, ["Иван", "Ольга"]),
    ({"tags": ["dach"]}, ["Anna", "Иван"]),  # Anna through her company's tag
    ({"consent": "opted_in"}, ["Anna"]),
    ({"consent": "not_opted_out"}, ["Anna", "Free", "Иван"]),
    ({"exclude_do_not_call": True}, ["Anna", "Free", "Ольга"]),
    ({"has_email": True}, ["Anna", "Free", "Иван"]),
    ({"lead_sources": ["web", "event"]}, ["Anna", "Free"]),
    ({"no_purchase_months": 6}, ["Free", "Иван", "Ольга"]),  # a cancelled order is no purchase
    ({"industries": ["manufacturing"], "no_purchase_months": 6}, ["Ольга"]),
])
def test_each_criterion(world, marketer, criteria, expected):
    assert names(criteria, marketer) == expected


def test_territory_includes_regions_below(world, marketer):
    assert names({"territory": world["europe"].pk}, marketer) == ["Anna"]


def test_bought_product_ignores_cancelled_orders(world, marketer):
    assert names({"bought_product": world["widget"].pk}, marketer) == ["Anna"]


def test_owner_criterion(world, marketer, owner):
    assert names({"owners": [marketer.pk]}, marketer) == ["Free"]


def test_a_segment_is_one_query(world, marketer):
    criteria = {"industries": ["manufacturing"], "tags": ["dach"], "consent": "opted_in", "no_purchase_months": 6,
                "bought_product": world["widget"].pk, "has_email": True, "vip": "yes"}
    with CaptureQueriesContext(connection) as captured:
        contacts_in(criteria, marketer).count()
    assert len(captured) == 1


def test_a_rep_counts_only_the_contacts_they_may_see(world, outsider):
    mine = ContactFactory(owner=outsider, first_name="Mine", email_opt_in=True)
    assert [c.pk for c in contacts_in({"consent": "opted_in"}, outsider)] == [mine.pk]


def test_months_ago_keeps_the_day_or_the_months_last():
    assert months_ago(6, date(2026, 8, 31)) == date(2026, 2, 28)
    assert months_ago(12, date(2026, 3, 15)) == date(2025, 3, 15)
    assert months_ago(1, date(2026, 1, 10)) == date(2025, 12, 10)


def test_describe_names_the_criteria(world):
    text = dict(describe({"territory": world["europe"].pk, "account_types": ["customer", "prospect"], "vip": "yes",
                          "bought_product": world["widget"].pk, "no_purchase_months": 6, "has_email": True}))
    assert text["Territory"] == "Европа" and text["Account type"] == "Customer, Prospect" and text["VIP"] == "Yes"
    assert "Виджет Про" in text["Bought the product"] and text["No purchase in the last … months"] == "6"
    assert text["Only contacts with an e-mail address"] == "Yes"


def test_segment_joins_a_campaign_once(world, marketer):
    segment = services.segment_create(actor=marketer, name="Клиенты без покупок", criteria={"no_purchase_months": 6})
    campaign = CampaignFactory(owner=marketer)
    services.campaign_members_add(campaign=campaign, actor=marketer, contacts=[world["people"]["ivan"]],
                                  status=MemberStatus.RESPONDED)
    added = services.campaign_members_add_segment(campaign=campaign, actor=marketer, segment=segment)
    assert added == 2  # Free and Ольга; Иван was in already
    assert services.campaign_members_add_segment(campaign=campaign, actor=marketer, segment=segment) == 0
    statuses = dict(CampaignMember.objects.filter(campaign=campaign).values_list("contact__first_name", "status"))
    assert statuses == {"Free": "targeted", "Ольга": "targeted", "Иван": "responded"}


def test_a_rep_adds_only_contacts_they_may_see(world, owner, outsider):
    segment = services.segment_create(actor=outsider, name="Всё", criteria={})
    campaign = CampaignFactory(owner=outsider)
    mine = ContactFactory(owner=outsider)
    assert services.campaign_members_add_segment(campaign=campaign, actor=outsider, segment=segment) == 1
    assert list(campaign.members.values_list("contact_id", flat=True)) == [mine.pk]


# --- Pages ---------------------------------------------------------------------------------


def form_data(**overrides):
    data = {"name": "Немецкие VIP", "description": "", "industries": "Manufacturing", "vip": "yes", "consent": "",
            "no_purchase_months": ""}
    data.update(overrides)
    return data


def test_save_a_segment_and_open_it(client, world, marketer):
    client.force_login(marketer)
    response = client.post(reverse("marketing:segment_create"), form_data(territory=world["europe"].pk))
    segment = Segment.objects.get()
    assert response.status_code == 302 and response.url == segment.get_absolute_url()
    assert segment.criteria == {"territory": world["europe"].pk, "industries": ["Manufacturing"], "vip": "yes"}
    body = client.get(segment.get_absolute_url()).content.decode()
    assert 'id="segment-count">1<' in body and "Anna Berg" in body and "Европа" in body


def test_edit_keeps_the_form_filled(client, world, marketer):
    segment = services.segment_create(actor=marketer, name="Теги", criteria={"tags": ["dach", "vip"]})
    client.force_login(marketer)
    body = client.get(reverse("marketing:segment_edit", args=[segment.pk])).content.decode()
    assert 'value="dach, vip"' in body
    client.post(reverse("marketing:segment_edit", args=[segment.pk]), form_data(name="Теги", industries="",
                                                                              vip="", tags="dach"))
    segment.refresh_from_db()
    assert segment.criteria == {"tags": ["dach"]}


def test_bad_input_is_refused_and_saves_nothing(client, world, marketer):
    client.force_login(marketer)
    response = client.post(reverse("marketing:segment_create"), form_data(no_purchase_months="0"))
    assert "Ensure this value is greater than or equal to 1." in response.content.decode()
    response = client.post(reverse("marketing:segment_create"), form_data(name=""))
    assert "This field is required." in response.content.decode()
    assert not Segment.objects.exists()


def test_live_preview_counts_and_samples(client, world, marketer):
    client.force_login(marketer)
    response = client.post(reverse("marketing:segment_preview"), form_data(name="", industries="manufacturing",
                                                                           vip=""), HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert body.lstrip().startswith('<section class="card segment-preview" id="segment-preview"')
    assert 'id="segment-count">2<' in body and "Anna Berg" in body and "Ольга Сидорова" in body
    body = client.post(reverse("marketing:segment_preview"), form_data(no_purchase_months="x")).content.decode()
    assert "Correct the criteria marked in the form" in body


def test_preview_names_no_hidden_company(client, owner, teammate):
    ContactFactory(owner=teammate, shared_with_team=True, first_name="Shared",
                   account=AccountFactory(owner=teammate, name="Private Co"))
    client.force_login(owner)
    body = client.post(reverse("marketing:segment_preview"), form_data(industries="", vip="")).content.decode()
    assert "Shared" in body and "Private Co" not in body


def test_support_has_no_segments(client, world, marketer, support_agent):
    segment = services.segment_create(actor=marketer, name="Секрет", criteria={})
    client.force_login(support_agent)
    assert client.get(reverse("marketing:segment_list")).status_code == 404
    assert client.get(segment.get_absolute_url()).status_code == 404
    assert client.post(reverse("marketing:segment_preview"), form_data()).status_code == 404


def test_segment_page_adds_everyone_to_a_campaign(client, world, marketer, owner):
    segment = services.segment_create(actor=marketer, name="Opted in", criteria={"consent": "opted_in"})
    campaign = CampaignFactory(owner=marketer, status="active")
    foreign = CampaignFactory(owner=owner, status="active")
    client.force_login(owner)  # may see the segment, may not edit the marketer's campaign
    response = client.post(reverse("marketing:segment_to_campaign", args=[segment.pk]),
                           {"campaign": campaign.pk, "status": "targeted"}, follow=True)
    assert "Choose one of the offered campaigns and statuses." in response.content.decode()
    assert not CampaignMember.objects.exists()
    client.post(reverse("marketing:segment_to_campaign", args=[segment.pk]), {"campaign": foreign.pk,
                                                                              "status": "sent"})
    assert list(foreign.members.values_list("contact__first_name", "status")) == [("Anna", "sent")]


def test_segment_pages_query_counts_are_constant(client, world, marketer, owner):
    segment = services.segment_create(actor=marketer, name="Все", criteria={"has_email": True})
    client.force_login(marketer)
    client.get(segment.get_absolute_url())

    def count(url):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    one = (count(segment.get_absolute_url()), count(reverse("marketing:segment_list")))
    ContactFactory.create_batch(49, owner=owner, account=world["accounts"]["berlin"])
    for n in range(49):
        services.segment_create(actor=marketer, name=f"Сегмент {n}", criteria={})
    assert (count(segment.get_absolute_url()), count(reverse("marketing:segment_list"))) == one


def test_topic_criterion_through_the_form(client, world, marketer):
    from marketing.models import Topic, TopicSubscription

    news, events = Topic.objects.create(name="Новинки"), Topic.objects.create(name="Мероприятия")
    TopicSubscription.objects.create(contact=world["people"]["ivan"], topic=news)
    TopicSubscription.objects.create(contact=world["people"]["anna"], topic=events)
    assert names({"topics": [news.pk]}, marketer) == ["Иван"]
    assert names({"topics": [news.pk, events.pk]}, marketer) == ["Anna", "Иван"]
    with CaptureQueriesContext(connection) as captured:
        list(contacts_in({"topics": [news.pk], "vip": "no"}, marketer))
    assert len(captured) == 1
    client.force_login(marketer)
    response = client.post(reverse("marketing:segment_create"), {"name": "Подписчики новинок", "topics": [news.pk]},
                           follow=True)
    segment = Segment.objects.get(name="Подписчики новинок")
    assert segment.criteria == {"topics": [news.pk]}
    body = response.content.decode()
    assert "Subscribed to a topic" in body and "Новинки" in body
