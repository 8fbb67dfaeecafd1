"""Product catalogue: services, the catalogue policy per role, document uploads and downloads,
price books, exchange rates, the product picker, the exporter, the importer and the API."""

import io
import json
import zipfile
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from crm.visibility import can_create
from sales import product_services as services
from sales.models import CurrencyRate, OpportunityLine, PriceBook, PriceBookEntry, Product, ProductDocument
from sales.tests.factories import OpportunityFactory, PriceBookEntryFactory, PriceBookFactory, ProductFactory

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32


def office_file(kind: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml" if kind == "docx" else "xl/workbook.xml", "<x/>")
    return buffer.getvalue()


def upload(content: bytes, name: str, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


# --- Services -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_create_update_and_unique_sku(admin_user):
    product = services.product_create(actor=admin_user, sku="CRM-1", name="CRM licence", family="Software",
                                      default_price=Decimal("99.90"), currency="EUR", tax_rate=Decimal(20))
    services.product_update(product=product, actor=admin_user, name="CRM licence, yearly")
    product.refresh_from_db()
    assert product.name == "CRM licence, yearly"
    with pytest.raises(ValidationError) as error:
        services.product_create(actor=admin_user, sku="CRM-1", name="Copy")
    assert "SKU already exists" in str(error.value)


@pytest.mark.django_db
def test_a_deleted_products_sku_is_free_again(admin_user):
    product = ProductFactory(sku="OLD-1")
    services.product_delete(product=product, actor=admin_user)
    assert not Product.objects.visible_to(admin_user).filter(pk=product.pk).exists()
    services.product_create(actor=admin_user, sku="OLD-1", name="New life")


@pytest.mark.django_db
def test_product_on_lines_is_deactivated_not_deleted(admin_user):
    product = ProductFactory()
    opportunity = OpportunityFactory(owner=admin_user)
    services.opportunity_line_add(opportunity=opportunity, actor=admin_user, product=product)
    with pytest.raises(ValidationError, match="deactivate it instead"):
        services.product_delete(product=product, actor=admin_user)
    services.product_set_active(product=product, actor=admin_user, active=False)
    product.refresh_from_db()
    assert product.deleted_at is None and not product.active
    assert OpportunityLine.objects.get(opportunity=opportunity).product == product


@pytest.mark.django_db
def test_price_for_uses_the_price_book_then_the_default(admin_user):
    product = ProductFactory(default_price=Decimal("100.00"))
    book = PriceBookFactory(currency="USD")
    assert services.price_for(product, book) == (Decimal("100.00"), "EUR")
    services.price_book_entry_set(price_book=book, product=product, unit_price=Decimal("80.00"), actor=admin_user)
    services.price_book_entry_set(price_book=book, product=product, unit_price=Decimal("85.00"), actor=admin_user)
    assert PriceBookEntry.objects.filter(price_book=book).count() == 1
    assert services.price_for(product, book) == (Decimal("85.00"), "USD")


@pytest.mark.django_db
def test_line_takes_price_unit_and_tax_from_the_price_book_and_product(owner):
    product = ProductFactory(unit="licence", tax_rate=Decimal("20.00"))
    entry = PriceBookEntryFactory(product=product, unit_price=Decimal("70.00"))
    opportunity = OpportunityFactory(owner=owner)
    line = services.opportunity_line_add(opportunity=opportunity, actor=owner, product=product,
                                         price_book=entry.price_book, quantity=Decimal(3))
    assert (line.unit_price, line.unit, line.tax_rate, line.name) == (Decimal("70.00"), "licence",
                                                                      Decimal("20.00"), product.name)
    second = services.opportunity_line_add(opportunity=opportunity, actor=owner, product=product,
                                           unit_price=Decimal(5), tax_rate=Decimal(0))
    assert second.position == line.position + 1 and second.unit_price == 5 and second.tax_rate == 0


# --- The catalogue policy ---------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("role, may_manage", [
    ("owner", False), ("manager", True), ("admin", True), ("executive", False), ("support_agent", False),
    ("marketer", False), ("outsider", False),
])
def test_every_role_reads_the_catalogue_and_only_admins_and_managers_change_it(client, cast, role, may_manage):
    user = cast[role]
    product = ProductFactory()
    book = PriceBookFactory()
    client.force_login(user)
    assert client.get(reverse("sales:product_list")).status_code == 200
    assert client.get(reverse("sales:product_detail", args=[product.pk])).status_code == 200
    assert client.get(reverse("sales:price_book_detail", args=[book.pk])).status_code == 200
    assert can_create(user, Product) is may_manage
    expected = 200 if may_manage else 403
    assert client.get(reverse("sales:product_edit", args=[product.pk])).status_code == expected
    assert client.get(reverse("sales:product_create")).status_code == expected
    assert client.get(reverse("sales:price_book_edit", args=[book.pk])).status_code == expected
    response = client.post(reverse("sales:product_set_active", args=[product.pk]), {"active": "0"})
    assert response.status_code == (302 if may_manage else 403)
    product.refresh_from_db()
    assert product.active is not may_manage


