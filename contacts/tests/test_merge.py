"""Merging duplicate contacts and accounts: the engine (crm/merge.py), the services (contacts/merge.py,
accounts/merge.py) and the pages (crm/merge_views.py, and each module's merge_views.py)."""

from datetime import timedelta
from html.parser import HTMLParser

import pghistory.models
import pytest
from django.apps import apps
from django.db import connection, models
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.merge import accounts_merge
from accounts.models import Account
from accounts.tests.factories import AccountFactory
from activities.models import Activity, ActivityKind
from contacts.merge import contacts_merge
from contacts.models import Contact
from contacts.tests.factories import ContactFactory
from crm import merge
from crm.history import history_for
from crm.merge import MergeError


def activity(*, owner, subject="Call", kind=ActivityKind.CALL, **links) -> Activity:
    return Activity.objects.create(owner=owner, team=owner.team, kind=kind, subject=subject, **links)


def contact(owner, first="Maria", last="Keller", **fields) -> Contact:
    fields.setdefault("emails", [f"{first}.{last}@example.com".lower()])
    return ContactFactory(owner=owner, first_name=first, last_name=last, **fields)


def compare_url(primary, *others) -> str:
    return reverse("contacts:merge", args=[primary.pk]) + "?ids=" + ",".join(str(o.pk) for o in others)


def fresh(obj):
    return type(obj)._base_manager.get(pk=obj.pk)


# --- Values ----------------------------------------------------------------------------


def test_chosen_field_wins_and_empty_fields_are_filled_from_the_first_non_empty(owner):
    primary = contact(owner, "Maria", "Keller", title="Buyer", department="")
    other = contact(owner, "Marie", "Keller", title="Head of Purchasing", department="Procurement")
    contacts_merge(primary=primary, others=[other], choices={"first_name": other.pk}, actor=owner)
    primary = fresh(primary)
    assert primary.first_name == "Marie"  # chosen
    assert primary.full_name == "Marie Keller"  # derived fields follow
    assert primary.title == "Buyer"  # not chosen: the primary's value
    assert primary.department == "Procurement"  # the primary's was empty


def test_lists_are_combined_without_repeats_primary_first(owner):
    primary = contact(owner, emails=["maria@a.example", "m@b.example"], phones=["+442079460001"], tags=["vip"])
    other = contact(owner, emails=["M@B.example", "maria@c.example"], phones=["+442079460002", "+442079460001"],
                    tags=["VIP", "fair-2024"])
    contacts_merge(primary=primary, others=[other], choices={}, actor=owner)
    primary = fresh(primary)
    assert primary.emails == ["maria@a.example", "m@b.example", "maria@c.example"]
    assert primary.phones == ["+442079460001", "+442079460002"]
    assert primary.tags == ["vip", "fair-2024"]


def test_one_records_list_can_be_chosen_instead_of_the_union(owner):
    primary = contact(owner, tags=["old", "stale"])
    other = contact(owner, tags=["current"])
    contacts_merge(primary=primary, others=[other], choices={"tags": other.pk, "emails": merge.UNION}, actor=owner)
    assert fresh(primary).tags == ["current"]


def test_a_value_from_a_record_outside_the_merge_is_refused(owner):
    primary, other, stranger = contact(owner), contact(owner), contact(owner)
    with pytest.raises(MergeError):
        contacts_merge(primary=primary, others=[other], choices={"title": stranger.pk}, actor=owner)
    with pytest.raises(MergeError):
        contacts_merge(primary=primary, others=[other], choices={"owner": other.pk}, actor=owner)
    assert fresh(other).deleted_at is None


# --- Consent: the strictest wins ----------------------------------------------------------


def test_consent_is_not_granted_unless_chosen_explicitly(owner):
    agreed_at = timezone.now() - timedelta(days=30)
    primary = contact(owner)
    other = contact(owner, email_opt_in=True, email_opt_in_at=agreed_at, email_opt_in_source="Trade fair",
                    email_opt_in_wording="Yes, send me news")
    contacts_merge(primary=primary, others=[other], choices={}, actor=owner)
    merged = fresh(primary)
    assert merged.email_opt_in is False and merged.email_opt_in_at is None and merged.email_opt_in_source == ""


