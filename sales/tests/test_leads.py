"""Lead services: create, status, distribution (rules, round-robin fairness, the lock),
conversion (activities carried over, no double conversion) and duplicates."""

import threading
from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import close_old_connections, connection
from django.utils import timezone

from accounts.models import Account
from accounts.tests.factories import AccountFactory
from activities.models import Activity, ActivityKind
from contacts.models import Contact, LeadSource
from contacts.tests.factories import ContactFactory
from crm.models import Notification, NotificationKind, Role
from crm.tests.factories import TeamFactory, TerritoryFactory, UserFactory
from sales import lead_services as services
from sales.models import Lead, LeadAssignmentRule, LeadRuleMethod, LeadStatus, Opportunity
from sales.tests.factories import LeadFactory, PipelineFactory, stage


def queued(team, **fields):
    return LeadFactory(owner=None, team=team, **fields)


def reps(team, count):
    return [UserFactory(role=Role.SALES_REP, team=team) for _ in range(count)]


# --- Create and status -------------------------------------------------------------------


def test_create_with_owner_keeps_it_and_sets_the_team(owner):
    lead = services.lead_create(actor=owner, owner=owner, last_name="Doe", company="Acme")
    assert lead.owner == owner and lead.team == owner.team and lead.status == LeadStatus.NEW


def test_create_without_owner_is_distributed_at_once(admin_user, team):
    people = reps(team, 2)
    LeadAssignmentRule.objects.create(name="All", team=team)
    lead = services.lead_create(actor=admin_user, last_name="Doe", company="Acme", source=LeadSource.WEB)
    assert lead.owner == people[0]
    assert lead.team == team
    notification = Notification.objects.get(user=people[0])
    assert notification.kind == NotificationKind.ASSIGNMENT and "Doe" in notification.text


def test_create_without_owner_and_no_rule_waits_in_the_actors_team_queue(manager):
    lead = services.lead_create(actor=manager, last_name="Doe")
    assert lead.owner is None and lead.team == manager.team
    assert Lead.objects.visible_to(manager).unassigned().filter(pk=lead.pk).exists()


def test_disqualify_requires_a_reason(owner):
    lead = LeadFactory(owner=owner)
    with pytest.raises(ValidationError):
        services.lead_set_status(lead=lead, actor=owner, status=LeadStatus.DISQUALIFIED)
    lead.refresh_from_db()
    assert lead.status == LeadStatus.NEW
    services.lead_set_status(lead=lead, actor=owner, status=LeadStatus.DISQUALIFIED, reason="no_budget")
    lead.refresh_from_db()
    assert lead.status == LeadStatus.DISQUALIFIED and lead.disqualify_reason == "no_budget"
    services.lead_set_status(lead=lead, actor=owner, status=LeadStatus.WORKING)
    lead.refresh_from_db()
    assert lead.disqualify_reason == ""


def test_status_cannot_be_set_to_converted_by_hand(owner):
    lead = LeadFactory(owner=owner)
    with pytest.raises(ValidationError):
        services.lead_set_status(lead=lead, actor=owner, status=LeadStatus.CONVERTED)
    with pytest.raises(ValidationError):
        services.lead_update(lead=lead, actor=owner, status=LeadStatus.CONVERTED)


def test_soft_delete(owner):
    lead = LeadFactory(owner=owner)
    services.lead_delete(lead=lead, actor=owner)
    assert Lead.objects.filter(pk=lead.pk).exists()
    assert not Lead.objects.visible_to(owner).filter(pk=lead.pk).exists()


# --- Distribution ------------------------------------------------------------------------


def test_round_robin_takes_turns_fairly(admin_user, team):
    people = reps(team, 3)
    UserFactory(role=Role.SALES_MANAGER, team=team)  # managers are not in the turn
    UserFactory(role=Role.SALES_REP, team=team, is_active=False)  # nor people who left
    LeadAssignmentRule.objects.create(name="All", team=team)
    leads = [queued(team) for _ in range(7)]
    result = services.leads_distribute(leads=leads, actor=admin_user)
    assert result.count == 7
    counts = Counter(Lead.objects.filter(pk__in=[lead.pk for lead in leads]).values_list("owner_id", flat=True))
    assert sorted(counts.values()) == [2, 2, 3]
    assert set(counts) == {p.pk for p in people}
    # The next distribution continues where the last one stopped.
    more = [queued(team) for _ in range(2)]
    services.leads_distribute(leads=more, actor=admin_user)
    counts.update(Lead.objects.filter(pk__in=[lead.pk for lead in more]).values_list("owner_id", flat=True))
    assert sorted(counts.values()) == [3, 3, 3]


