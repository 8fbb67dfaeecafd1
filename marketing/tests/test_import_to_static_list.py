"""An import fills a static list (marketing/importers.py through imports/destinations.py): every row
created, updated or matched goes on the list, failed rows do not; the list is one the importer may edit
(a forged id changes nothing), a new one is created when the import starts; running it again adds nobody
twice; members go in with one INSERT per batch; the result page says how many, with a link."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contacts.models import Contact
from contacts.tests.factories import ContactFactory
from crm.models import Role
from crm.tests.factories import UserFactory
from imports import services
from imports.models import ImportJob, ImportStatus
from marketing import services as marketing_services
from marketing.importers import LIST_FIELD, NAME_FIELD
from marketing.models import StaticList, StaticListMember
from sales.models import Lead
from sales.tests.factories import LeadFactory

pytestmark = [pytest.mark.django_db]

CONTACT_HEADER = ["Фамилия", "Имя", "Эл. почта", "Телефон"]
LEAD_HEADER = ["Фамилия", "Имя", "Компания", "Эл. почта"]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def cp1251_csv(header, rows, name="люди.csv"):
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=";").writerows([header, *rows])
    return SimpleUploadedFile(name, buffer.getvalue().encode("cp1251"))


def run(user, target, header, rows, *, options, policy="skip", batch_size=1000):
    """The job as the wizard leaves it, then run in-process (the code a Celery worker runs)."""
    job = services.job_create(user=user, target=target, upload=cp1251_csv(header, rows))
    services.job_set_mapping(job=job, mapping=job.mapping, duplicate_policy=policy, clear_empty=False,
                             chosen_destinations={"marketing.static_list": options})
    ImportJob.objects.filter(pk=job.pk).update(batch_size=batch_size)
    job.refresh_from_db()
    services.job_start(job=job)
    services.job_run(job_id=job.pk)
    job.refresh_from_db()
    return job


def members(static_list):
    rows = StaticListMember.objects.filter(static_list=static_list)
    return (sorted(rows.exclude(contact=None).values_list("contact__last_name", flat=True)),
            sorted(rows.exclude(lead=None).values_list("lead__last_name", flat=True)))


def test_contacts_created_and_updated_join_the_list_failed_rows_do_not(owner):
    ContactFactory(owner=owner, team=owner.team, last_name="Старожилова", first_name="Анна",
                   emails=["anna@example.com"], phones=[])
    static_list = marketing_services.static_list_create(actor=owner, name="Гости выставки")
    job = run(owner, "contacts.contact", CONTACT_HEADER, [
        ["Иванов", "Иван", "ivan@example.com", ""],
        ["Старожилова", "Анна", "anna@example.com", "+7 912 345-67-89"],  # matched: updated
        ["", "Безфамильный", "nolast@example.com", ""],  # failed: no last name
        ["Петренко", "Ольга", "not-an-email", ""],  # failed: a bad e-mail
        ["Шевченко", "Тарас", "taras@example.com", ""],
    ], options={"list": static_list.pk}, policy="update")
    assert (job.created, job.updated, job.failed) == (2, 1, 2)
    assert members(static_list) == (["Иванов", "Старожилова", "Шевченко"], [])
    assert job.destination_counts == {"marketing.static_list": {"rows": 3, "added": 3}}
    assert StaticListMember.objects.filter(static_list=static_list, added_by=owner).count() == 3


def test_leads_created_and_matched_join_the_list_with_the_skip_policy(marketer):
    """With "skip", a row matching a lead the importer may edit changes nothing, yet the person is on the list."""
    existing = LeadFactory(owner=marketer, last_name="Коваленко", first_name="Олена", email="olena@example.com")
    static_list = marketing_services.static_list_create(actor=marketer, name="Вебінар")
    job = run(marketer, "sales.lead", LEAD_HEADER, [
        ["Коваленко", "Олена", "ТОВ Зоря", "olena@example.com"],  # matched: skipped, but on the list
        ["Бондаренко", "Ігор", "ТОВ Світанок", "igor@example.com"],
        ["", "Без прізвища", "", "none@example.com"],  # failed
    ], options={"list": static_list.pk})
    assert (job.created, job.skipped, job.failed) == (1, 1, 1)
    assert members(static_list) == ([], ["Бондаренко", "Коваленко"])
    assert StaticListMember.objects.filter(static_list=static_list, lead=existing).exists()


def test_a_match_the_importer_may_not_edit_is_not_put_on_the_list(owner, outsider):
    """The row is skipped as "belongs to someone else": their contact is never touched, nor listed."""
    ContactFactory(owner=outsider, team=outsider.team, last_name="Чужой", emails=["other@example.com"])
    static_list = marketing_services.static_list_create(actor=owner, name="Мои")
    job = run(owner, "contacts.contact", CONTACT_HEADER, [["Чужой", "", "other@example.com", ""]],
              options={"list": static_list.pk}, policy="update")
    assert job.skipped == 1 and not static_list.members.exists()


def test_running_the_same_import_again_adds_nobody_twice(owner, client):
    static_list = marketing_services.static_list_create(actor=owner, name="Рассылка")
    rows = [["Иванов", "Иван", "ivan@example.com", ""], ["Сидорова", "Мария", "maria@example.com", ""]]
    first = run(owner, "contacts.contact", CONTACT_HEADER, rows, options={"list": static_list.pk})
    again = run(owner, "contacts.contact", CONTACT_HEADER, rows, options={"list": static_list.pk})
    assert again.skipped == 2 and static_list.members.count() == 2
    assert first.destination_counts["marketing.static_list"] == {"rows": 2, "added": 2}
    assert again.destination_counts["marketing.static_list"] == {"rows": 2, "added": 0}
    client.force_login(owner)
    page = client.get(reverse("imports:detail", args=[again.pk])).content.decode()
    assert "0 people were added to the static list “Рассылка”. 2 were on it already." in page
    assert reverse("marketing:static_list_detail", args=[static_list.pk]) in page


def test_a_new_list_named_in_the_wizard_is_created_when_the_import_starts(owner):
    job = run(owner, "contacts.contact", CONTACT_HEADER, [["Іваненко", "Петро", "petro@example.com", ""]],
              options={"new": "Імпорт з виставки"})
    static_list = StaticList.objects.get(name="Імпорт з виставки")
    assert static_list.owner == owner and static_list.team_id == owner.team_id
    assert job.destinations == {"marketing.static_list": {"list": static_list.pk}}
    assert members(static_list) == (["Іваненко"], [])


def test_members_go_in_with_one_insert_per_batch(owner):
    static_list = marketing_services.static_list_create(actor=owner, name="Большой список")
    rows = [[f"Фамилия{n}", "Имя", f"person{n}@example.com", ""] for n in range(30)]
    with CaptureQueriesContext(connection) as queries:
        job = run(owner, "contacts.contact", CONTACT_HEADER, rows, options={"list": static_list.pk}, batch_size=10)
    inserts = [q["sql"] for q in queries.captured_queries
               if f"INSERT INTO {StaticListMember._meta.db_table} " in q["sql"]]
    assert job.batches_done == 3 and len(inserts) == 3
    assert static_list.members.count() == 30


def test_a_list_lost_before_the_run_adds_nobody_and_the_result_says_so(owner, client):
    static_list = marketing_services.static_list_create(actor=owner, name="Удалённый")
    job = services.job_create(user=owner, target="contacts.contact",
                              upload=cp1251_csv(CONTACT_HEADER, [["Иванов", "Иван", "ivan@example.com", ""]]))
    services.job_set_mapping(job=job, mapping=job.mapping, duplicate_policy="skip", clear_empty=False,
                             chosen_destinations={"marketing.static_list": {"list": static_list.pk}})
    services.job_start(job=job)
    marketing_services.static_list_delete(static_list=static_list, actor=owner)
    job = services.job_run(job_id=job.pk)
    assert job.created == 1 and not StaticListMember.objects.exists()
    client.force_login(owner)
    page = client.get(reverse("imports:detail", args=[job.pk])).content.decode()
    assert "no longer one you may add to: nobody was added" in page


# --- The wizard's pages ---------------------------------------------------------------------------


def upload(client, target, header, rows):
    client.post(reverse("imports:upload"), {"target": target, "file": cp1251_csv(header, rows)})
    return ImportJob.objects.latest("id")


def mapping_post(client, job, **extra):
    data = {f"col_{i}": key for i, key in job.mapping.items()}
    data.update(duplicate_policy="skip", **extra)
    return client.post(reverse("imports:mapping", args=[job.pk]), data)


def test_through_the_pages_and_the_celery_task(owner, client, django_capture_on_commit_callbacks):
    """Upload → mapping with a list → preview says so → start (the Celery task, run eagerly) → result."""
    static_list = marketing_services.static_list_create(actor=owner, name="Клиенты 2026")
    client.force_login(owner)
    job = upload(client, "contacts.contact", CONTACT_HEADER, [["Иванов", "Иван", "ivan@example.com", ""]])
    page = client.get(reverse("imports:mapping", args=[job.pk])).content.decode()
    assert "Also add the imported rows to a static list" in page and "Клиенты 2026" in page
    assert mapping_post(client, job, **{LIST_FIELD: str(static_list.pk)}).status_code == 302
    assert "will also be added to the static list “Клиенты 2026”" in client.get(
        reverse("imports:preview", args=[job.pk])).content.decode()
    assert f'value="{static_list.pk}" selected' in client.get(
        reverse("imports:mapping", args=[job.pk])).content.decode()  # the choice is kept when coming back
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("imports:start", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE and members(static_list) == (["Иванов"], [])
    page = client.get(reverse("imports:detail", args=[job.pk])).content.decode()
    assert "1 person was added to the static list “Клиенты 2026”." in page


@pytest.mark.parametrize("forged", ["other", "missing", "garbage"])
def test_a_forged_list_is_refused_with_a_message_and_changes_nothing(forged, owner, outsider, client):
    theirs = marketing_services.static_list_create(actor=outsider, name="Чужой список")
    value = {"other": str(theirs.pk), "missing": "999999", "garbage": "1; DROP"}[forged]
    client.force_login(owner)
    job = upload(client, "contacts.contact", CONTACT_HEADER, [["Иванов", "Иван", "ivan@example.com", ""]])
    response = mapping_post(client, job, **{LIST_FIELD: value})
    assert response.status_code == 200
    assert "That static list is not one you may add to." in response.content.decode()
    job.refresh_from_db()
    assert job.status == ImportStatus.MAPPING and job.destinations == {} and job.duplicate_policy == "skip"
    assert "Чужой список" not in client.get(reverse("imports:mapping", args=[job.pk])).content.decode()


def test_a_new_list_needs_a_name(owner, client):
    client.force_login(owner)
    job = upload(client, "contacts.contact", CONTACT_HEADER, [["Иванов", "Иван", "ivan@example.com", ""]])
    response = mapping_post(client, job, **{LIST_FIELD: "new", NAME_FIELD: "  "})
    assert "Name the new static list" in response.content.decode()
    job.refresh_from_db()
    assert job.destinations == {} and not StaticList.objects.exists()


def test_only_lists_the_user_may_edit_are_offered_and_only_to_who_may_make_lists(owner, teammate, client,
                                                                                 django_assert_max_num_queries):
    mine = marketing_services.static_list_create(actor=owner, name="Мой список")
    private = marketing_services.static_list_create(actor=teammate, name="Список коллеги")
    for n in range(30):
        marketing_services.static_list_create(actor=owner, name=f"Список {n}")
    client.force_login(owner)
    job = upload(client, "contacts.contact", CONTACT_HEADER, [["Иванов", "Иван", "ivan@example.com", ""]])
    with django_assert_max_num_queries(15):
        page = client.get(reverse("imports:mapping", args=[job.pk])).content.decode()
    assert mine.name in page and private.name not in page
    # Products: the option is not offered (contacts and leads only).
    admin = UserFactory(role=Role.ADMIN)
    client.force_login(admin)
    job = upload(client, "sales.product", ["SKU", "Name"], [["A-1", "Товар"]])
    assert "Also add the imported rows" not in client.get(reverse("imports:mapping", args=[job.pk])).content.decode()


def test_leads_imported_by_a_marketer_through_the_pages(marketer, client, django_capture_on_commit_callbacks):
    client.force_login(marketer)
    job = upload(client, "sales.lead", LEAD_HEADER, [["Ковальчук", "Марія", "ТОВ Ранок", "maria@example.com"],
                                                     ["", "", "", "bad"]])
    assert mapping_post(client, job, **{LIST_FIELD: "new", NAME_FIELD: "Ліди з виставки"}).status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("imports:start", args=[job.pk]))
    static_list = StaticList.objects.get(name="Ліди з виставки")
    assert members(static_list) == ([], ["Ковальчук"])
    assert Lead.objects.filter(last_name="Ковальчук").exists() and Contact.objects.count() == 0