def test_explicitly_chosen_consent_comes_with_its_evidence(owner):
    agreed_at = timezone.now() - timedelta(days=30)
    primary = contact(owner)
    other = contact(owner, email_opt_in=True, email_opt_in_at=agreed_at, email_opt_in_source="Trade fair",
                    email_opt_in_wording="Yes, send me news")
    contacts_merge(primary=primary, others=[other], choices={merge.CONSENT: other.pk}, actor=owner)
    merged = fresh(primary)
    assert merged.email_opt_in is True
    assert (merged.email_opt_in_at, merged.email_opt_in_source, merged.email_opt_in_wording) == (
        agreed_at, "Trade fair", "Yes, send me news")


def test_an_opt_out_or_do_not_call_on_any_record_wins(owner):
    opted_out_at = timezone.now() - timedelta(days=3)
    primary = contact(owner, email_opt_in=True, email_opt_in_at=timezone.now() - timedelta(days=1))
    other = contact(owner, email_opted_out_at=opted_out_at, do_not_call=True)
    contacts_merge(primary=primary, others=[other], choices={merge.CONSENT: primary.pk}, actor=owner)
    merged = fresh(primary)
    assert merged.email_opt_in is False
    assert merged.email_opted_out_at == opted_out_at
    assert merged.do_not_call is True


def test_compare_page_preselects_the_record_without_consent_and_says_the_strictest_wins(client, owner):
    primary = contact(owner, email_opt_in=True, email_opt_in_at=timezone.now())
    other = contact(owner, do_not_call=True)
    client.force_login(owner)
    html = client.get(compare_url(primary, other)).content.decode()
    assert f'id="choice_email_opt_in_{other.pk}" value="{other.pk}" data-record="{other.pk}" data-explicit checked' \
        in html
    assert f'id="choice_email_opt_in_{primary.pk}" value="{primary.pk}" data-record="{primary.pk}" data-explicit>' \
        in html
    assert "Consent: the strictest wins." in html


# --- Related rows ---------------------------------------------------------------------


def test_every_related_row_of_a_contact_moves_and_attendees_are_not_doubled(owner, teammate):
    primary, other, third = contact(owner), contact(owner), contact(owner)
    call = activity(owner=teammate, subject="Call from the other", contact=other)
    shared_meeting = activity(owner=owner, subject="Meeting of both", kind=ActivityKind.MEETING)
    shared_meeting.contact_attendees.add(primary, other, third)
    their_meeting = activity(owner=owner, subject="Meeting of the others", kind=ActivityKind.MEETING)
    their_meeting.contact_attendees.add(other, third)
    deleted_note = activity(owner=owner, subject="Deleted note", contact=third, deleted_at=timezone.now())

    result = contacts_merge(primary=primary, others=[other, third], choices={}, actor=owner)

    assert fresh(call).contact_id == primary.pk
    assert fresh(deleted_note).contact_id == primary.pk  # the recycle bin stays consistent too
    assert list(shared_meeting.contact_attendees.values_list("pk", flat=True)) == [primary.pk]
    assert list(their_meeting.contact_attendees.values_list("pk", flat=True)) == [primary.pk]
    assert primary.meetings.count() == 2
    assert result.merged_ids == [other.pk, third.pk] and result.kept == 0


def test_every_related_row_of_an_account_moves_and_it_never_becomes_its_own_parent(owner):
    holding = AccountFactory(owner=owner, name="Keller Holding")
    other = AccountFactory(owner=owner, name="Keller GmbH", parent=holding)
    primary = AccountFactory(owner=owner, name="Keller AG", parent=other)  # a duplicate filed under its twin
    child = AccountFactory(owner=owner, name="Keller Services", parent=other)
    person = contact(owner, account=other)
    call = activity(owner=owner, account=other, contact=person)

    accounts_merge(primary=primary, others=[other], choices={}, actor=owner)

    assert fresh(person).account_id == primary.pk
    assert fresh(call).account_id == primary.pk
    assert fresh(child).parent_id == primary.pk
    assert fresh(primary).parent_id is None  # its parent was the record merged into it
    assert fresh(other).deleted_at is not None