@pytest.mark.django_db
def test_a_rep_cannot_post_changes(client, owner):
    product = ProductFactory(name="Widget")
    book = PriceBookFactory()
    entry = PriceBookEntryFactory(price_book=book, product=product)
    client.force_login(owner)
    data = {"sku": "X", "name": "Hacked", "unit": "pcs", "default_price": "1", "currency": "EUR", "tax_rate": "0"}
    assert client.post(reverse("sales:product_edit", args=[product.pk]), data).status_code == 403
    assert client.post(reverse("sales:product_delete", args=[product.pk])).status_code == 403
    assert client.post(reverse("sales:price_book_entry_edit", args=[book.pk, entry.pk]),
                       {"unit_price": "1"}).status_code == 403
    assert client.post(reverse("sales:product_document_upload", args=[product.pk]),
                       {"file": upload(PDF, "a.pdf")}).status_code == 403
    product.refresh_from_db()
    entry.refresh_from_db()
    assert product.name == "Widget" and entry.unit_price == Decimal("90.00")
    assert not ProductDocument.objects.exists()


@pytest.mark.django_db
def test_missing_or_deleted_product_is_404(client, manager, admin_user):
    product = ProductFactory()
    services.product_delete(product=product, actor=admin_user)
    client.force_login(manager)
    assert client.get(reverse("sales:product_detail", args=[product.pk])).status_code == 404
    assert client.get(reverse("sales:product_edit", args=[product.pk])).status_code == 404
    assert client.get(reverse("sales:product_detail", args=[99999])).status_code == 404


@pytest.mark.django_db
def test_manager_creates_a_product_through_the_form(client, manager):
    client.force_login(manager)
    response = client.post(reverse("sales:product_create"), {
        "sku": " CRM-PRO ", "name": "CRM Pro", "family": "Software", "unit": "seat", "default_price": "49.00",
        "currency": "usd", "tax_rate": "20", "active": "on", "description": "<script>alert(1)</script>"})
    product = Product.objects.get(sku="CRM-PRO")
    assert response.status_code == 302 and response["Location"] == product.get_absolute_url()
    assert product.currency == "USD"
    page = client.get(product.get_absolute_url()).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page


