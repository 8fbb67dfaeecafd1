"""Leads on static lists: a member is a contact or a lead (never both, never neither), each once per
list; leads join from the leads list's ticked rows (only leads the user may see, only lists the user may
edit), leave one by one, show on the lead's page, follow the lead into its contact when it converts, and
are left out (and counted) by mailings, which reach contacts only; call lists call the open ones
(marketing/tests/test_call_list_leads.py)."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contacts.models import Contact
from contacts.tests.factories import ContactFactory
from crm.models import Role
from crm.tests.factories import UserFactory
from crm.tests.test_visibility_matrix import CAMPAIGN_PRIVATE, LEAD_PRIVATE
from crm.visibility import can_create
from marketing import calllists, mailings, services
from marketing.models import StaticList, StaticListMember
from marketing.tests.factories import CampaignFactory
from sales import lead_services
from sales.models import Lead
from sales.tests.factories import LeadFactory


def bulk_add(client, static_list, leads, extra_ids=()):
    return client.post(reverse("sales:lead_bulk"), {
        "action": "add_to_static_list", "choice-add_to_static_list": static_list.pk if static_list else "",
        "ids": [lead.pk for lead in leads] + list(extra_ids)}, follow=True)


def add_leads(static_list, actor, leads):
    return services.static_list_add_leads(static_list=static_list, actor=actor,
                                          leads=Lead.objects.filter(pk__in=[lead.pk for lead in leads]))


def members_of(static_list):
    return sorted(((row.contact_id, row.lead_id) for row in static_list.members.all()),
                  key=lambda pair: (pair[0] or 0, pair[1] or 0))


# --- The model and the services ------------------------------------------------------------------


def test_a_member_is_a_contact_or_a_lead_never_both_nor_neither(marketer, owner):
    static_list = services.static_list_create(actor=marketer, name="Проверка")
    contact, lead = ContactFactory(owner=owner), LeadFactory(owner=owner)
    for fields in ({}, {"contact": contact, "lead": lead}):
        with pytest.raises(IntegrityError), transaction.atomic():
            StaticListMember.objects.create(static_list=static_list, **fields)
    StaticListMember.objects.create(static_list=static_list, lead=lead)
    with pytest.raises(IntegrityError), transaction.atomic():  # the same lead twice
        StaticListMember.objects.create(static_list=static_list, lead=lead)
    assert static_list.members.count() == 1


def test_leads_join_once_next_to_contacts_and_leave_by_their_own_id(marketer, owner):
    static_list = services.static_list_create(actor=marketer, name="Выставка")
    leads = LeadFactory.create_batch(2, owner=owner)
    contact = ContactFactory(owner=owner)
    services.static_list_add(static_list=static_list, actor=marketer, contacts=Contact.objects.filter(pk=contact.pk))
    assert add_leads(static_list, marketer, leads) == 2
    assert add_leads(static_list, marketer, leads) == 0  # nobody twice
    assert static_list.members.filter(lead__isnull=False, added_by=marketer).count() == 2
    # A contact id equal to a lead's id removes the contact only, and the other way round.
    removed = services.static_list_remove(static_list=static_list, actor=marketer, lead_ids=[leads[0].pk, 10**9])
    assert removed == 1
    assert set(members_of(static_list)) == {(contact.pk, None), (None, leads[1].pk)}
    services.static_list_remove(static_list=static_list, actor=marketer, contact_ids=[leads[1].pk])
    assert (None, leads[1].pk) in members_of(static_list)


def test_a_converted_lead_is_on_its_lists_as_its_contact(marketer, owner):
    lead = LeadFactory(owner=owner, first_name="Вера", last_name="Новикова", company="ООО «Ромашка»",
                       email="vera@example.org")
    plain, has_contact = (services.static_list_create(actor=marketer, name=name) for name in ("Один", "Два"))
    add_leads(plain, marketer, [lead])
    add_leads(has_contact, marketer, [lead])
    converted = lead_services.lead_convert(lead=lead, actor=owner)
    contact = converted.converted_contact
    assert members_of(plain) == [(contact.pk, None)]
    assert members_of(has_contact) == [(contact.pk, None)]
    assert not StaticListMember.objects.filter(lead=lead).exists()


def test_the_contact_already_on_a_list_stays_once_when_the_lead_converts(marketer, owner):
    lead = LeadFactory(owner=owner, company="ООО «Ромашка»", email="lead@example.org")
    contact = ContactFactory(owner=owner)
    static_list = services.static_list_create(actor=marketer, name="Оба")
    services.static_list_add(static_list=static_list, actor=marketer, contacts=Contact.objects.filter(pk=contact.pk))
    add_leads(static_list, marketer, [lead])
    services.static_list_carry_lead_over(lead=lead, contact=contact)
    assert members_of(static_list) == [(contact.pk, None)]


# --- From the leads list's ticked rows ------------------------------------------------------------


def test_leads_list_offers_the_action_to_those_who_keep_lists(client, marketer, owner):
    services.static_list_create(actor=marketer, name="Гости выставки")
    LeadFactory(owner=owner)
    client.force_login(marketer)
    body = client.get(reverse("sales:lead_list")).content.decode()
    assert 'value="add_to_static_list"' in body and "Гости выставки" in body


def test_a_marketer_adds_ticked_leads_once(client, marketer, owner):
    static_list = services.static_list_create(actor=marketer, name="Гости выставки")
    leads = LeadFactory.create_batch(2, owner=owner)
    client.force_login(marketer)
    response = bulk_add(client, static_list, leads)
    assert "2 leads added to Гости выставки." in response.content.decode()
    response = bulk_add(client, static_list, leads)  # again: nobody twice
    assert "0 leads added to Гости выставки." in response.content.decode()
    assert static_list.members.filter(lead__isnull=False).count() == 2


def test_a_forged_id_of_a_hidden_lead_adds_nothing_and_says_so(client, owner, outsider):
    static_list = services.static_list_create(actor=owner, name="Мои")
    mine, hidden = LeadFactory(owner=owner), LeadFactory(owner=outsider)
    client.force_login(owner)
    response = bulk_add(client, static_list, [mine, hidden])
    body = response.content.decode()
    assert "1 lead added to Мои." in body
    assert "1 ticked lead is not one you may open: it was not added." in body
    assert members_of(static_list) == [(None, mine.pk)]
    response = bulk_add(client, static_list, [hidden])  # only the hidden one
    assert "0 leads added to Мои." in response.content.decode()
    assert members_of(static_list) == [(None, mine.pk)]


def test_no_list_or_a_list_one_may_not_edit_is_refused(client, owner, outsider):
    foreign = services.static_list_create(actor=outsider, name="Чужой")  # the rep reads it, may not change it
    lead = LeadFactory(owner=owner)
    client.force_login(owner)
    for static_list in (None, foreign):
        response = bulk_add(client, static_list, [lead])
        assert "Choose the static list to add the leads to." in response.content.decode()
    assert not StaticListMember.objects.exists()


def test_a_role_that_keeps_no_lists_gets_no_action(client, owner, db):
    reader = UserFactory(email="reader@example.com", role=Role.EXECUTIVE)  # reads leads and lists, creates no list
    LeadFactory(owner=owner)
    client.force_login(reader)
    body = client.get(reverse("sales:lead_list")).content.decode()
    assert "add_to_static_list" not in body
    response = client.post(reverse("sales:lead_bulk"), {"action": "add_to_static_list", "ids": [1]})
    assert response.status_code == 403 and not StaticListMember.objects.exists()


# --- The list's page and the lead's page ----------------------------------------------------------


def test_the_list_page_shows_leads_with_contacts_and_removes_a_ticked_lead(client, marketer, owner):
    static_list = services.static_list_create(actor=marketer, name="Смешанный")
    contact = ContactFactory(owner=owner, first_name="Анна", last_name="Контактова")
    lead = LeadFactory(owner=owner, first_name="Лев", last_name="Лидов", company="")
    services.static_list_add(static_list=static_list, actor=marketer, contacts=Contact.objects.filter(pk=contact.pk))
    add_leads(static_list, marketer, [lead])
    client.force_login(marketer)
    body = client.get(static_list.get_absolute_url()).content.decode()
    assert "Анна Контактова" in body and "Лев Лидов" in body
    assert f'name="lead" value="{lead.pk}"' in body and 'id="list-leads-note"' in body
    assert 'id="add-from-leads"' in body
    client.force_login(owner)  # reads the list, may not change it
    assert client.post(reverse("marketing:static_list_remove", args=[static_list.pk]),
                       {"lead": [lead.pk]}).status_code == 403
    client.force_login(marketer)
    response = client.post(reverse("marketing:static_list_remove", args=[static_list.pk]),
                           {"lead": [lead.pk, "x"]}, follow=True)
    assert "1 person removed from the list." in response.content.decode()
    assert members_of(static_list) == [(contact.pk, None)]


def test_the_list_page_names_no_hidden_lead(client, marketer, owner, teammate):
    static_list = services.static_list_create(actor=marketer, name="Смешанный")
    add_leads(static_list, marketer, [LeadFactory(owner=teammate, first_name="Private", company="Hidden Co")])
    client.force_login(owner)
    body = client.get(static_list.get_absolute_url()).content.decode()
    assert "Private" not in body and "Hidden Co" not in body and "a lead you cannot open" in body


def test_the_lead_page_shows_its_lists(client, marketer, owner):
    lead = LeadFactory(owner=owner)
    static_list = services.static_list_create(actor=marketer, name="Приглашённые на вебинар")
    add_leads(static_list, marketer, [lead])
    client.force_login(owner)
    body = client.get(lead.get_absolute_url()).content.decode()
    assert 'id="lead-lists"' in body and "Приглашённые на вебинар" in body


def test_list_page_query_count_is_constant_with_leads(client, marketer, owner):
    static_list = services.static_list_create(actor=marketer, name="Большой")
    client.force_login(marketer)

    def count():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(static_list.get_absolute_url()).status_code == 200
        return len(captured)

    add_leads(static_list, marketer, [LeadFactory(owner=owner)])
    services.static_list_add(static_list=static_list, actor=marketer,
                             contacts=Contact.objects.filter(pk=ContactFactory(owner=owner).pk))
    client.get(static_list.get_absolute_url())  # the first request warms the session and caches
    one = count()
    add_leads(static_list, marketer, LeadFactory.create_batch(20, owner=owner))
    services.static_list_add(static_list=static_list, actor=marketer,
                             contacts=Contact.objects.filter(pk__in=[c.pk for c in ContactFactory.create_batch(
                                 20, owner=owner)]))
    assert count() == one and static_list.members.count() == 42


# Who sees what of a lead on a list: `owner` keeps the lead and the list private. The lead's page
# names the list only to those who may see the list; the list's page names the lead only to those
# who may see the lead; the bulk action adds it only for those who may see it.
@pytest.mark.parametrize("actor", list(LEAD_PRIVATE))
def test_membership_visibility_matrix(client, cast, actor):
    lead = LeadFactory(owner=cast["owner"], first_name="", last_name="Matrix Lead", company="")
    static_list = services.static_list_create(actor=cast["owner"], name="Matrix List")
    add_leads(static_list, cast["owner"], [lead])
    sees_lead, _edits_lead = LEAD_PRIVATE[actor]
    sees_list, _edits_list = CAMPAIGN_PRIVATE[actor]
    client.force_login(cast[actor])

    response = client.get(lead.get_absolute_url())
    assert response.status_code == (200 if sees_lead else 404)
    if sees_lead:
        assert ("Matrix List" in response.content.decode()) is sees_list

    response = client.get(static_list.get_absolute_url())
    assert response.status_code == (200 if sees_list else 404)
    if sees_list:
        assert ("Matrix Lead" in response.content.decode()) is sees_lead

    own = services.static_list_create(actor=cast["admin"], owner=cast[actor], name="Own")
    bulk_add(client, own, [lead])
    assert own.members.filter(lead=lead).exists() is (sees_lead and can_create(cast[actor], StaticList))


# --- Downstream: mailings reach contacts only; call lists call the open leads too ---------------------


def test_a_mailing_to_a_list_goes_to_its_contacts_and_says_how_many_leads_it_leaves_out(client, marketer, owner):
    static_list = services.static_list_create(actor=marketer, name="Рассылка")
    contact = ContactFactory(owner=owner, emails=["anna@example.com"], email_opt_in=True)
    services.static_list_add(static_list=static_list, actor=marketer, contacts=Contact.objects.filter(pk=contact.pk))
    add_leads(static_list, marketer, LeadFactory.create_batch(2, owner=owner))
    mailing = services.mailing_create(actor=marketer, campaign=CampaignFactory(owner=marketer), subject="Привет",
                                      body="Текст", static_list=static_list)
    assert list(mailings.audience(mailing, marketer).values_list("pk", flat=True)) == [contact.pk]
    assert mailings.leads_left_out(mailing, marketer) == 2
    client.force_login(marketer)
    body = client.get(mailing.get_absolute_url()).content.decode()
    assert 'id="mailing-leads-left-out"' in body and "2 leads on the static list are not e-mailed" in body


def test_a_call_list_from_a_list_calls_its_contacts_and_its_open_leads(client, marketer, owner):
    """Open leads get entries of their own; a disqualified lead is left out and counted."""
    static_list = services.static_list_create(actor=marketer, name="Обзвон")
    contact = ContactFactory(owner=owner, phones=["+7 495 123-45-67"])
    services.static_list_add(static_list=static_list, actor=marketer, contacts=Contact.objects.filter(pk=contact.pk))
    lead = LeadFactory(owner=owner, phone="+7 495 765-43-21")
    closed = LeadFactory(owner=owner, phone="+7 495 765-43-22", status="disqualified", disqualify_reason="no_need")
    add_leads(static_list, marketer, [lead, closed])
    campaign = CampaignFactory(owner=marketer, type="telemarketing")
    client.force_login(marketer)
    response = client.post(reverse("marketing:call_list_create", args=[campaign.pk]), {
        "name": "Обзвон выставки", "script": "", "static_list": static_list.pk,
        "distribution": "even", "agents": [marketer.pk]}, follow=True)
    body = response.content.decode()
    call_list = campaign.call_lists.get()
    assert sorted(call_list.items.values_list("contact_id", "lead_called_id"),
                  key=lambda pair: pair[0] or 0) == [(None, lead.pk), (contact.pk, None)]
    assert call_list.left_out_leads == 1
    assert "1 lead on the static list was left out: it is disqualified." in body
    assert 'id="left-out-leads"' in body
    added = calllists.call_list_add(actor=marketer, call_list=call_list, static_list=static_list)
    assert (added.added, added.already, added.leads) == (0, 2, 1)
