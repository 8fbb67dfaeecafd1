"""A marketer imports leads from a Windows-1251 CSV into a new static list through the wizard, and opens
the list from the result page."""

import csv
import io

import pytest
from playwright.sync_api import expect

from conftest import sign_in
from marketing import services
from marketing.models import StaticList
from sales.tests.factories import LeadFactory

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]


def the_file() -> bytes:
    rows = [["Фамилия", "Имя", "Компания", "Эл. почта"],
            ["Коваленко", "Олена", "ТОВ Зоря", "olena@example.com"],  # a lead already there: matched
            ["Бондаренко", "Ігор", "ТОВ Світанок", "igor@example.com"],
            ["", "Без прізвища", "", "nobody@example.com"],  # fails: no last name
            ["Мельник", "Оксана", "ПП Лан", "oksana@example.com"]]
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=";").writerows(rows)
    return buffer.getvalue().encode("cp1251")


def test_a_marketer_imports_leads_into_a_new_static_list_and_opens_it(page, marketer, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    LeadFactory(owner=marketer, last_name="Коваленко", first_name="Олена", email="olena@example.com")
    services.static_list_create(actor=marketer, name="Старий список")
    sign_in(page, marketer)

    page.goto("/imports/new/")
    page.get_by_label("Import into").select_option(label="Leads")
    page.get_by_label("CSV or XLSX file").set_input_files(
        {"name": "виставка.csv", "mimeType": "text/csv", "buffer": the_file()})
    page.get_by_role("button", name="Upload and map columns").click()

    expect(page.get_by_role("heading", name="Map columns")).to_be_visible()
    page.get_by_label("Skip the row").check()
    choice = page.get_by_label("Also add the imported rows to a static list")
    expect(choice.locator("option", has_text="Старий список")).to_have_count(1)
    choice.select_option(label="A new list, named below")
    page.get_by_role("button", name="Preview").click()
    # No name for the new list: refused on the page, nothing saved
    expect(page.get_by_text("Name the new static list, or choose one of yours.")).to_be_visible()
    assert not StaticList.objects.filter(name="Виставка «Агро-2026»").exists()
    page.get_by_label("Name of the new list").fill("Виставка «Агро-2026»")
    page.get_by_role("button", name="Preview").click()

    expect(page.get_by_role("heading", name="Preview")).to_be_visible()
    expect(page.locator("#import-plan")).to_contain_text(
        "The imported rows will also be added to a new static list “Виставка «Агро-2026»”.")
    page.get_by_role("button", name="Import 4 rows").click()

    expect(page.locator("#import-status")).to_have_text("Done")
    expect(page.locator("#count-created")).to_have_text("2")
    expect(page.locator("#count-skipped")).to_have_text("1")
    expect(page.locator("#count-failed")).to_have_text("1")
    result = page.locator(".import-destination")
    expect(result).to_contain_text("3 people were added to the static list “Виставка «Агро-2026»”.")
    result.get_by_role("link", name="Open the list").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Виставка «Агро-2026»")
    expect(page.locator("#list-total")).to_have_text("3")
    members = page.locator("#list-members")
    for name in ("Олена Коваленко", "Ігор Бондаренко", "Оксана Мельник"):
        expect(members).to_contain_text(name)
    expect(members).not_to_contain_text("Без прізвища")
