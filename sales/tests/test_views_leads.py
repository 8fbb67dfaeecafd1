"""Lead pages: list, queue, detail, create/edit with duplicates, status, delete, bulk actions,
conversion, rules; who may do what (LEAD_DATA); query budgets."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account
from accounts.tests.factories import AccountFactory
from activities.models import Activity, ActivityKind
from contacts.models import Contact
from contacts.tests.factories import ContactFactory
from crm.models import CustomField, CustomFieldKind, CustomFieldTarget, Role
from crm.tests.factories import UserFactory
from sales.models import Lead, LeadAssignmentRule, LeadStatus, Opportunity
from sales.tests.factories import LeadFactory, OpportunityFactory, PipelineFactory, stage


def form_data(**overrides):
    data = {"first_name": "Grace", "last_name": "Hopper", "company": "Navy Labs", "email": "Grace@NavyLabs.test",
            "phone": "+44 20 7946 0123", "source": "web"}
    data.update(overrides)
    return data


# --- List and queue ------------------------------------------------------------------------


def test_list_shows_own_leads_and_filters(client, owner, teammate):
    LeadFactory(owner=owner, last_name="Mine", status=LeadStatus.WORKING, source="web")
    LeadFactory(owner=owner, last_name="Zimmer", status=LeadStatus.NEW, source="call")
    LeadFactory(owner=teammate, last_name="Theirs")
    client.force_login(owner)
    body = client.get(reverse("sales:lead_list")).content.decode()
    assert "Mine" in body and "Zimmer" in body and "Theirs" not in body
    body = client.get(reverse("sales:lead_list"), {"status": "working"}).content.decode()
    assert "Mine" in body and "Zimmer" not in body
    body = client.get(reverse("sales:lead_list"), {"source": "call", "sort": "-name"}).content.decode()
    assert "Zimmer" in body and "Mine" not in body


def test_list_search_by_email_phone_and_company(client, owner):
    LeadFactory(owner=owner, last_name="Alpha", email="alpha@x.test", phone="+44 20 7946 0001", company="Zeta")
    LeadFactory(owner=owner, last_name="Beta", email="beta@x.test", company="Omega")
    client.force_login(owner)
    for query in ("alpha@x.test", "020 7946 0001", "zeta"):
        body = client.get(reverse("sales:lead_list"), {"q": query}).content.decode()
        assert "Alpha" in body and "Beta" not in body, query


def test_empty_list_explains_and_offers_the_action(client, owner):
    client.force_login(owner)
    body = client.get(reverse("sales:lead_list")).content.decode()
    assert "Leads are people who may buy" in body and reverse("sales:lead_create") in body


@pytest.mark.parametrize("rows", [1, 30])
def test_list_query_budget(client, owner, rows, django_assert_max_num_queries):
    for _ in range(rows):
        LeadFactory(owner=owner)
    client.force_login(owner)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("sales:lead_list"))
    assert response.status_code == 200


def test_queue_is_for_the_teams_managers_and_admins(client, owner, manager, outsider, admin_user, team):
    LeadFactory(owner=None, team=team, last_name="Waiting")
    client.force_login(manager)
    assert "Waiting" in client.get(reverse("sales:lead_queue")).content.decode()
    client.force_login(admin_user)
    assert "Waiting" in client.get(reverse("sales:lead_queue")).content.decode()
    for person in (owner, outsider):
        client.force_login(person)
        assert "Waiting" not in client.get(reverse("sales:lead_queue")).content.decode()


# --- Bulk actions --------------------------------------------------------------------------


def test_bulk_assign_from_the_queue(client, manager, owner, team):
    leads = [LeadFactory(owner=None, team=team) for _ in range(2)]
    client.force_login(manager)
    response = client.post(reverse("sales:lead_bulk"), {"action": "assign", "owner": owner.pk, "from": "queue",
                                                           "ids": [lead.pk for lead in leads]})
    assert response.status_code == 302 and response["Location"].startswith(reverse("sales:lead_queue"))
    assert set(Lead.objects.values_list("owner_id", flat=True)) == {owner.pk}


def test_bulk_assign_to_someone_not_assignable_is_refused(client, owner, outsider):
    lead = LeadFactory(owner=owner)
    client.force_login(owner)
    client.post(reverse("sales:lead_bulk"), {"action": "assign", "owner": outsider.pk, "ids": [lead.pk]})
    lead.refresh_from_db()
    assert lead.owner == owner


def test_bulk_distribute_by_rules(client, manager, team):
    person = UserFactory(role=Role.SALES_REP, team=team)
    LeadAssignmentRule.objects.create(name="All", team=team)
    lead = LeadFactory(owner=None, team=team)
    client.force_login(manager)
    client.post(reverse("sales:lead_bulk"), {"action": "distribute", "ids": [lead.pk]})
    lead.refresh_from_db()
    assert lead.owner == person


def test_bulk_distribute_needs_a_queue_keeper(client, owner):
    lead = LeadFactory(owner=owner)
    client.force_login(owner)
    assert client.post(reverse("sales:lead_bulk"), {"action": "distribute", "ids": [lead.pk]}).status_code == 403


def test_bulk_export_only_visible_rows_with_formulas_neutralised(client, owner, outsider):
    mine = LeadFactory(owner=owner, company="=HYPERLINK(1)")
    hidden = LeadFactory(owner=outsider, last_name="Secret")
    client.force_login(owner)
    response = client.post(reverse("sales:lead_bulk"), {"action": "export", "ids": [mine.pk, hidden.pk]})
    body = response.content.decode("utf-8-sig")
    assert response["Content-Type"].startswith("text/csv")
    assert "'=HYPERLINK(1)" in body and "Secret" not in body


# --- Detail ----------------------------------------------------------------------------------


def test_detail_shows_timeline_and_history(client, owner):
    lead = LeadFactory(owner=owner, last_name="Turing")
    Activity.objects.create(kind=ActivityKind.CALL, subject="Intro call", owner=owner, team=owner.team, lead=lead)
    client.force_login(owner)
    body = client.get(lead.get_absolute_url()).content.decode()
    assert "Intro call" in body and "History" in body
    assert f"{reverse('activity_create')}?kind=call&lead={lead.pk}&next=" in body


def test_detail_query_budget(client, owner, django_assert_max_num_queries):
    lead = LeadFactory(owner=owner)
    for index in range(20):
        Activity.objects.create(kind=ActivityKind.NOTE, subject=f"Note {index}", owner=owner, team=owner.team,
                                lead=lead)
    client.force_login(owner)
    with django_assert_max_num_queries(15):
        response = client.get(lead.get_absolute_url())
    assert response.status_code == 200


@pytest.mark.parametrize("url_name", ["lead_detail", "lead_edit", "lead_delete", "lead_convert"])
def test_outsider_gets_404(client, owner, outsider, url_name):
    lead = LeadFactory(owner=owner, status=LeadStatus.QUALIFIED)
    client.force_login(outsider)
    assert client.get(reverse(f"sales:{url_name}", args=[lead.pk])).status_code == 404


@pytest.mark.parametrize("url_name", ["lead_edit", "lead_delete", "lead_convert"])
def test_read_only_roles_get_403(client, owner, executive, url_name):
    lead = LeadFactory(owner=owner, status=LeadStatus.QUALIFIED)
    client.force_login(executive)
    assert client.get(lead.get_absolute_url()).status_code == 200
    assert client.get(reverse(f"sales:{url_name}", args=[lead.pk])).status_code == 403


def test_support_sees_no_leads(client, owner, support_agent):
    lead = LeadFactory(owner=owner)
    client.force_login(support_agent)
    assert client.get(lead.get_absolute_url()).status_code == 404
    assert lead.last_name not in client.get(reverse("sales:lead_list")).content.decode()


def test_marketer_reads_all_edits_own_and_cannot_convert(client, owner, marketer):
    theirs = LeadFactory(owner=owner, status=LeadStatus.QUALIFIED)
    client.force_login(marketer)
    assert client.get(theirs.get_absolute_url()).status_code == 200
    assert client.get(reverse("sales:lead_edit", args=[theirs.pk])).status_code == 403
    response = client.post(reverse("sales:lead_create"), form_data())
    own = Lead.objects.get(last_name="Hopper")
    assert response.status_code == 302 and own.owner == marketer
    assert client.get(reverse("sales:lead_edit", args=[own.pk])).status_code == 200
    own.status = LeadStatus.QUALIFIED
    own.save()
    assert client.get(reverse("sales:lead_convert", args=[own.pk])).status_code == 403  # no customer writes


# --- Create, edit, status, delete -----------------------------------------------------------------


def test_create_with_custom_field_and_escaped_text(client, owner):
    CustomField.objects.create(target=CustomFieldTarget.LEAD, key="budget", label="Budget",
                               kind=CustomFieldKind.NUMBER)
    client.force_login(owner)
    response = client.post(reverse("sales:lead_create"), form_data(cf_budget="1500.50",
                                                                        description="<script>x()</script>"))
    lead = Lead.objects.get()
    assert response.status_code == 302
    assert lead.custom == {"budget": "1500.5"} and lead.email == "grace@navylabs.test" and lead.owner == owner
    body = client.get(lead.get_absolute_url()).content.decode()
    assert "Budget" in body and "&lt;script&gt;x()&lt;/script&gt;" in body and "<script>x()" not in body


def test_bad_phone_is_refused_next_to_the_field(client, owner):
    client.force_login(owner)
    response = client.post(reverse("sales:lead_create"), form_data(phone="12"))
    assert response.status_code == 200 and "is not a valid phone number" in response.content.decode()
    assert not Lead.objects.exists()


def test_duplicate_warning_needs_confirmation(client, owner, outsider):
    ContactFactory(owner=outsider, emails=["grace@navylabs.test"], phones=[])
    AccountFactory(owner=owner, name="Navy Labs")
    client.force_login(owner)
    response = client.post(reverse("sales:lead_create"), form_data())
    body = response.content.decode()
    assert response.status_code == 200 and "Possible duplicates" in body
    assert f"owned by {outsider}" in body and "Navy Labs" in body
    assert not Lead.objects.exists()
    response = client.post(reverse("sales:lead_create"), form_data(confirm_duplicates="on"))
    assert response.status_code == 302 and Lead.objects.count() == 1


def test_live_duplicate_check_endpoint(client, owner):
    LeadFactory(owner=owner, first_name="Grace", last_name="Hopper", email="grace@navylabs.test")
    client.force_login(owner)
    response = client.post(reverse("sales:lead_duplicates"), {"email": "GRACE@navylabs.test"})
    assert "Possible duplicates" in response.content.decode()


def test_create_into_the_queue_distributes(client, manager, team):
    person = UserFactory(role=Role.SALES_REP, team=team)
    LeadAssignmentRule.objects.create(name="All", team=team)
    client.force_login(manager)
    response = client.post(reverse("sales:lead_create"), form_data(distribute="on"))
    lead = Lead.objects.get()
    assert response.status_code == 302 and lead.owner == person


def test_forged_owner_is_refused(client, owner, outsider):
    client.force_login(owner)
    response = client.post(reverse("sales:lead_create"), form_data(owner=outsider.pk))
    assert response.status_code == 200 and not Lead.objects.exists()


def test_edit_keeps_a_queued_lead_queued(client, manager, team):
    lead = LeadFactory(owner=None, team=team, last_name="Queued", company="Q")
    client.force_login(manager)
    response = client.post(reverse("sales:lead_edit", args=[lead.pk]),
                           form_data(last_name="Queued", company="Q", email="", phone="",
                                     lock_version=lead.lock_version))
    lead.refresh_from_db()
    assert response.status_code == 302 and lead.owner is None and lead.first_name == "Grace"


def test_disqualify_without_reason_changes_nothing(client, owner):
    lead = LeadFactory(owner=owner)
    client.force_login(owner)
    response = client.post(reverse("sales:lead_status", args=[lead.pk]), {"status": "disqualified"}, follow=True)
    assert "Say why the lead is disqualified." in response.content.decode()
    lead.refresh_from_db()
    assert lead.status == LeadStatus.NEW
    client.post(reverse("sales:lead_status", args=[lead.pk]), {"status": "disqualified", "reason": "spam"})
    lead.refresh_from_db()
    assert lead.status == LeadStatus.DISQUALIFIED and lead.disqualify_reason == "spam"


def test_delete_is_soft(client, owner):
    lead = LeadFactory(owner=owner)
    client.force_login(owner)
    assert client.post(reverse("sales:lead_delete", args=[lead.pk])).status_code == 302
    lead.refresh_from_db()
    assert lead.deleted_at is not None
    assert client.get(lead.get_absolute_url()).status_code == 404


# --- Conversion -------------------------------------------------------------------------------


def test_convert_page_prefills_and_suggests(client, owner):
    AccountFactory(owner=owner, name="Navy Labs")
    lead = LeadFactory(owner=owner, company="Navy Labs", status=LeadStatus.QUALIFIED)
    client.force_login(owner)
    body = client.get(reverse("sales:lead_convert", args=[lead.pk])).content.decode()
    assert 'value="Navy Labs"' in body and "Use Navy Labs" in body


def test_convert_with_opportunity_then_links_and_no_second_time(client, owner):
    pipeline = PipelineFactory(is_default=True)
    lead = LeadFactory(owner=owner, company="Navy Labs", status=LeadStatus.QUALIFIED, source="web")
    client.force_login(owner)
    response = client.post(reverse("sales:lead_convert", args=[lead.pk]), {
        "account_mode": "new", "account_name": "Navy Labs", "contact_mode": "new", "create_opportunity": "on",
        "opportunity_name": "Navy deal", "stage": stage(pipeline, "Proposal").pk, "amount": "5000",
        "currency": "EUR", "expected_close_date": (timezone.localdate() + timedelta(days=10)).isoformat()})
    assert response.status_code == 302
    lead.refresh_from_db()
    deal = Opportunity.objects.get()
    assert lead.status == LeadStatus.CONVERTED and lead.converted_opportunity == deal
    assert deal.lead_source == "web" and deal.stage.name == "Proposal"
    body = client.get(lead.get_absolute_url()).content.decode()
    assert lead.converted_account.get_absolute_url() in body and "Navy deal" in body
    response = client.get(reverse("sales:lead_convert", args=[lead.pk]), follow=True)
    assert "already converted" in response.content.decode()
    response = client.post(reverse("sales:lead_convert", args=[lead.pk]), {
        "account_mode": "new", "account_name": "Again", "contact_mode": "new"})
    assert Account.objects.count() == 1


def test_convert_into_existing_account_picks_the_matching_contact(client, owner):
    account = AccountFactory(owner=owner, name="Acme")
    contact = ContactFactory(owner=owner, account=account, emails=["jo@acme.test"])
    lead = LeadFactory(owner=owner, company="Acme", email="jo@acme.test", status=LeadStatus.WORKING)
    client.force_login(owner)
    body = client.get(reverse("sales:lead_convert", args=[lead.pk]), {"account": account.pk}).content.decode()
    assert f'value="{contact.pk}" selected' in body
    client.post(reverse("sales:lead_convert", args=[lead.pk]), {
        "account_mode": "existing", "account": account.pk, "contact_mode": "existing", "contact": contact.pk})
    lead.refresh_from_db()
    assert lead.converted_account == account and lead.converted_contact == contact
    assert Contact.objects.count() == 1


def test_convert_with_a_hidden_account_is_refused(client, owner, outsider):
    hidden = AccountFactory(owner=outsider)
    lead = LeadFactory(owner=owner, status=LeadStatus.QUALIFIED)
    client.force_login(owner)
    response = client.post(reverse("sales:lead_convert", args=[lead.pk]), {
        "account_mode": "existing", "account": hidden.pk, "contact_mode": "new"})
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    lead.refresh_from_db()
    assert lead.status == LeadStatus.QUALIFIED


def test_a_disqualified_lead_must_be_reopened_first(client, owner):
    lead = LeadFactory(owner=owner, status=LeadStatus.DISQUALIFIED, disqualify_reason="spam")
    client.force_login(owner)
    response = client.get(reverse("sales:lead_convert", args=[lead.pk]), follow=True)
    assert "set it back to new or working first" in response.content.decode()


# --- Rules (admins) ------------------------------------------------------------------------


def test_rules_are_for_admins(client, manager):
    client.force_login(manager)
    assert client.get(reverse("sales:lead_rules")).status_code == 403


def test_admin_creates_orders_and_deletes_rules(client, admin_user, team):
    client.force_login(admin_user)
    for name in ("First", "Second"):
        response = client.post(reverse("sales:lead_rules"), {"name": name, "active": "on", "team": team.pk,
                                                                "method": "round_robin"})
        assert response.status_code == 302
    second = LeadAssignmentRule.objects.get(name="Second")
    client.post(reverse("sales:lead_rule_move", args=[second.pk]), {"direction": "up"})
    assert list(LeadAssignmentRule.objects.values_list("name", flat=True)) == ["Second", "First"]
    response = client.post(reverse("sales:lead_rules"), {"name": "One person", "team": team.pk, "method": "user"})
    assert "Choose the person who gets these leads." in response.content.decode()
    client.post(reverse("sales:lead_rule_delete", args=[second.pk]))
    assert list(LeadAssignmentRule.objects.values_list("name", flat=True)) == ["First"]


# --- Activity hooks --------------------------------------------------------------------------


def test_log_a_call_about_a_lead(client, owner):
    lead = LeadFactory(owner=owner)
    client.force_login(owner)
    url = reverse("activity_create") + f"?kind=note&lead={lead.pk}"
    assert f'value="{lead.pk}"' in client.get(url).content.decode()
    response = client.post(url, {"subject": "Spoke briefly", "lead": lead.pk, "body": ""})
    assert response.status_code == 302
    assert Activity.objects.get().lead == lead


def test_activity_about_a_hidden_lead_is_refused(client, owner, outsider):
    lead = LeadFactory(owner=outsider)
    client.force_login(owner)
    url = reverse("activity_create") + "?kind=note"
    response = client.post(url, {"subject": "Sneaky", "lead": lead.pk})
    assert response.status_code == 200 and not Activity.objects.exists()


def test_activity_about_an_opportunity_gets_its_account(client, owner):
    deal = OpportunityFactory(owner=owner)
    client.force_login(owner)
    url = reverse("activity_create") + f"?kind=note&opportunity={deal.pk}"
    response = client.post(url, {"subject": "Deal note", "opportunity": deal.pk})
    assert response.status_code == 302
    activity = Activity.objects.get()
    assert activity.opportunity == deal and activity.account == deal.account


def test_timeline_fragment_for_a_lead(client, owner, outsider):
    lead = LeadFactory(owner=owner)
    Activity.objects.create(kind=ActivityKind.NOTE, subject="Old note", owner=owner, team=owner.team, lead=lead)
    client.force_login(owner)
    assert "Old note" in client.get(reverse("timeline"), {"lead": lead.pk}).content.decode()
    client.force_login(outsider)
    assert client.get(reverse("timeline"), {"lead": lead.pk}).status_code == 404


# --- REST API --------------------------------------------------------------------------------


def _api(user):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(user)
    return api


def test_api_lists_only_visible_leads_and_filters(owner, outsider):
    LeadFactory(owner=owner, last_name="Mine", status=LeadStatus.WORKING)
    LeadFactory(owner=owner, last_name="Other", status=LeadStatus.NEW)
    hidden = LeadFactory(owner=outsider, last_name="Hidden")
    api = _api(owner)
    names = [row["last_name"] for row in api.get("/api/leads/").json()["results"]]
    assert sorted(names) == ["Mine", "Other"]
    names = [row["last_name"] for row in api.get("/api/leads/", {"status": "working"}).json()["results"]]
    assert names == ["Mine"]
    assert api.get(f"/api/leads/{hidden.pk}/").status_code == 404
    assert api.patch(f"/api/leads/{hidden.pk}/", {"rating": "hot"}, format="json").status_code == 404


def test_api_create_without_owner_is_distributed(owner, team):
    person = UserFactory(role=Role.SALES_REP, team=team)
    LeadAssignmentRule.objects.create(name="All", team=team, method="user", user=person)
    response = _api(owner).post("/api/leads/", {"last_name": "Web", "company": "Form Ltd", "source": "web"},
                                format="json")
    assert response.status_code == 201, response.json()
    assert Lead.objects.get(last_name="Web").owner == person


def test_api_refuses_converted_status_disqualify_without_reason_and_bad_phone(owner):
    lead = LeadFactory(owner=owner)
    api = _api(owner)
    version = {"lock_version": lead.lock_version}
    assert api.patch(f"/api/leads/{lead.pk}/", {"status": "converted", **version}, format="json").status_code == 400
    response = api.patch(f"/api/leads/{lead.pk}/", {"status": "disqualified", **version}, format="json")
    assert response.status_code == 400 and "disqualify_reason" in response.json()
    assert api.patch(f"/api/leads/{lead.pk}/", {"phone": "12", **version}, format="json").status_code == 400
    lead.refresh_from_db()
    assert lead.status == LeadStatus.NEW


def test_api_read_only_and_delete(owner, executive):
    lead = LeadFactory(owner=owner)
    assert _api(executive).get(f"/api/leads/{lead.pk}/").status_code == 200
    assert _api(executive).delete(f"/api/leads/{lead.pk}/").status_code == 403
    assert _api(owner).delete(f"/api/leads/{lead.pk}/").status_code == 204
    lead.refresh_from_db()
    assert lead.deleted_at is not None


def test_activity_page_links_back_to_its_lead(client, owner):
    lead = LeadFactory(owner=owner, first_name="Ada", last_name="Byron", company="")
    activity = Activity.objects.create(kind=ActivityKind.NOTE, subject="Met", owner=owner, team=owner.team, lead=lead)
    client.force_login(owner)
    body = client.get(activity.get_absolute_url()).content.decode()
    assert f'href="{lead.get_absolute_url()}"' in body
