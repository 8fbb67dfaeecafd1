"""An import driven as a person would, in the system Chromium: a Windows-1251 semicolon CSV of
200 contacts with 3 bad rows and 5 rows repeating contacts the user already has."""

import csv
import io
import re

import pytest
from playwright.sync_api import expect

from conftest import sign_in
from contacts.models import Contact
from contacts.tests.factories import ContactFactory
from imports.models import ImportJob, ImportStatus

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]

HEADER = ["Фамилия", "Имя", "Эл. почта", "Телефон", "Должность"]
BAD_ROWS = {
    5: ["", "Безфамильный", "nolast@example.com", "", "Инженер"],  # no last name (shown in the preview)
    58: ["Плохопочтов", "Игорь", "not-an-email", "", "Менеджер"],
    133: ["Плохофонов", "Олег", "oleg@example.com", "12", "Бухгалтер"],  # imported, the number kept to check
}
DUPLICATE_ROWS = {3: 1, 40: 2, 99: 3, 150: 4, 200: 5}  # row → the existing contact it repeats (by e-mail)


def the_file() -> bytes:
    rows = []
    for number in range(1, 201):
        if number in BAD_ROWS:
            rows.append(BAD_ROWS[number])
        elif number in DUPLICATE_ROWS:
            n = DUPLICATE_ROWS[number]
            rows.append([f"Старожилов{n}", "Пётр", f"Existing{n}@Example.com", "", "Директор"])
        else:
            rows.append([f"Импортов{number}", "Иван", f"imported{number}@example.com",
                         f"+44 20 7946 {number:04d}", "Менеджер по продажам"])
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=";").writerows([HEADER, *rows])
    return buffer.getvalue().encode("cp1251")


def test_import_map_preview_run_errors_csv_and_undo(page, owner, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    existing = [ContactFactory(owner=owner, team=owner.team, last_name=f"Старожилов{n}", first_name="Пётр",
                               emails=[f"existing{n}@example.com"], phones=[]) for n in range(1, 6)]
    sign_in(page, owner)

    # Upload
    page.goto("/imports/new/")
    page.get_by_label("Import into").select_option(label="Contacts")
    page.get_by_label("CSV or XLSX file").set_input_files(
        {"name": "клиенты.csv", "mimeType": "text/csv", "buffer": the_file()})
    page.get_by_role("button", name="Upload and map columns").click()

    # Mapping: the Russian headers are mapped already; choose what happens to existing contacts
    expect(page.get_by_role("heading", name="Map columns")).to_be_visible()
    expect(page.get_by_text("клиенты.csv: 200 rows.")).to_be_visible()
    expect(page.get_by_label("Фамилия")).to_have_value("last_name")
    expect(page.get_by_label("Эл. почта")).to_have_value("emails")
    expect(page.get_by_label("Телефон")).to_have_value("phones")
    page.get_by_label("Skip the row").check()
    page.get_by_role("button", name="Preview").click()

    # Preview: the first 20 rows as they will be saved, nothing written
    expect(page.get_by_role("heading", name="Preview")).to_be_visible()
    table = page.locator("#preview-table")
    expect(table.locator("tbody tr")).to_have_count(20)
    expect(table.locator("tbody tr").nth(0)).to_contain_text("New record")
    expect(table.locator("tbody tr").nth(0)).to_contain_text("+442079460001")  # as it will be stored
    expect(table.locator("tbody tr").nth(2)).to_contain_text("already exists")
    expect(table.locator("tbody tr").nth(4)).to_contain_text("Last name is required")
    expect(page.get_by_role("status")).to_contain_text("1 of these rows has errors")
    assert Contact.objects.count() == 5

    # Run (Celery runs eagerly in the test settings), then the result page
    page.get_by_role("button", name="Import 200 rows").click()
    expect(page.locator("#import-status")).to_have_text("Done")
    expect(page.locator("#count-total")).to_have_text("200")
    expect(page.locator("#count-created")).to_have_text("193")
    expect(page.locator("#count-updated")).to_have_text("0")
    expect(page.locator("#count-skipped")).to_have_text("5")
    expect(page.locator("#count-failed")).to_have_text("2")
    expect(page.locator("#count-warnings")).to_have_text("1")
    failed = page.locator("#failed-rows tbody tr")
    expect(failed).to_have_count(2)
    expect(failed.nth(0)).to_contain_text("5")
    expect(failed.nth(0)).to_contain_text("Last name is required")
    expect(failed.nth(1)).to_contain_text("58")
    expect(failed.nth(1)).to_contain_text("“not-an-email” is not a valid e-mail address")
    warned = page.locator("#warned-rows tbody tr")
    expect(warned).to_have_count(1)
    expect(warned.nth(0)).to_contain_text("133")
    expect(warned.nth(0)).to_contain_text("“12” is not a valid phone number: kept as written, to check")
    job = ImportJob.objects.get()
    assert job.created + job.updated + job.skipped + job.failed == 200
    assert Contact.objects.filter(deleted_at__isnull=True).count() == 5 + 193
    assert Contact.objects.get(last_name="Плохофонов").phones_to_check == ["12"]
    for contact in existing:  # skipped: untouched
        contact.refresh_from_db()
        assert contact.title == "" and contact.phones == []

    # The failed rows as a CSV to fix and upload again
    with page.expect_download() as download_info:
        page.locator("#errors-csv").click()
    download = download_info.value
    assert download.suggested_filename == "клиенты-errors.csv"
    # The uploaded encoding and delimiter (cp1251, ";"): it opens in the program that made it.
    text = open(download.path(), encoding="cp1251").read()  # noqa: PTH123, SIM115 - Playwright's temp file
    lines = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert lines[0] == [*HEADER, "reason"]
    assert [line[:5] for line in lines[1:]] == [BAD_ROWS[5], BAD_ROWS[58]]
    assert "Last name is required" in lines[1][5]
    assert "not a valid e-mail address" in lines[2][5]

    # The imported contacts are in the list
    page.goto("/contacts/?q=Импортов")
    expect(page.get_by_role("link", name="Иван Импортов1", exact=True)).to_be_visible()

    # Undo: the created contacts go, the contacts that were there stay
    page.goto(f"/imports/{job.pk}/")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Undo this import").click()
    expect(page.locator("#import-status")).to_have_text("Undone")
    expect(page.locator("#undo-report")).to_contain_text("193 created records removed, 0 updated records restored.")
    job.refresh_from_db()
    assert job.status == ImportStatus.UNDONE and job.file_path == ""
    assert Contact.objects.filter(deleted_at__isnull=True).count() == 5

    page.goto("/contacts/?q=Импортов")
    expect(page.get_by_role("link", name=re.compile("Импортов"))).to_have_count(0)
    page.goto("/contacts/?q=Старожилов")
    expect(page.get_by_role("link", name=re.compile("Старожилов"))).to_have_count(5)
    assert page.console_errors == [], page.failed_requests  # no CSP violation, no script error
