"""The import reads numbers without a country code in a country chosen on the mapping page,
which defaults to the user's (their team's) country: a 1C export from a Russian office imports
with its "8 (9xx)" numbers, while a UK user's "020" numbers keep working."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import Account
from contacts.models import Contact
from crm.models import Role
from crm.tests.factories import TeamFactory, UserFactory
from imports import services
from imports.models import ImportJob, ImportStatus

pytestmark = [pytest.mark.django_db]

HEADER = ["Фамилия", "Имя", "Отчество", "Телефон", "Эл. почта"]
RUSSIAN_ROWS = [
    ["Волков", "Алексей", "Петрович", "8 (912) 345-67-89", "volkov@example.ru"],
    ["Смирнова", "Анна", "Сергеевна", "+7 916 638-38-11", "smirnova@example.ru"],
    ["Кузнецов", "Игорь", "Владимирович", "89166383812", ""],
    ["Попова", "Мария", "Ивановна", "8-495-123-45-67; 8 (903) 111-22-33", ""],
]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def ru_rep(db):
    return UserFactory(email="ivanov@example.ru", role=Role.SALES_REP, team=TeamFactory(name="Продажи", country="RU"))


@pytest.fixture
def uk_rep(db):
    return UserFactory(email="porter@example.co.uk", role=Role.SALES_REP, team=TeamFactory(name="UK", country="GB"))


def cp1251_csv(rows, header=HEADER):
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=";").writerows([header, *rows])
    return SimpleUploadedFile("kontakty.csv", buffer.getvalue().encode("cp1251"))


def run(job):
    services.job_start(job=job)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.QUEUED)
    services.job_run(job_id=job.pk)
    job.refresh_from_db()
    return job


def test_a_russian_team_imports_russian_numbers_with_the_defaults(ru_rep):
    job = services.job_create(user=ru_rep, target="contacts.contact", upload=cp1251_csv(RUSSIAN_ROWS))
    assert job.phone_region == "RU"  # the user's team's country, before anyone chooses
    job = run(job)
    assert (job.created, job.failed) == (4, 0)
    assert Contact.objects.get(last_name="Волков").phones == ["+79123456789"]
    assert Contact.objects.get(last_name="Волков").middle_name == "Петрович"
    assert Contact.objects.get(last_name="Кузнецов").phones == ["+79166383812"]
    assert Contact.objects.get(last_name="Попова").phones == ["+74951234567", "+79031112233"]


def test_uk_numbers_still_import_for_a_uk_user(uk_rep):
    job = run(services.job_create(user=uk_rep, target="contacts.contact", upload=cp1251_csv(
        [["Hopper", "Grace", "", "020 7946 0000", ""]])))
    assert (job.created, job.failed) == (1, 0)
    assert Contact.objects.get().phones == ["+442079460000"]


def test_the_country_chosen_on_the_mapping_page_reads_the_file(client, uk_rep):
    client.force_login(uk_rep)
    client.post("/imports/new/", {"target": "contacts.contact", "file": cp1251_csv(RUSSIAN_ROWS)})
    job = ImportJob.objects.get()
    page = client.get(f"/imports/{job.pk}/mapping/").content.decode()
    assert 'name="phone_region"' in page and '<option value="GB" selected' in page  # the user's country first
    data = {f"col_{index}": key for index, key in job.mapping.items()}
    data.update(duplicate_policy="skip", phone_region="RU")
    assert client.post(f"/imports/{job.pk}/mapping/", data).status_code == 302
    job.refresh_from_db()
    assert job.phone_region == "RU"
    job = run(job)
    assert (job.created, job.failed) == (4, 0)
    assert Contact.objects.get(last_name="Волков").phones == ["+79123456789"]


def test_read_in_the_wrong_country_numbers_are_kept_to_check_not_lost(uk_rep):
    """Before, one global region (GB) failed every row with an "8 (9xx)" number; read as UK numbers
    they are still no valid numbers, but the rows import and the numbers wait for review."""
    job = run(services.job_create(user=uk_rep, target="contacts.contact", upload=cp1251_csv(RUSSIAN_ROWS)))
    assert (job.created, job.failed, job.warnings) == (4, 0, 3)  # only "+7 916 …" has its country code
    assert Contact.objects.get(last_name="Волков").phones_to_check == ["8 (912) 345-67-89"]


def test_account_phones_are_stored_in_international_format(ru_rep):
    job = run(services.job_create(user=ru_rep, target="accounts.account", upload=cp1251_csv(
        [["ООО «Вектор»", "8 (495) 123-45-67", "7701234567"]], header=["Название", "Телефон", "ИНН"])))
    assert (job.created, job.failed) == (1, 0), job.rows.values_list("reason", flat=True)
    account = Account.objects.get()
    assert account.phone == "+7 495 123-45-67" and account.phone_e164 == "+74951234567"


def test_a_row_s_own_country_reads_its_number(uk_rep):
    job = run(services.job_create(user=uk_rep, target="accounts.account", upload=cp1251_csv(
        [["ООО «Вектор»", "8 (495) 123-45-67", "Россия"], ["Tailspin", "020 7946 0000", "United Kingdom"],
         ["ТОВ «Світанок»", "0 44 123 4567", "Україна"]], header=["Название", "Телефон", "Страна"])))
    assert (job.created, job.failed) == (3, 0), list(job.rows.values_list("reason", flat=True))
    assert sorted(Account.objects.values_list("phone_e164", flat=True)) == [
        "+380441234567", "+442079460000", "+74951234567"]


def test_an_unreadable_number_is_kept_for_review_and_the_row_imports(client, ru_rep):
    job = run(services.job_create(user=ru_rep, target="contacts.contact", upload=cp1251_csv([
        ["Волков", "Алексей", "Петрович", "8 (912) 345-67-89; доб. 12", "volkov@example.ru"],
        ["Смирнова", "Анна", "Сергеевна", "12-34", ""],
        ["Кузнецов", "Игорь", "", "8 (912) 345-67-80", "не-почта"],  # a real error: the row fails
    ])))
    assert (job.created, job.failed, job.warnings) == (2, 1, 2)
    volkov = Contact.objects.get(last_name="Волков")
    assert volkov.phones == ["+79123456789"] and volkov.phones_to_check == ["доб. 12"]
    smirnova = Contact.objects.get(last_name="Смирнова")
    assert smirnova.phones == [] and smirnova.phones_to_check == ["12-34"]
    row = job.rows.get(row_number=2)
    assert row.action == "created" and "12-34" in row.reason
    client.force_login(ru_rep)
    page = client.get(f"/imports/{job.pk}/").content.decode()
    assert 'id="count-warnings">2<' in page and "12-34" in page
    page = client.get(smirnova.get_absolute_url()).content.decode()
    assert 'id="phones-to-check"' in page and "12-34" in page
    # The edit form offers the kept number for review; saving it cleared keeps the contact's numbers.
    form = client.get(f"/contacts/{smirnova.pk}/edit/").context["form"]
    assert "phones_to_check" in form.fields
    response = client.post(f"/contacts/{smirnova.pk}/edit/", {
        "first_name": "Анна", "last_name": "Смирнова", "phones": "8 (912) 000-12-34", "phones_to_check": "",
        "owner": ru_rep.pk})
    assert response.status_code == 302, response.context["form"].errors
    smirnova.refresh_from_db()
    assert smirnova.phones == ["+79120001234"] and smirnova.phones_to_check == []


def test_an_account_keeps_an_unreadable_number_as_written(ru_rep):
    job = run(services.job_create(user=ru_rep, target="accounts.account", upload=cp1251_csv(
        [["ООО «Вектор»", "тел. 12-34"]], header=["Название", "Телефон"])))
    assert (job.created, job.failed, job.warnings) == (1, 0, 1)
    account = Account.objects.get()
    assert account.phone == "тел. 12-34" and account.phone_e164 == ""


def test_failed_rows_file_keeps_a_utf8_comma_upload_as_it_was(client, uk_rep):
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows([["Last name", "E-mail"], ["Hopper", "not-an-email"], ["Lovelace", "ada@ex.uk"]])
    job = run(services.job_create(user=uk_rep, target="contacts.contact",
                                  upload=SimpleUploadedFile("people.csv", buffer.getvalue().encode("utf-8"))))
    assert job.failed == 1
    client.force_login(uk_rep)
    response = client.get(f"/imports/{job.pk}/errors.csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    lines = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert lines[0] == ["Last name", "E-mail", "reason"] and lines[1][:2] == ["Hopper", "not-an-email"]