def test_the_parent_of_a_merged_account_can_be_chosen(owner):
    holding = AccountFactory(owner=owner, name="Keller Holding")
    primary = AccountFactory(owner=owner, name="Keller AG")
    other = AccountFactory(owner=owner, name="Keller GmbH", parent=holding)
    accounts_merge(primary=primary, others=[other], choices={"parent": other.pk}, actor=owner)
    assert fresh(primary).parent_id == holding.pk


def test_a_parent_from_its_own_subsidiaries_is_refused_and_nothing_changes(owner):
    primary = AccountFactory(owner=owner, name="Keller AG")
    subsidiary = AccountFactory(owner=owner, name="Keller Services", parent=primary)
    other = AccountFactory(owner=owner, name="Keller GmbH", parent=subsidiary)
    with pytest.raises(MergeError):
        accounts_merge(primary=primary, others=[other], choices={"parent": other.pk}, actor=owner)
    assert fresh(other).deleted_at is None and fresh(primary).parent_id is None


@pytest.fixture
def later_module_relation(db):
    """A relation a later module will add (campaign memberships: one per campaign and contact),
    without a migration: a model registered for this test only, its table created inside the
    test's transaction (rolled back with it). Its foreign key is hidden (related_name="+"), the
    hardest case for a generic walk."""

    class CampaignMembership(models.Model):
        contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+")
        campaign = models.CharField(max_length=50)

        class Meta:
            app_label = "crm"
            constraints = [models.UniqueConstraint(fields=["contact", "campaign"], name="test_merge_membership_once")]

        def __str__(self):
            return self.campaign

    with connection.schema_editor() as editor:
        editor.create_model(CampaignMembership)
    try:
        yield CampaignMembership
    finally:
        del apps.all_models["crm"]["campaignmembership"]
        apps.clear_cache()


def test_relations_of_later_modules_move_generically(owner, later_module_relation):
    Membership = later_module_relation
    primary, other = contact(owner), contact(owner)
    Membership.objects.create(contact=primary, campaign="spring")
    twin = Membership.objects.create(contact=other, campaign="spring")
    autumn = Membership.objects.create(contact=other, campaign="autumn")

    result = contacts_merge(primary=primary, others=[other], choices={}, actor=owner)

    assert Membership.objects.get(pk=autumn.pk).contact_id == primary.pk
    # The primary is already a member: the twin stays (on the merged record), neither lost nor doubled.
    assert Membership.objects.get(pk=twin.pk).contact_id == other.pk
    assert result.kept == 1
    assert Membership.objects.filter(contact=primary).count() == 2


def test_history_events_are_not_repointed(owner):
    primary, other = contact(owner), contact(owner)
    ContactEvent = apps.get_model("contacts", "ContactEvent")
    before = set(ContactEvent.objects.filter(pgh_obj_id=other.pk).values_list("pgh_id", flat=True))
    contacts_merge(primary=primary, others=[other], choices={}, actor=owner)
    assert before <= set(ContactEvent.objects.filter(pgh_obj_id=other.pk).values_list("pgh_id", flat=True))
    assert all(issubclass(rel.related_model, pghistory.models.Event) is False
               for rel in merge.related_relations(Contact))


# --- Audit history: one context --------------------------------------------------------