def test_next_in_turn_after_someone_left():
    assert services.next_in_turn([3, 5, 9], None) == 3
    assert services.next_in_turn([3, 5, 9], 5) == 9
    assert services.next_in_turn([3, 5, 9], 9) == 3
    assert services.next_in_turn([3, 5, 9], 4) == 5  # 4 left the team: the next after them


def test_first_matching_rule_wins_with_territory_subtree_and_source(admin_user, team, other_team):
    europe = TerritoryFactory(name="Europe")
    germany = TerritoryFactory(name="Germany", parent=europe)
    bavaria = TerritoryFactory(name="Bavaria", parent=germany)
    asia = TerritoryFactory(name="Asia")
    european = UserFactory(role=Role.SALES_REP, team=team)
    web_person = UserFactory(role=Role.SALES_REP, team=other_team)
    LeadAssignmentRule.objects.create(name="Europe", position=1, team=team, territory=europe)
    LeadAssignmentRule.objects.create(name="Web", position=2, team=other_team, method=LeadRuleMethod.USER,
                                      user=web_person, source=LeadSource.WEB)
    in_bavaria = queued(team, territory=bavaria, source=LeadSource.WEB)
    from_web = queued(team, territory=asia, source=LeadSource.WEB)
    nowhere = queued(team, territory=asia, source=LeadSource.CALL)
    result = services.leads_distribute(leads=[in_bavaria, from_web, nowhere], actor=admin_user)
    for lead in (in_bavaria, from_web, nowhere):
        lead.refresh_from_db()
    assert in_bavaria.owner == european
    assert from_web.owner == web_person and from_web.team == other_team
    assert nowhere.owner is None
    assert result.unmatched == [nowhere]


def test_rule_of_a_team_without_reps_falls_through_to_the_next(admin_user, team, other_team):
    empty_team = TeamFactory(name="Empty")
    person = UserFactory(role=Role.SALES_REP, team=other_team)
    LeadAssignmentRule.objects.create(name="Nobody", position=1, team=empty_team)
    LeadAssignmentRule.objects.create(name="Fallback", position=2, team=other_team)
    lead = queued(team)
    services.leads_distribute(leads=[lead], actor=admin_user)
    lead.refresh_from_db()
    assert lead.owner == person


def test_distribution_leaves_assigned_and_converted_leads_alone(admin_user, team, owner):
    reps(team, 1)
    LeadAssignmentRule.objects.create(name="All", team=team)
    mine = LeadFactory(owner=owner)
    result = services.leads_distribute(leads=[mine], actor=admin_user)
    mine.refresh_from_db()
    assert result.count == 0 and mine.owner == owner


def test_manual_bulk_assignment_notifies_once(manager, owner, teammate):
    leads = [LeadFactory(owner=teammate) for _ in range(3)]
    count = services.leads_assign(actor=manager, leads=Lead.objects.filter(pk__in=[lead.pk for lead in leads]),
                                  owner=owner)
    assert count == 3
    assert set(Lead.objects.values_list("owner_id", flat=True)) == {owner.pk}
    assert Notification.objects.filter(user=owner, kind=NotificationKind.ASSIGNMENT).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_distributions_never_give_the_same_turn_twice(team):
    """Two transactions distribute at once: the rule's row lock makes the second wait for the
    first and continue from its last turn, so four leads go to four different people."""
    admin = UserFactory(role=Role.ADMIN)
    people = reps(team, 4)
    LeadAssignmentRule.objects.create(name="All", team=team)
    first = [queued(team), queued(team)]
    second = [queued(team), queued(team)]
    barrier = threading.Barrier(2)
    errors = []

    def distribute(leads):
        try:
            barrier.wait(timeout=10)
            services.leads_distribute(leads=leads, actor=admin)
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=distribute, args=(batch,)) for batch in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors
    owners = list(Lead.objects.filter(pk__in=[lead.pk for lead in first + second]).values_list("owner_id", flat=True))
    assert sorted(owners) == sorted(p.pk for p in people)


def test_distribution_locks_the_rules_it_reads(admin_user, team, django_assert_num_queries):
    reps(team, 1)
    LeadAssignmentRule.objects.create(name="All", team=team)
    lead = queued(team)
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        services.leads_distribute(leads=[lead], actor=admin_user)
    rule_reads = [q["sql"] for q in captured.captured_queries if "contacts_leadassignmentrule" in q["sql"]
                  and q["sql"].lstrip().upper().startswith("SELECT")]
    assert rule_reads and all("FOR UPDATE" in sql for sql in rule_reads)


# --- Conversion --------------------------------------------------------------------------


