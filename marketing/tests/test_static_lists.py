"""Static lists: filled from the contacts list's ticked rows (a bulk action marketing registers on a
list it does not own), kept once per person, emptied by hand, shown on the contact's page."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.tests.factories import AccountFactory
from contacts.models import Contact
from contacts.tests.factories import ContactFactory
from crm.lists import BulkAction, ListPage, register_bulk_action
from marketing import services
from marketing.models import StaticList, StaticListMember


def bulk_add(client, static_list, contacts):
    return client.post(reverse("contacts:bulk"), {
        "action": "add_to_static_list", "choice-add_to_static_list": static_list.pk if static_list else "",
        "ids": [contact.pk for contact in contacts]}, follow=True)


def test_contacts_list_offers_the_action_to_those_who_keep_lists(client, marketer, support_agent, owner):
    services.static_list_create(actor=marketer, name="Гости выставки")
    ContactFactory(owner=owner)
    client.force_login(marketer)
    body = client.get(reverse("contacts:list")).content.decode()
    assert 'value="add_to_static_list"' in body and "Гости выставки" in body
    client.force_login(support_agent)
    body = client.get(reverse("contacts:list")).content.decode()
    assert "add_to_static_list" not in body and 'name="ids"' not in body


def test_a_marketer_adds_contacts_they_may_read_but_not_edit(client, marketer, owner):
    static_list = services.static_list_create(actor=marketer, name="Гости выставки")
    people = ContactFactory.create_batch(2, owner=owner)
    client.force_login(marketer)
    response = bulk_add(client, static_list, people)
    assert "2 contacts added to Гости выставки." in response.content.decode()
    response = bulk_add(client, static_list, people)  # again: nobody twice
    assert "0 contacts added" in response.content.decode()
    assert StaticListMember.objects.filter(static_list=static_list).count() == 2


def test_hidden_contacts_are_never_added(client, owner, outsider):
    static_list = services.static_list_create(actor=owner, name="Мои")
    mine, hidden = ContactFactory(owner=owner), ContactFactory(owner=outsider)
    client.force_login(owner)
    bulk_add(client, static_list, [mine, hidden])  # a forged id of someone else's contact
    assert list(static_list.members.values_list("contact_id", flat=True)) == [mine.pk]


def test_no_list_or_someone_elses_list_is_refused(client, owner, outsider):
    foreign = services.static_list_create(actor=outsider, name="Чужой")
    contact = ContactFactory(owner=owner)
    client.force_login(owner)
    for static_list in (None, foreign):
        response = bulk_add(client, static_list, [contact])
        assert "Choose the static list to add the contacts to." in response.content.decode()
    assert not StaticListMember.objects.exists()


def test_remove_ticked_people(client, marketer, owner):
    static_list = services.static_list_create(actor=marketer, name="Список")
    a, b = ContactFactory(owner=owner, first_name="Anna"), ContactFactory(owner=owner, first_name="Boris")
    services.static_list_add(static_list=static_list, actor=marketer,
                             contacts=Contact.objects.filter(pk__in=[a.pk, b.pk]))
    client.force_login(owner)  # reads the list, may not change it
    assert client.post(reverse("marketing:static_list_remove", args=[static_list.pk]),
                       {"contact": [a.pk]}).status_code == 403
    client.force_login(marketer)
    response = client.post(reverse("marketing:static_list_remove", args=[static_list.pk]), {"contact": [a.pk, "x"]},
                           follow=True)
    assert "1 person removed from the list." in response.content.decode()
    assert list(static_list.members.values_list("contact_id", flat=True)) == [b.pk]


def test_the_contact_page_shows_the_lists(client, marketer, owner):
    contact = ContactFactory(owner=owner)
    static_list = services.static_list_create(actor=marketer, name="Приглашённые на вебинар")
    services.static_list_add(static_list=static_list, actor=marketer, contacts=Contact.objects.all())
    client.force_login(owner)
    body = client.get(contact.get_absolute_url()).content.decode()
    assert 'id="contact-lists"' in body and "Приглашённые на вебинар" in body


def test_list_page_names_no_hidden_person_or_company(client, marketer, owner, teammate):
    ContactFactory(owner=teammate, first_name="Private", account=AccountFactory(owner=teammate, name="Hidden Co"))
    static_list = services.static_list_create(actor=marketer, name="Смешанный", shared_with_team=False)
    services.static_list_add(static_list=static_list, actor=marketer, contacts=Contact.objects.all())
    client.force_login(owner)
    body = client.get(static_list.get_absolute_url()).content.decode()
    assert "Private" not in body and "Hidden Co" not in body and "a contact you cannot open" in body


def test_list_page_query_count_is_constant(client, marketer, owner):
    static_list = services.static_list_create(actor=marketer, name="Большой")
    client.force_login(marketer)
    client.get(static_list.get_absolute_url())

    def count():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(static_list.get_absolute_url()).status_code == 200
        return len(captured)

    ContactFactory(owner=owner)
    services.static_list_add(static_list=static_list, actor=marketer, contacts=Contact.objects.all())
    one = count()
    ContactFactory.create_batch(49, owner=owner, account=AccountFactory(owner=owner))
    services.static_list_add(static_list=static_list, actor=marketer, contacts=Contact.objects.all())
    assert count() == one and static_list.members.count() == 50


def test_registering_an_action_twice_keeps_one():
    class Page(ListPage):
        model = StaticList

    def run(request, rows):
        return None

    register_bulk_action("marketing.staticlist", BulkAction("probe", "Probe", run))
    register_bulk_action("marketing.staticlist", BulkAction("probe", "Probe again", run))
    try:
        probes = [action for action in Page.__new__(Page).all_bulk_actions() if action.key == "probe"]
        assert [action.label for action in probes] == ["Probe again"]
    finally:
        from crm import lists

        lists._REGISTERED_ACTIONS.pop("marketing.staticlist", None)


@pytest.mark.parametrize("name", ["", "x" * 201])
def test_bad_name_is_refused(client, marketer, name):
    client.force_login(marketer)
    response = client.post(reverse("marketing:static_list_create"), {"name": name, "description": ""})
    assert response.status_code == 200 and not StaticList.objects.exists()