def test_the_whole_merge_is_one_history_context(owner):
    primary = contact(owner, title="Buyer")
    other, third = contact(owner, title="Head of Purchasing"), contact(owner)
    call = activity(owner=owner, contact=third)
    ContactEvent = apps.get_model("contacts", "ContactEvent")
    ActivityEvent = apps.get_model("activities", "ActivityEvent")
    last_contact_event = ContactEvent.objects.order_by("-pgh_id").values_list("pgh_id", flat=True).first()
    last_activity_event = ActivityEvent.objects.order_by("-pgh_id").values_list("pgh_id", flat=True).first()

    contacts_merge(primary=primary, others=[other, third], choices={"title": other.pk}, actor=owner)

    events = [*ContactEvent.objects.filter(pgh_id__gt=last_contact_event),
              *ActivityEvent.objects.filter(pgh_id__gt=last_activity_event)]
    assert {(type(e).__name__, e.pgh_obj_id) for e in events} >= {
        ("ContactEvent", primary.pk), ("ContactEvent", other.pk), ("ContactEvent", third.pk),
        ("ActivityEvent", call.pk)}
    assert len({e.pgh_context_id for e in events}) == 1
    context = pghistory.models.Context.objects.get(pk=events[0].pgh_context_id)
    assert context.metadata["merged_ids"] == [other.pk, third.pk]
    assert context.metadata["actor"] == owner.pk
    assert context.metadata["merge"]["into"] == primary.pk

    entry = history_for(fresh(primary), user=owner)[0]
    assert entry.merged_with == [str(other), str(third)]
    assert ("job title", "Buyer", "Head of Purchasing") in entry.changes


def test_the_history_shows_the_merge_even_when_the_primary_did_not_change(owner):
    primary = contact(owner, first="Maria", last="Keller", emails=["maria@a.example"], phones=["+442079460001"])
    other = contact(owner, first="Maria", last="Keller", emails=["maria@a.example"], phones=["+442079460001"])
    contacts_merge(primary=primary, others=[other], choices={}, actor=owner)
    entry = history_for(fresh(primary), user=owner)[0]
    assert entry.merged_with == [str(other)]
    assert entry.user == owner


def test_the_history_card_says_merged_with(client, owner):
    primary, other = contact(owner, title="Buyer"), contact(owner, first="Marie", title="CEO")
    client.force_login(owner)
    assert _post(client, primary, other, title=other.pk).status_code == 302
    html = client.get(primary.get_absolute_url()).content.decode()
    assert "merged with Marie Keller" in html


# --- The pages: authorization, limits, messages ----------------------------------------


def _stamp(*records):
    from crm.merge_views import _stamp as stamp

    return stamp([fresh(record) for record in records])


class _FormReader(HTMLParser):
    """What a browser would submit from the comparison page: hidden inputs and checked radios."""

    def __init__(self):
        super().__init__()
        self.data = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("name") and (
                attrs.get("type") == "hidden" or (attrs.get("type") == "radio" and "checked" in attrs)):
            self.data[attrs["name"]] = attrs.get("value", "")


def _post(client, primary, *others, **choices):
    """Open the comparison page, change the given rows, submit it."""
    url = reverse(_url_name(primary), args=[primary.pk])
    page = client.get(url + "?ids=" + ",".join(str(o.pk) for o in others))
    reader = _FormReader()
    reader.feed(page.content.decode())
    data = reader.data if "stamp" in reader.data else {"ids": ",".join(str(o.pk) for o in others)}
    data.update({f"choice_{name}": value for name, value in choices.items()})
    return client.post(url, data)


def _url_name(record) -> str:
    return "accounts:merge" if isinstance(record, Account) else "contacts:merge"


def test_merge_through_the_page_and_the_merged_record_is_gone(client, owner):
    primary = contact(owner, title="Buyer")
    other = contact(owner, first="Marie", title="Head of Purchasing")
    activity(owner=owner, subject="Fair meeting", contact=other)
    client.force_login(owner)
    response = client.get(compare_url(primary, other))
    assert response.status_code == 200
    assert f'name="choice_title" id="choice_title_{other.pk}"' in response.content.decode()

    response = _post(client, primary, other, title=other.pk, first_name=primary.pk, emails=merge.UNION)
    assert response.status_code == 302 and response.url == primary.get_absolute_url()
    page = client.get(primary.get_absolute_url()).content.decode()
    assert "Fair meeting" in page and "1 record was merged into Maria Keller" in page
    assert fresh(primary).title == "Head of Purchasing"
    assert client.get(other.get_absolute_url()).status_code == 404
    assert client.get(compare_url(primary, other)).status_code == 404  # cannot be merged twice