@pytest.fixture
def pipeline(db):
    return PipelineFactory(name="New business", is_default=True)


def test_convert_into_new_account_contact_and_opportunity(owner, pipeline):
    lead = LeadFactory(owner=owner, first_name="Ada", last_name="Lovelace", company="Analytical Engines",
                       email="ada@engines.test", phone="+44 20 7946 0555", source=LeadSource.EVENT,
                       status=LeadStatus.QUALIFIED)
    call = Activity.objects.create(kind=ActivityKind.CALL, subject="First call", owner=owner, team=owner.team,
                                   lead=lead)
    plan = services.OpportunityPlan(name="Engines deal", stage=stage(pipeline, "Qualification"),
                                    amount=Decimal("1200.50"), currency="EUR",
                                    expected_close_date=timezone.localdate() + timedelta(days=20))
    services.lead_convert(lead=lead, actor=owner, account_name="Analytical Engines Ltd", opportunity=plan)
    lead.refresh_from_db()
    account, contact, deal = lead.converted_account, lead.converted_contact, lead.converted_opportunity
    assert lead.status == LeadStatus.CONVERTED and lead.converted_by == owner and lead.converted_at
    assert account.name == "Analytical Engines Ltd" and account.owner == owner and account.lead_source == "event"
    assert contact.account == account and contact.emails == ["ada@engines.test"]
    assert contact.phones == ["+442079460555"] and contact.lead_source == "event"
    assert deal.account == account and deal.primary_contact == contact and deal.amount == Decimal("1200.50")
    assert deal.lead_source == "event" and deal.pipeline == pipeline
    call.refresh_from_db()
    assert (call.account, call.contact, call.opportunity, call.lead) == (account, contact, deal, lead)


def test_convert_into_an_existing_account_and_contact(owner):
    account = AccountFactory(owner=owner, name="Acme")
    contact = ContactFactory(owner=owner, account=account, emails=["jo@acme.test"])
    lead = LeadFactory(owner=owner, company="Acme", email="jo@acme.test", status=LeadStatus.WORKING)
    assert services.matching_contact(account=account, lead=lead, user=owner) == contact
    assert account in services.conversion_suggestions(lead=lead, user=owner)
    services.lead_convert(lead=lead, actor=owner, account=account, contact=contact)
    lead.refresh_from_db()
    assert lead.converted_account == account and lead.converted_contact == contact
    assert lead.converted_opportunity is None
    assert Account.objects.count() == 1 and Contact.objects.count() == 1


def test_a_contact_of_another_account_is_refused(owner):
    account = AccountFactory(owner=owner)
    stranger = ContactFactory(owner=owner, account=AccountFactory(owner=owner))
    lead = LeadFactory(owner=owner, status=LeadStatus.QUALIFIED)
    with pytest.raises(ValidationError):
        services.lead_convert(lead=lead, actor=owner, account=account, contact=stranger)
    lead.refresh_from_db()
    assert lead.status == LeadStatus.QUALIFIED


def test_double_conversion_is_refused_and_changes_nothing(owner):
    lead = LeadFactory(owner=owner, company="Once Ltd", status=LeadStatus.QUALIFIED)
    services.lead_convert(lead=lead, actor=owner)
    with pytest.raises(ValidationError, match="already converted"):
        services.lead_convert(lead=Lead.objects.get(pk=lead.pk), actor=owner)
    assert Account.objects.count() == 1 and Contact.objects.count() == 1


def test_a_disqualified_lead_cannot_be_converted(owner):
    lead = LeadFactory(owner=owner, status=LeadStatus.DISQUALIFIED, disqualify_reason="no_budget")
    with pytest.raises(ValidationError, match="disqualified lead cannot be converted"):
        services.lead_convert(lead=lead, actor=owner)
    assert not Account.objects.exists()  # a new lead converts (sales/tests/test_known_gaps.py)


def test_a_failed_opportunity_rolls_the_whole_conversion_back(owner, pipeline):
    lead = LeadFactory(owner=owner, company="Rollback Ltd", status=LeadStatus.QUALIFIED)
    plan = services.OpportunityPlan(name="Deal", stage=stage(pipeline, "Proposal"), amount=Decimal(10),
                                    currency="XYZ", expected_close_date=timezone.localdate())
    with pytest.raises(ValidationError):
        services.lead_convert(lead=lead, actor=owner, opportunity=plan)  # no exchange rate for XYZ
    assert not Account.objects.exists() and not Opportunity.objects.exists()
    lead.refresh_from_db()
    assert lead.status == LeadStatus.QUALIFIED


# --- Duplicates ----------------------------------------------------------------------------