@pytest.mark.django_db
def test_bad_currency_and_duplicate_sku_are_refused_with_a_message(client, manager):
    ProductFactory(sku="DUP")
    client.force_login(manager)
    response = client.post(reverse("sales:product_create"), {
        "sku": "DUP", "name": "Copy", "unit": "pcs", "default_price": "1", "currency": "eu", "tax_rate": "0"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "three-letter ISO 4217 code" in body
    response = client.post(reverse("sales:product_create"), {
        "sku": "DUP", "name": "Copy", "unit": "pcs", "default_price": "1", "currency": "EUR", "tax_rate": "0"})
    assert "A product with this SKU already exists" in response.content.decode()
    assert Product.objects.filter(sku="DUP").count() == 1


# --- Documents ----------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("content, name, content_type", [
    (PDF, "datasheet.pdf", "application/pdf"),
    (PNG, "photo.png", "image/png"),
    (JPEG, "photo.JPG", "image/jpeg"),
    (office_file("docx"), "manual.docx",
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    (office_file("xlsx"), "prices.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
])
def test_accepted_documents_are_stored_with_the_sniffed_type(client, manager, media, content, name, content_type):
    product = ProductFactory()
    client.force_login(manager)
    response = client.post(reverse("sales:product_document_upload", args=[product.pk]),
                           {"title": "", "file": upload(content, name, "text/html")})
    assert response.status_code == 302
    document = ProductDocument.objects.get(product=product)
    assert document.content_type == content_type and document.size == len(content)
    assert document.uploaded_by == manager
    assert (media / document.file.name).read_bytes() == content


@pytest.mark.django_db
@pytest.mark.parametrize("content, name, reason", [
    (b"MZ\x90\x00 an executable", "setup.exe", "is not a document we keep"),
    (b"<html><script>alert(1)</script></html>", "datasheet.pdf", "is not really a PDF file"),  # forged
    (PDF, "datasheet.png", "is not really a PNG file"),
    (b"PK\x03\x04 not a zip at all", "manual.docx", "is not really a DOCX file"),
    (office_file("xlsx"), "manual.docx", "is not really a DOCX file"),
    (b"", "empty.pdf", "empty"),
])
def test_refused_documents_say_why_and_store_nothing(client, manager, media, content, name, reason):
    product = ProductFactory()
    client.force_login(manager)
    response = client.post(reverse("sales:product_document_upload", args=[product.pk]),
                           {"file": upload(content, name, "application/pdf")})
    assert response.status_code == 200
    assert reason in response.content.decode()
    assert not ProductDocument.objects.exists()
    assert not (media / "products").exists() or not any((media / "products").rglob("*.*"))


@pytest.mark.django_db
def test_documents_over_10_mb_are_refused(client, manager):
    product = ProductFactory()
    client.force_login(manager)
    big = PDF + b"0" * (10 * 1024 * 1024)
    response = client.post(reverse("sales:product_document_upload", args=[product.pk]),
                           {"file": upload(big, "huge.pdf", "application/pdf")})
    assert response.status_code == 200
    assert "documents may be up to 10 MB" in response.content.decode()
    assert not ProductDocument.objects.exists()


@pytest.mark.django_db
def test_download_is_an_attachment_with_nosniff_for_any_signed_in_reader(client, manager, support_agent):
    product = ProductFactory()
    document = services.product_document_add(product=product, actor=manager, upload=upload(PDF, "Data sheet.pdf"),
                                             title="Datasheet")
    url = reverse("sales:product_document_download", args=[product.pk, document.pk])
    client.force_login(support_agent)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "Data_sheet.pdf" in response["Content-Disposition"]  # the stored, sanitised name
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == PDF


@pytest.mark.django_db
def test_download_needs_sign_in_and_the_right_product(client, manager):
    product, other = ProductFactory(), ProductFactory()
    document = services.product_document_add(product=product, actor=manager, upload=upload(PDF, "a.pdf"))
    url = reverse("sales:product_document_download", args=[product.pk, document.pk])
    response = client.get(url)
    assert response.status_code == 302 and "/auth/login/" in response["Location"]
    client.force_login(manager)
    assert client.get(reverse("sales:product_document_download", args=[other.pk, document.pk])).status_code == 404


@pytest.mark.django_db
def test_document_delete_removes_the_file(client, manager, media, django_capture_on_commit_callbacks):
    product = ProductFactory()
    document = services.product_document_add(product=product, actor=manager, upload=upload(PDF, "a.pdf"))
    path = media / document.file.name
    assert path.exists()
    client.force_login(manager)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("sales:product_document_delete", args=[product.pk, document.pk]))
    assert not ProductDocument.objects.exists() and not path.exists()


# --- Price books and exchange rates ----------------------------------------------------------------


@pytest.mark.django_db
def test_manager_edits_price_book_entries(client, manager):
    product = ProductFactory(default_price=Decimal("100.00"))
    other = ProductFactory(default_price=Decimal("7.00"))
    client.force_login(manager)
    response = client.post(reverse("sales:price_book_create"), {
        "name": "Partners", "kind": "partner", "currency": "EUR", "valid_from": "2026-01-01",
        "valid_until": "2026-12-31", "active": "on"})
    book = PriceBook.objects.get(name="Partners")
    assert response.status_code == 302
    client.post(reverse("sales:price_book_entry_add", args=[book.pk]), {"product": product.pk, "unit_price": "75"})
    client.post(reverse("sales:price_book_entry_add", args=[book.pk]), {"product": other.pk, "unit_price": ""})
    entry = PriceBookEntry.objects.get(price_book=book, product=product)
    assert entry.unit_price == Decimal("75.00")
    assert PriceBookEntry.objects.get(price_book=book, product=other).unit_price == Decimal("7.00")
    client.post(reverse("sales:price_book_entry_edit", args=[book.pk, entry.pk]), {"unit_price": "70.50"})
    entry.refresh_from_db()
    assert entry.unit_price == Decimal("70.50")
    client.post(reverse("sales:price_book_entry_edit", args=[book.pk, entry.pk]), {"unit_price": "-1"})
    entry.refresh_from_db()
    assert entry.unit_price == Decimal("70.50")
    client.post(reverse("sales:price_book_entry_remove", args=[book.pk, entry.pk]))
    assert not PriceBookEntry.objects.filter(pk=entry.pk).exists()
    page = client.get(reverse("sales:product_detail", args=[other.pk])).content.decode()
    assert "Partners" in page and "7.00 EUR" in page


@pytest.mark.django_db
def test_price_book_dates_must_be_in_order(client, manager):
    client.force_login(manager)
    response = client.post(reverse("sales:price_book_create"), {
        "name": "Odd", "kind": "standard", "currency": "EUR", "valid_from": "2026-12-31", "valid_until": "2026-01-01"})
    assert "cannot end before it starts" in response.content.decode()
    assert not PriceBook.objects.exists()


@pytest.mark.django_db
def test_entry_of_another_price_book_is_404(client, manager):
    book, other = PriceBookFactory(), PriceBookFactory()
    entry = PriceBookEntryFactory(price_book=other)
    client.force_login(manager)
    assert client.post(reverse("sales:price_book_entry_edit", args=[book.pk, entry.pk]),
                       {"unit_price": "1"}).status_code == 404


@pytest.mark.django_db
def test_only_admins_keep_exchange_rates(client, admin_user, manager):
    client.force_login(manager)
    assert client.get(reverse("sales:currency_rate_list")).status_code == 403
    client.force_login(admin_user)
    assert client.get(reverse("sales:currency_rate_list")).status_code == 200
    client.post(reverse("sales:currency_rate_list"), {"currency": "usd", "rate": "0.92"})
    client.post(reverse("sales:currency_rate_list"), {"currency": "USD", "rate": "0.9"})
    rate = CurrencyRate.objects.get()
    assert (rate.currency, rate.rate) == ("USD", Decimal("0.9"))
    response = client.post(reverse("sales:currency_rate_list"), {"currency": "US", "rate": "0"})
    assert "three-letter" in response.content.decode()
    client.post(reverse("sales:currency_rate_delete", args=[rate.pk]))
    assert not CurrencyRate.objects.exists()


# --- The product picker -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_autocomplete_answers_active_products_with_the_price_book_price(client, owner):
    widget = ProductFactory(sku="W-1", name="Widget", unit="box", default_price=Decimal("10.00"),
                            tax_rate=Decimal("20.00"))
    ProductFactory(sku="W-2", name="Widget old", active=False)
    ProductFactory(sku="G-1", name="Gadget", default_price=Decimal("5.00"))
    book = PriceBookFactory(currency="USD")
    PriceBookEntryFactory(price_book=book, product=widget, unit_price=Decimal("8.50"))
    client.force_login(owner)
    rows = client.get(reverse("sales:product_autocomplete"), {"q": "widg"}).json()["results"]
    assert rows == [{"id": widget.pk, "text": "Widget (W-1)", "name": "Widget", "unit": "box", "unit_price": "10.00",
                     "tax_rate": "20.00", "currency": "EUR"}]
    rows = client.get(reverse("sales:product_autocomplete"), {"q": "", "price_book": book.pk}).json()["results"]
    by_name = {row["name"]: row for row in rows}
    assert set(by_name) == {"Widget", "Gadget"}
    assert (by_name["Widget"]["unit_price"], by_name["Widget"]["currency"]) == ("8.50", "USD")
    assert (by_name["Gadget"]["unit_price"], by_name["Gadget"]["currency"]) == ("5.00", "EUR")
    assert client.get(reverse("sales:product_autocomplete"), {"q": "w-1"}).json()["results"][0]["id"] == widget.pk
    assert client.get(reverse("sales:product_autocomplete"), {"price_book": "nope"}).status_code == 200


# --- Export, import, API -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_product_exporter_uses_the_list_filters(owner):
    from exports.registry import EXPORTERS, filtered_rows

    ProductFactory(name="Alpha", family="Software")
    ProductFactory(name="Beta", family="Hardware")
    ProductFactory(name="Gamma", family="Software", active=False)
    exporter = EXPORTERS["sales.product"]
    rows = list(filtered_rows(exporter, owner, "family=Software"))
    assert [row.name for row in rows] == ["Alpha"]
    assert [row.name for row in filtered_rows(exporter, owner, "status=all&family=Software")] == ["Alpha", "Gamma"]
    header = [str(label) for label, _value in exporter.columns]
    assert "SKU" in header and "Default price" in header


@pytest.mark.django_db
def test_importer_matches_by_sku_and_updates_or_creates(manager):
    from imports.importers import get_importer

    existing = ProductFactory(sku="A-1", name="Old name", default_price=Decimal("1.00"))
    importer = get_importer("sales.product")
    specs = importer.fields()
    header = ["SKU", "Name", "Family", "Price", "Tax rate", "Active"]
    mapping = importer.auto_map(header, specs)
    assert set(mapping.values()) >= {"sku", "name", "family", "default_price", "tax_rate", "active"}

    class Job:
        user = manager
        duplicate_policy = "update"
        clear_empty = False
        pk = None

    job = Job()
    job.mapping = mapping
    importer.prepare(job, specs)
    outcomes = importer.process_batch(job, [(2, ["A-1", "New name", "Software", "12,50", "20", "yes"]),
                                            (3, ["B-2", "Brand new", "Hardware", "7", "", "no"]),
                                            (4, ["", "No SKU", "", "1", "", ""])], write=True)
    assert [o.action for o in outcomes] == ["updated", "created", "failed"]
    existing.refresh_from_db()
    assert (existing.name, existing.default_price, existing.family) == ("New name", Decimal("12.50"), "Software")
    created = Product.objects.get(sku="B-2")
    assert created.name == "Brand new" and created.active is False and created.currency == "EUR"


@pytest.mark.django_db
def test_only_catalogue_managers_may_import_products(owner, manager):
    from imports.importers import importers_for

    assert "sales.product" not in {importer.key for importer in importers_for(owner)}
    assert "sales.product" in {importer.key for importer in importers_for(manager)}


@pytest.mark.django_db
def test_api_lists_products_and_price_books_read_only(client, support_agent):
    product = ProductFactory(sku="API-1", name="API product")
    ProductFactory(sku="API-2", name="Retired", active=False)
    book = PriceBookFactory(name="Standard")
    PriceBookEntryFactory(price_book=book, product=product, unit_price=Decimal("42.00"))
    client.force_login(support_agent)
    data = client.get("/api/products/", {"active": "true"}).json()
    assert [row["sku"] for row in data["results"]] == ["API-1"]
    assert data["results"][0]["default_price"] == "100.00"
    one = client.get(f"/api/products/{product.pk}/").json()
    assert one["name"] == "API product"
    books = client.get("/api/price-books/").json()["results"]
    assert books[0]["name"] == "Standard"
    entries = client.get(f"/api/price-books/{book.pk}/").json()["entries"]
    assert entries == [{"product": product.pk, "sku": "API-1", "unit_price": "42.00"}]
    assert client.post("/api/products/", json.dumps({"sku": "X"}), content_type="application/json").status_code == 405
    assert client.get("/api/products/99999/").status_code == 404


@pytest.mark.django_db
def test_export_and_import_pages_work_for_products(client, manager, django_capture_on_commit_callbacks):
    from exports.models import ExportJob

    ProductFactory(name="=HYPERLINK(1)", sku="X-1")
    client.force_login(manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("exports:start"), {"target": "sales.product", "format": "csv", "query": ""})
    assert response.status_code == 302
    job = ExportJob.objects.get(user=manager)
    assert job.status == "done" and job.total_rows == 1
    upload_page = client.get(reverse("imports:upload"), {"target": "sales.product"})
    assert upload_page.status_code == 200 and "Products" in upload_page.content.decode()


@pytest.mark.django_db
def test_product_import_job_runs_and_undoes(manager):
    from imports import services as import_services
    from imports.models import ImportJob, ImportStatus

    kept = ProductFactory(sku="K-1", name="Kept", default_price=Decimal("1.00"))
    csv_text = "SKU;Name;Price;Currency\nK-1;Kept renamed;2,00;eur\nN-1;New one;5;EUR\nN-2;Bad one;1;euro\n"
    job = import_services.job_create(user=manager, target="sales.product",
                                     upload=SimpleUploadedFile("products.csv", csv_text.encode()))
    assert set(job.mapping.values()) == {"sku", "name", "default_price", "currency"}
    job.duplicate_policy = "update"
    job.save()
    import_services.job_start(job=job)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.QUEUED)
    import_services.job_run(job_id=job.pk)
    job.refresh_from_db()
    kept.refresh_from_db()
    assert (kept.name, kept.default_price) == ("Kept renamed", Decimal("2.00"))
    assert Product.objects.get(sku="N-1").currency == "EUR"
    assert not Product.objects.filter(sku="N-2").exists()
    import_services.job_undo(job=job, actor=manager)
    kept.refresh_from_db()
    assert (kept.name, kept.default_price) == ("Kept", Decimal("1.00"))
    assert not Product.objects.visible_to(manager).filter(sku="N-1").exists()