def test_an_outsiders_record_answers_404_and_nothing_changes(client, owner, outsider):
    primary = contact(owner)
    theirs = contact(outsider)
    client.force_login(owner)
    assert client.get(compare_url(primary, theirs)).status_code == 404
    assert _post(client, primary, theirs).status_code == 404
    assert client.get(reverse("contacts:merge", args=[theirs.pk])).status_code == 404
    assert fresh(theirs).deleted_at is None


@pytest.mark.parametrize("bad_id", ["999999", "abc", "deleted"])
def test_missing_malformed_or_deleted_ids_answer_404(client, owner, bad_id):
    primary = contact(owner)
    if bad_id == "deleted":
        bad_id = str(contact(owner, deleted_at=timezone.now()).pk)
    client.force_login(owner)
    assert client.get(reverse("contacts:merge", args=[primary.pk]) + f"?ids={bad_id}").status_code == 404


def test_an_executive_may_read_but_not_merge(client, owner, executive):
    primary, other = contact(owner), contact(owner)
    client.force_login(executive)
    assert client.get(reverse("contacts:merge", args=[primary.pk])).status_code == 403
    assert client.post(reverse("contacts:merge", args=[primary.pk]), {"ids": other.pk}).status_code == 403
    account = AccountFactory(owner=owner)
    assert client.get(reverse("accounts:merge", args=[account.pk])).status_code == 403
    assert fresh(other).deleted_at is None


def test_a_read_only_record_among_the_chosen_answers_403(client, owner, monkeypatch):
    primary, other = contact(owner), contact(owner)
    from crm import merge_views

    monkeypatch.setattr(merge_views, "can_edit", lambda user, obj: obj.pk != other.pk)
    client.force_login(owner)
    assert client.get(compare_url(primary, other)).status_code == 403
    assert _post(client, primary, other).status_code == 403
    assert fresh(other).deleted_at is None


def test_a_teammates_shared_record_can_be_merged_and_an_unshared_one_cannot(client, owner, teammate):
    primary = contact(owner)
    shared = contact(teammate, shared_with_team=True)
    private = contact(teammate)
    client.force_login(owner)
    assert client.get(compare_url(primary, private)).status_code == 404
    assert _post(client, primary, shared).status_code == 302
    assert fresh(shared).deleted_at is not None


def test_merging_with_itself_or_nothing_gives_a_message(client, owner):
    primary = contact(owner)
    client.force_login(owner)
    response = client.get(compare_url(primary, primary))
    assert response.status_code == 200 and "cannot be merged with itself" in response.content.decode()
    response = client.get(reverse("contacts:merge", args=[primary.pk]) + "?ids=")
    assert "Choose at least one record" in response.content.decode()
    with pytest.raises(MergeError):
        contacts_merge(primary=primary, others=[], choices={}, actor=owner)
    with pytest.raises(MergeError):
        contacts_merge(primary=primary, others=[primary], choices={}, actor=owner)


def test_at_most_ten_records_at_once(client, owner):
    primary = contact(owner)
    others = [contact(owner, first=f"Maria{n}") for n in range(10)]
    client.force_login(owner)
    response = _post(client, primary, *others)
    assert response.status_code == 400 and "at most 10 records" in response.content.decode()
    assert Contact.objects.alive().count() == 11
    with pytest.raises(MergeError):
        contacts_merge(primary=primary, others=others, choices={}, actor=owner)
    assert client.get(compare_url(primary, *others[:9])).status_code == 200  # ten in all is fine


def test_a_record_changed_meanwhile_asks_to_check_again(client, owner):
    primary, other = contact(owner), contact(owner, title="Buyer")
    client.force_login(owner)
    stamp = _stamp(primary, other)
    Contact.objects.filter(pk=other.pk).update(title="CFO", updated_at=timezone.now() + timedelta(seconds=1))
    response = client.post(reverse("contacts:merge", args=[primary.pk]), {
        "ids": other.pk, "stamp": stamp, f"choice_{merge.CONSENT}": primary.pk})
    assert response.status_code == 400 and "changed while you were comparing" in response.content.decode()
    assert fresh(other).deleted_at is None


