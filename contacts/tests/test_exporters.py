"""The contact list's exporter (contacts/exporters.py), run through the exports machinery."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from accounts.tests.factories import AccountFactory
from contacts.models import Contact
from contacts.tests.factories import ContactFactory
from exports.tests.test_exports import download_csv, start
from imports import services as imports

pytestmark = [pytest.mark.django_db]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_contact_export_never_names_a_hidden_account(client, owner, outsider, django_capture_on_commit_callbacks):
    ContactFactory(owner=owner, last_name="Seen", account=AccountFactory(owner=outsider, name="Hidden Holdings"))
    client.force_login(owner)
    job = start(client, "contacts.contact", capture=django_capture_on_commit_callbacks)
    rows = download_csv(client, job)
    assert rows[1][3] == "Seen" and "Hidden Holdings" not in str(rows)


def test_a_contacts_export_imports_again_with_every_field(client, owner, django_capture_on_commit_callbacks,
                                                          settings, tmp_path):
    """Everything the import accepts is in the export (notes, birthday, address, the account's
    tax number...), under headers the import recognises, in the reader's language."""
    owner.language, owner.time_zone = "ru", "Europe/Moscow"
    owner.save()
    account = AccountFactory(owner=owner, name="ООО «Ромашка»", tax_number="7701234567")
    ContactFactory(owner=owner, account=account, first_name="Алексей", middle_name="Петрович", last_name="Волков",
                   title="Директор", department="Продажи", emails=["volkov@example.ru"], phones=["+79166383811"],
                   birthday="1980-01-31", address="Москва, ул. Тверская, 1", description="Звонить утром; =не формула",
                   tags=["VIP"], lead_source="referral", do_not_call=True)
    client.force_login(owner)
    job = start(client, "contacts.contact", capture=django_capture_on_commit_callbacks)
    rows = download_csv(client, job)
    assert rows[0][1] == "Имя"  # headers in the reader's language
    values = dict(zip(rows[0], rows[1], strict=True))
    assert "+79166383811" in rows[1]  # a phone is no formula: no apostrophe
    assert "'=не формула" not in rows[1] and "Звонить утром; =не формула" in rows[1]
    created = next(value for header, value in values.items() if value.startswith("20") and ":" in value)
    assert created.endswith("+0300")  # the reader's time zone, with its offset

    Contact.objects.all().delete()
    upload = SimpleUploadedFile("contacts.csv", b"".join(
        client.get(reverse("exports:download", args=[job.pk])).streaming_content))
    settings.MEDIA_ROOT = tmp_path / "import"
    with translation.override("ru"):
        imported = imports.job_create(user=owner, target="contacts.contact", upload=upload)
    mapped = set(imported.mapping.values())
    importable = {spec.key for spec in imported.importer.base_fields()}
    assert importable - mapped == set(), importable - mapped



def test_xlsx_cells_have_types_and_phones_no_apostrophe(client, owner, django_capture_on_commit_callbacks):
    import io
    from datetime import date, datetime

    from openpyxl import load_workbook

    owner.time_zone = "Europe/Moscow"
    owner.save()
    ContactFactory(owner=owner, last_name="Волков", phones=["+79166383811", "+442079460000"], birthday="1980-01-31",
                   do_not_call=True, description="=1+1")
    client.force_login(owner)
    job = start(client, "contacts.contact", fmt="xlsx", capture=django_capture_on_commit_callbacks)
    sheet = load_workbook(io.BytesIO(b"".join(
        client.get(reverse("exports:download", args=[job.pk])).streaming_content))).active
    header = [cell.value for cell in sheet[1]]
    row = {name: cell for name, cell in zip(header, sheet[2], strict=True)}
    assert row["Phones"].value == "+79166383811, +442079460000"  # no apostrophe inside the value
    assert row["Birthday"].is_date and row["Birthday"].value.date() == date(1980, 1, 31)
    created = row["Created (time zone Europe/Moscow)"]  # times say in which zone they are
    assert created.is_date and isinstance(created.value, datetime)
    assert row["Do not call"].value is True and row["Do not call"].data_type == "b"
    assert row["Notes"].value == "=1+1" and row["Notes"].data_type == "s"  # text, never a formula
    assert isinstance(row["ID"].value, int)
