"""The bulk write path the import job uses: values survive the trip, and the audit history is the
same as django-pghistory's triggers write."""

import pghistory
import pytest

from contacts.models import Contact, ContactEvent
from contacts.tests.factories import ContactFactory
from imports.importers import external_id_matches, insert_rows, insert_with_history, new_instance
from imports.models import ImportedRecord, ImportRow
from imports.tests.test_import import run

pytestmark = [pytest.mark.django_db]

AWKWARD = ['with "quotes"', "back\\slash", "comma, and {braces}", "NULL", "", "тег"]


def test_insert_rows_keeps_every_value(owner):
    job = run(owner, [["Иванов", "", "", "", "", ""]])
    rows = [(job.pk, 1001, "failed", None, None, "why", ["a", 'b"', "\\c", None]),
            (job.pk, 1002, "updated", 7, {"title": "Old", "tags": ["x"]}, "", None),
            (job.pk, 1003, "failed", None, None, "why", ["a"])]
    insert_rows(ImportRow, ["job", "row_number", "action", "object_id", "previous", "reason", "values"], rows)
    stored = {r.row_number: r for r in ImportRow.objects.filter(row_number__gt=1000)}
    assert stored[1001].values == ["a", 'b"', "\\c", None] and stored[1001].previous is None
    assert stored[1002].previous == {"title": "Old", "tags": ["x"]} and stored[1002].values is None
    assert stored[1002].object_id == 7 and stored[1003].reason == "why"


def test_insert_rows_when_every_column_is_constant(owner):
    job = run(owner, [["Иванов", "", "", "", "", ""]])
    rows = [("contacts.contact", "same", 1, job.pk, job.created_at)] * 3
    insert_rows(ImportedRecord, ["target", "external_id", "object_id", "job", "created_at"], rows)
    assert sorted(external_id_matches("contacts.contact", ["same", "other"])) == [("same", 1)] * 3


def test_insert_with_history_writes_one_event_per_record(owner):
    contacts = [new_instance(Contact, owner_id=owner.pk, team_id=owner.team_id, last_name=f"Bulk{n}",
                             full_name=f"Bulk{n}", tags=AWKWARD, emails=[f"bulk{n}@example.com"],
                             custom={"size": n}) for n in range(3)]
    with pghistory.context(source="import", import_job=99):
        insert_with_history(Contact, contacts)
    assert all(c.pk for c in contacts)
    stored = Contact.objects.get(pk=contacts[1].pk)
    assert stored.tags == AWKWARD and stored.custom == {"size": 1} and stored.emails == ["bulk1@example.com"]
    assert stored.created_at and stored.updated_at and stored.owner == owner

    events = ContactEvent.objects.filter(pgh_obj__in=contacts).order_by("pgh_obj_id")
    assert [e.pgh_label for e in events] == ["insert"] * 3
    assert {e.pgh_context.metadata["import_job"] for e in events} == {99}
    assert events[1].tags == AWKWARD and events[1].last_name == "Bulk1" and events[1].owner_id == owner.pk

    # The insert trigger is skipped only for that statement: other writes are still recorded by it
    other = ContactFactory(owner=owner, last_name="Later")
    assert ContactEvent.objects.filter(pgh_obj=other, pgh_label="insert").count() == 1


def test_an_import_records_history_in_its_context(owner):
    existing = ContactFactory(owner=owner, team=owner.team, last_name="Петров", emails=["p@example.com"], phones=[])
    job = run(owner, [["Иванов", "Иван", "i@example.com", "", "", ""],
                      ["Петров", "Пётр", "p@example.com", "", "", "Директор"]], policy="update")
    assert (job.created, job.updated) == (1, 1)
    events = ContactEvent.objects.filter(pgh_context__metadata__import_job=job.pk)
    assert sorted(events.values_list("pgh_label", "last_name")) == [("insert", "Иванов"), ("update", "Петров")]
    assert events.get(pgh_label="update").pgh_obj_id == existing.pk
    assert {e.pgh_context.metadata["source"] for e in events} == {"import"}
    assert {e.pgh_context.metadata["actor"] for e in events} == {owner.pk}


def test_the_history_names_who_ran_the_import_not_system(owner, client):
    job = run(owner, [["Иванов", "Иван", "i@example.com", "", "", ""]])
    assert job.created == 1
    client.force_login(owner)
    page = client.get(Contact.objects.get(last_name="Иванов").get_absolute_url()).content.decode()
    history = page[page.index('id="history"'):] if 'id="history"' in page else page
    assert str(owner) in history and "system" not in history