def test_the_pick_page_offers_only_duplicates_the_user_may_edit(client, owner, outsider):
    primary = contact(owner, first="Maria", last="Keller", phones=["+442079460001"])
    mine = contact(owner, first="Maria", last="Kellermann", phones=["+442079460001"])
    theirs = contact(outsider, first="Maria", last="Keller", phones=["+442079460001"])
    client.force_login(owner)
    response = client.get(reverse("contacts:merge", args=[primary.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert f'id="candidate-{mine.pk}"' in html
    assert f'id="candidate-{theirs.pk}"' not in html
    assert 'data-autocomplete-url="/autocomplete/contacts/"' in html


def test_the_pick_page_keeps_a_selection_to_change(client, owner):
    primary, other = contact(owner, last="Keller"), contact(owner, first="Zed", last="Unrelated")
    client.force_login(owner)
    html = client.get(compare_url(primary, other) + "&step=pick").content.decode()
    assert f'<option value="{other.pk}" selected>' in html


def test_account_merge_page_compares_and_merges(client, owner):
    primary = AccountFactory(owner=owner, name="Keller AG", industry="")
    other = AccountFactory(owner=owner, name="Keller GmbH", industry="Retail")
    client.force_login(owner)
    url = reverse("accounts:merge", args=[primary.pk]) + f"?ids={other.pk}"
    html = client.get(url).content.decode()
    assert f'id="choice_industry_{other.pk}" value="{other.pk}" data-record="{other.pk}" checked' in html
    assert _post(client, primary, other, name=other.pk).status_code == 302
    merged = fresh(primary)
    assert (merged.name, merged.industry) == ("Keller GmbH", "Retail")
    assert fresh(other).deleted_at is not None


def test_compare_page_query_count_does_not_grow_with_the_records(client, owner, django_assert_max_num_queries):
    primary = contact(owner)
    others = [contact(owner, first=f"Maria{n}", account=AccountFactory(owner=owner)) for n in range(9)]
    for other in others:
        activity(owner=owner, contact=other).contact_attendees.add(other)
    client.force_login(owner)
    client.get(compare_url(primary, others[0]))  # warm the session and caches
    with CaptureQueriesContext(connection) as two:
        assert client.get(compare_url(primary, others[0])).status_code == 200
    with CaptureQueriesContext(connection) as ten:
        assert client.get(compare_url(primary, *others)).status_code == 200
    assert len(ten) == len(two)
    with django_assert_max_num_queries(20):  # a count per kind of relation (marketing: 5, field: 1)
        client.get(compare_url(primary, *others))


def test_account_compare_page_query_count_is_bounded(client, owner, django_assert_max_num_queries):
    primary = AccountFactory(owner=owner)
    others = [AccountFactory(owner=owner, parent=AccountFactory(owner=owner)) for _ in range(9)]
    client.force_login(owner)
    url = reverse("accounts:merge", args=[primary.pk]) + "?ids=" + ",".join(str(o.pk) for o in others)
    with django_assert_max_num_queries(20):  # one count per kind of related record
        assert client.get(url).status_code == 200


def test_merged_contacts_leave_lists_and_search(owner):
    primary, other = contact(owner), contact(owner)
    contacts_merge(primary=primary, others=[other], choices={}, actor=owner)
    assert list(Contact.objects.visible_to(owner).values_list("pk", flat=True)) == [primary.pk]
    assert Account.objects.count() == 0


def test_merge_cannot_link_the_kept_record_to_a_hidden_account(owner, outsider):
    hidden = AccountFactory(owner=outsider, name="Hidden Holdings")
    primary = ContactFactory(owner=owner, last_name="Twin", account=None)
    other = ContactFactory(owner=owner, last_name="Twin", account=hidden)
    with pytest.raises(MergeError):
        contacts_merge(primary=primary, others=[other], choices={"account": other.pk}, actor=owner)
    assert fresh(primary).account_id is None and fresh(other).deleted_at is None