def test_duplicates_across_leads_contacts_and_accounts(owner, outsider):
    LeadFactory(owner=outsider, first_name="Hidden", last_name="Lead", email="dup@acme.test", company="Other")
    ContactFactory(owner=owner, first_name="Seen", last_name="Contact", emails=[], phones=["+442079460999"])
    AccountFactory(owner=owner, name="Globex Corporation", phone="")
    matches = services.lead_duplicates(user=owner, first_name="New", last_name="Person", company="Globex Corporation",
                                       email="DUP@acme.test", phone="020 7946 0999")
    kinds = {match.kind: match for match in matches}
    assert set(kinds) == {"lead", "contact", "account"}
    assert kinds["lead"].hidden and kinds["lead"].owner == str(outsider)
    assert "same e-mail" in kinds["lead"].reasons
    assert kinds["contact"].label == "Seen Contact" and "same phone" in kinds["contact"].reasons
    assert kinds["account"].label == "Globex Corporation"


def test_no_duplicates_for_a_new_person(owner):
    assert services.lead_duplicates(user=owner, first_name="Nobody", last_name="Here", email="n@h.test") == []


# --- Import and export ------------------------------------------------------------------------


def _import(user, rows, header):
    import csv
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile

    from imports import services as import_services
    from imports.models import ImportJob, ImportStatus

    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows([header, *rows])
    upload = SimpleUploadedFile("leads.csv", buffer.getvalue().encode("utf-8"))
    job = import_services.job_create(user=user, target="sales.lead", upload=upload)
    import_services.job_start(job=job)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.QUEUED)
    import_services.job_run(job_id=job.pk)
    job.refresh_from_db()
    return job


def test_import_distributes_leads_without_owner_and_keeps_named_owners(settings, tmp_path, manager, owner, team):
    settings.MEDIA_ROOT = tmp_path
    person = UserFactory(role=Role.SALES_REP, team=team)
    LeadAssignmentRule.objects.create(name="Imports", team=team, method=LeadRuleMethod.USER, user=person)
    LeadFactory(owner=owner, last_name="Existing", email="dup@acme.test")
    _import(manager, [
        ["Queued", "Ann", "ann@acme.test", "Acme", "", "web"],
        ["Named", "Bob", "bob@acme.test", "Acme", owner.email, ""],
        ["Again", "Dup", "dup@acme.test", "Acme", "", ""],
        ["Bad", "Owner", "bad@acme.test", "Acme", "nobody@example.com", ""],
    ], ["Last name", "First name", "E-mail", "Company", "Owner", "Source"])
    queued = Lead.objects.get(last_name="Queued")
    named = Lead.objects.get(last_name="Named")
    assert queued.owner == person and queued.source == "web"
    assert named.owner == owner and named.team == owner.team and named.source == "import"
    assert not Lead.objects.filter(last_name__in=["Again", "Bad"]).exists()


def test_export_holds_the_visible_filtered_leads(owner, outsider):
    from exports.registry import EXPORTERS, filtered_rows

    LeadFactory(owner=owner, last_name="Kept", status=LeadStatus.WORKING)
    LeadFactory(owner=owner, last_name="Filtered", status=LeadStatus.NEW)
    LeadFactory(owner=outsider, last_name="Hidden", status=LeadStatus.WORKING)
    exporter = EXPORTERS["sales.lead"]
    rows = list(filtered_rows(exporter, owner, "status=working"))
    assert [lead.last_name for lead in rows] == ["Kept"]
    headers = [str(header) for header, _value in exporter.columns]
    assert "Status" in headers and exporter.columns[headers.index("Status")][1](rows[0]) == "Working"


def test_timeline_page_for_an_opportunity_and_a_lead(owner):
    from activities.timeline import timeline_page
    from sales.tests.factories import OpportunityFactory

    deal = OpportunityFactory(owner=owner)
    lead = LeadFactory(owner=owner)
    Activity.objects.create(kind=ActivityKind.NOTE, subject="About the deal", owner=owner, team=owner.team,
                            opportunity=deal, account=deal.account)
    Activity.objects.create(kind=ActivityKind.NOTE, subject="About the lead", owner=owner, team=owner.team, lead=lead)
    services.lead_update(lead=lead, actor=owner, rating="hot")
    assert [a.subject for a in timeline_page(user=owner, opportunity=deal).items] == ["About the deal"]
    items = timeline_page(user=owner, lead=lead).items
    assert "About the lead" in [getattr(item, "subject", "") for item in items]
    assert any(getattr(item, "is_change", False) and item.changes[0][0] == "rating" for item in items)
