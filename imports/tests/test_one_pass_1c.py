"""A contacts export from 1C (Windows-1251, semicolons, patronymics, organisations with INN,
Russian phone formats, rows repeated inside the file) imports in ONE pass, as a Russian-team
user with the defaults: the accounts are created by INN, in-file duplicates are skipped, and
only rows with a real error fail."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import Account
from accounts.tests.factories import AccountFactory
from contacts.models import Contact
from crm.models import Role
from crm.tests.factories import TeamFactory, UserFactory
from imports import services
from imports.models import DuplicatePolicy, ImportJob, ImportStatus

pytestmark = [pytest.mark.django_db]

HEADER = ["Фамилия", "Имя", "Отчество", "Организация", "ИНН", "Должность", "Телефон", "Мобильный телефон",
          "E-mail", "Дата рождения", "Комментарий"]
ORGANISATIONS = [("ООО «Ромашка»", "7701234567"), ("АО «Вектор»", "7702345678"), ("ПАО «Северсталь»", "3528000597"),
                 ("ООО «Техносила»", "7703456789"), ("ИП Сидоров", "771234567890"), ("ООО «Альфа»", "7704567890"),
                 ("ЗАО «Бета»", "7705678901")]
LAST = ["Иванов", "Петров", "Сидоров", "Кузнецов", "Смирнов", "Попов", "Волков", "Соколов", "Лебедев", "Козлов"]
FIRST = ["Алексей", "Дмитрий", "Игорь", "Сергей", "Андрей"]
PATRONYMIC = ["Петрович", "Сергеевич", "Иванович", "Алексеевич", "Дмитриевич"]
PHONE_FORMATS = ["8 (9{a:02d}) {b:03d}-{c:02d}-{d:02d}", "+7 9{a:02d} {b:03d}-{c:02d}-{d:02d}",
                 "89{a:02d}{b:03d}{c:02d}{d:02d}", "8-9{a:02d}-{b:03d}-{c:02d}-{d:02d}"]

VALID, DUPLICATES, ERRORS = 40, 5, 3


def one_c_file() -> bytes:
    rows = []
    for n in range(VALID):
        name, inn = ORGANISATIONS[n % len(ORGANISATIONS)]
        mobile = PHONE_FORMATS[n % 4].format(a=10 + n, b=100 + n, c=n % 100, d=(n * 7) % 100)
        rows.append([LAST[n % 10] + ("а" if n % 3 == 0 else ""), FIRST[n % 5], PATRONYMIC[n % 5],
                     name if n % 2 == 0 else "", inn, "Менеджер", f"8 (495) 1{n:02d}-45-67", mobile,
                     f"person{n}@example.ru", f"{1 + n % 28:02d}.{1 + n % 12:02d}.198{n % 10}",
                     "Клиент с 2019 года; звонить утром"])
    # The same people again further down (1C exports a person once per organisation role): the
    # e-mail in capitals, the mobile in another format, one with a bad date too.
    for n in range(DUPLICATES):
        again = list(rows[n])
        again[8] = again[8].upper()
        again[7] = "+7" + "".join(ch for ch in again[7] if ch.isdigit())[-10:]
        if n == 0:
            again[9] = "31.02.1985"
        rows.append(again)
    rows.append(["Плохопочтов", "Игорь", "Ильич", "ООО «Ромашка»", "7701234567", "", "", "", "не-почта", "", ""])
    rows.append(["", "Безфамильный", "Иванович", "", "", "", "", "", "nolast@example.ru", "", ""])
    rows.append(["Невозможный", "Пётр", "Петрович", "", "", "", "", "", "date@example.ru", "31.02.1985", ""])
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=";").writerows([HEADER, *rows])
    return buffer.getvalue().encode("cp1251")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def ru_rep(db):
    return UserFactory(email="ivanov@example.ru", role=Role.SALES_REP, language="ru",
                       team=TeamFactory(name="Продажи Россия", country="RU"))


def test_one_c_contacts_export_imports_in_one_pass(client, ru_rep):
    client.force_login(ru_rep)
    upload = SimpleUploadedFile("контакты.csv", one_c_file())
    assert client.post("/imports/new/", {"target": "contacts.contact", "file": upload}).status_code == 302
    job = ImportJob.objects.get()
    assert (job.encoding, job.delimiter, job.phone_region, job.create_accounts) == ("cp1251", ";", "RU", True)
    assert set(job.mapping.values()) >= {"last_name", "first_name", "middle_name", "account_name", "account_tax",
                                         "title", "phones", "emails", "birthday", "description"}
    # The mapping page with its defaults, then the preview: it tells what the file will create.
    form = client.get(f"/imports/{job.pk}/mapping/").context["form"]
    data = {name: value for name, value in form.initial.items() if value not in (None, False)}
    assert client.post(f"/imports/{job.pk}/mapping/", data).status_code == 302
    preview = client.get(f"/imports/{job.pk}/preview/").content.decode()
    assert "Будет создано 7 компаний." in preview
    assert Account.objects.count() == 0  # the preview writes nothing

    assert client.post(f"/imports/{job.pk}/start/").status_code == 302
    if ImportJob.objects.get(pk=job.pk).status == ImportStatus.QUEUED:
        services.job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE
    assert (job.created, job.skipped, job.failed) == (VALID, DUPLICATES, ERRORS)
    assert job.accounts_created == len(ORGANISATIONS)
    assert sorted(Account.objects.values_list("tax_number", flat=True)) == sorted(inn for _, inn in ORGANISATIONS)
    assert set(Account.objects.values_list("owner", flat=True)) == {ru_rep.pk}

    failed = dict(job.rows.filter(action="failed").values_list("row_number", "reason"))
    assert sorted(failed) == [46, 47, 48]
    assert "не-почта" in failed[46]
    assert "Фамилия: обязательное поле" in failed[47]
    assert "31.02.1985" in failed[48]
    skipped = dict(job.rows.filter(action="skipped").values_list("row_number", "reason"))
    assert sorted(skipped) == [41, 42, 43, 44, 45]
    assert all(f"со строкой {n - 40} этого файла" in skipped[n] for n in skipped), skipped

    first = Contact.objects.get(emails=["person0@example.ru"])
    assert first.middle_name == "Петрович" and first.account.tax_number == "7701234567"
    assert first.phones == ["+74951004567", "+79101000000"]
    assert first.birthday.isoformat() == "1980-01-01"
    assert first.description == "Клиент с 2019 года; звонить утром"
    # A row with only the INN is linked to the account its organisation created.
    assert Contact.objects.get(emails=["person1@example.ru"]).account.name == "АО «Вектор»"
    assert Contact.objects.filter(account__isnull=True).count() == 0


def test_existing_accounts_are_linked_not_duplicated(ru_rep):
    existing = AccountFactory(owner=ru_rep, team=ru_rep.team, name="ООО «Ромашка» (Москва)", tax_number="7701234567")
    AccountFactory(owner=ru_rep, team=ru_rep.team, name="АО «Вектор»", tax_number="")
    job = services.job_create(user=ru_rep, target="contacts.contact", upload=SimpleUploadedFile(
        "k.csv", one_c_file()))
    services.job_start(job=job)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.QUEUED)
    services.job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.accounts_created == len(ORGANISATIONS) - 2  # matched by INN, and by name (no INN on record)
    assert Contact.objects.get(emails=["person0@example.ru"]).account == existing


def test_an_account_someone_else_owns_is_never_duplicated(ru_rep):
    AccountFactory(owner=UserFactory(team=TeamFactory(name="Чужие")), name="ООО «Ромашка»", tax_number="7701234567")
    job = services.job_create(user=ru_rep, target="contacts.contact", upload=SimpleUploadedFile(
        "k.csv", one_c_file()))
    services.job_start(job=job)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.QUEUED)
    services.job_run(job_id=job.pk)
    job.refresh_from_db()
    assert Account.objects.filter(tax_number="7701234567").count() == 1
    reasons = list(job.rows.filter(action="failed").values_list("reason", flat=True))
    assert any("7701234567" in reason and "принадлежит другому сотруднику" in reason for reason in reasons)


def test_without_the_option_missing_accounts_fail_the_rows_as_before(ru_rep):
    job = services.job_create(user=ru_rep, target="contacts.contact", upload=SimpleUploadedFile(
        "k.csv", one_c_file()))
    job.create_accounts = False
    job.save()
    services.job_start(job=job)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.QUEUED)
    services.job_run(job_id=job.pk)
    job.refresh_from_db()
    assert Account.objects.count() == 0 and job.accounts_created == 0 and job.created == 0


def test_create_anyway_makes_one_new_account_per_organisation(ru_rep):
    AccountFactory(owner=ru_rep, team=ru_rep.team, name="ООО «Ромашка»", tax_number="7701234567")
    job = services.job_create(user=ru_rep, target="contacts.contact", upload=SimpleUploadedFile(
        "k.csv", one_c_file()))
    job.duplicate_policy = DuplicatePolicy.CREATE
    job.save()
    services.job_start(job=job)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.QUEUED)
    services.job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.accounts_created == len(ORGANISATIONS)
    assert Account.objects.filter(tax_number="7701234567").count() == 2


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
@pytest.mark.django_db(transaction=True)
def test_browser_one_pass_import_creates_the_accounts(page, ru_rep):
    from playwright.sync_api import expect

    from conftest import sign_in

    sign_in(page, ru_rep)
    page.goto("/imports/new/")
    page.locator("#id_target").select_option("contacts.contact")
    page.locator("#id_file").set_input_files({"name": "контакты.csv", "mimeType": "text/csv",
                                              "buffer": one_c_file()})
    page.locator("form button[type=submit]").last.click()
    expect(page.locator("#id_create_accounts")).to_be_checked()
    expect(page.locator("#id_phone_region")).to_have_value("RU")
    page.locator("#mapping-form button[type=submit]").click()
    expect(page.locator("#import-plan")).to_have_text("Будет создано 7 компаний.")
    page.locator("form[action$='/start/'] button[type=submit]").click()
    expect(page.locator("#count-created")).to_have_text(str(VALID))
    expect(page.locator("#count-skipped")).to_have_text(str(DUPLICATES))
    expect(page.locator("#count-failed")).to_have_text(str(ERRORS))
    expect(page.locator("#count-accounts-created")).to_have_text("7")
    page.goto("/accounts/?q=Вектор")
    expect(page.get_by_role("link", name="АО «Вектор»")).to_be_visible()
    assert not page.console_errors
