"""Catalogue pages: constant query counts whatever the row count, filters, 403 and 404."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from sales import product_services as services
from sales.tests.factories import OpportunityFactory, PriceBookEntryFactory, PriceBookFactory, ProductFactory

PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.mark.django_db
@pytest.mark.parametrize("rows", [1, 60])
def test_product_list_query_count_is_constant(client, owner, rows, django_assert_max_num_queries):
    ProductFactory.create_batch(rows)
    client.force_login(owner)
    with django_assert_max_num_queries(10):
        response = client.get(reverse("sales:product_list"), {"sort": "-price"})
    assert response.status_code == 200
    assert response.content.decode().count("<tr>") == min(rows, 50) + 1


@pytest.mark.django_db
def test_product_list_search_family_and_active_filters(client, owner):
    ProductFactory(sku="CRM-1", name="CRM Cloud", family="Software")
    ProductFactory(sku="SRV-1", name="Server rack", family="Hardware")
    ProductFactory(sku="CRM-OLD", name="CRM Classic", family="Software", active=False)
    client.force_login(owner)

    def names(**params):
        body = client.get(reverse("sales:product_list"), params).content.decode()
        return [name for name in ("CRM Cloud", "Server rack", "CRM Classic") if name in body]

    assert names() == ["CRM Cloud", "Server rack"]
    assert names(q="crm") == ["CRM Cloud"]
    assert names(q="srv") == ["Server rack"]
    assert names(family="Software", status="all") == ["CRM Cloud", "CRM Classic"]
    assert names(status="inactive") == ["CRM Classic"]
    body = client.get(reverse("sales:product_list"), {"q": "nothing like it"}).content.decode()
    assert "No product matches these filters." in body


@pytest.mark.django_db
def test_empty_catalogue_explains_itself_and_offers_the_primary_action(client, manager, owner):
    client.force_login(manager)
    body = client.get(reverse("sales:product_list")).content.decode()
    assert "The product catalogue is what your reps sell" in body and reverse("sales:product_create") in body
    client.force_login(owner)
    assert reverse("sales:product_create") not in client.get(reverse("sales:product_list")).content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("count", [1, 12])
def test_product_detail_query_count_is_constant(client, manager, count, django_assert_max_num_queries):
    product = ProductFactory()
    for index in range(count):
        PriceBookEntryFactory(product=product, price_book=PriceBookFactory(name=f"Book {index}"))
        services.product_document_add(product=product, actor=manager,
                                      upload=SimpleUploadedFile(f"sheet{index}.pdf", PDF), title=f"Sheet {index}")
    client.force_login(manager)
    with django_assert_max_num_queries(14):
        response = client.get(reverse("sales:product_detail", args=[product.pk]))
    body = response.content.decode()
    assert f"Book {count - 1}" in body and f"Sheet {count - 1}" in body
    assert "90.00 EUR" in body


@pytest.mark.django_db
def test_detail_offers_delete_only_for_unused_products(client, manager):
    used, unused = ProductFactory(), ProductFactory()
    services.opportunity_line_add(opportunity=OpportunityFactory(owner=manager), actor=manager, product=used)
    client.force_login(manager)
    assert reverse("sales:product_delete", args=[unused.pk]) in client.get(unused.get_absolute_url()).content.decode()
    assert reverse("sales:product_delete", args=[used.pk]) not in client.get(used.get_absolute_url()).content.decode()
    response = client.post(reverse("sales:product_delete", args=[used.pk]), follow=True)
    assert "deactivate it instead" in response.content.decode()
    used.refresh_from_db()
    assert used.deleted_at is None


@pytest.mark.django_db
@pytest.mark.parametrize("count", [1, 30])
def test_price_book_pages_query_counts(client, manager, count, django_assert_max_num_queries):
    book = PriceBookFactory()
    for _index in range(count):
        PriceBookEntryFactory(price_book=book)
        PriceBookFactory()
    client.force_login(manager)
    with django_assert_max_num_queries(8):
        assert client.get(reverse("sales:price_book_list")).status_code == 200
    with django_assert_max_num_queries(10):
        response = client.get(reverse("sales:price_book_detail", args=[book.pk]))
    assert response.content.decode().count('class="form-control form-control-sm text-end entry-price"') == count


@pytest.mark.django_db
@pytest.mark.parametrize("count", [1, 25])
def test_opportunity_lines_query_count_is_constant(client, owner, count, django_assert_max_num_queries):
    deal = OpportunityFactory(owner=owner)
    PriceBookFactory(currency=deal.currency, kind="standard")
    for _index in range(count):
        services.opportunity_line_add(opportunity=deal, actor=owner, product=ProductFactory())
    client.force_login(owner)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("sales:opportunity_lines", args=[deal.pk]), HTTP_HX_REQUEST="true")
    assert response.content.decode().count('class="text-end text-nowrap fw-semibold line-total"') == count


@pytest.mark.django_db
def test_missing_rows_answer_404(client, manager):
    client.force_login(manager)
    for name, args in [("sales:product_detail", [999]), ("sales:product_edit", [999]),
                       ("sales:price_book_detail", [999]), ("sales:price_book_edit", [999]),
                       ("sales:opportunity_lines", [999]), ("sales:product_document_download", [999, 1])]:
        assert client.get(reverse(name, args=args)).status_code == 404, name


@pytest.mark.django_db
def test_reps_get_403_on_every_catalogue_write(client, owner):
    product = ProductFactory()
    book = PriceBookFactory()
    entry = PriceBookEntryFactory(price_book=book, product=product)
    client.force_login(owner)
    for name, args in [("sales:product_create", []), ("sales:product_edit", [product.pk]),
                       ("sales:product_set_active", [product.pk]), ("sales:product_delete", [product.pk]),
                       ("sales:product_document_upload", [product.pk]), ("sales:price_book_create", []),
                       ("sales:price_book_edit", [book.pk]), ("sales:price_book_delete", [book.pk]),
                       ("sales:price_book_entry_add", [book.pk]), ("sales:price_book_entry_edit", [book.pk, entry.pk]),
                       ("sales:price_book_entry_remove", [book.pk, entry.pk]), ("sales:currency_rate_list", [])]:
        assert client.post(reverse(name, args=args), {"unit_price": "1"}).status_code == 403, name
    body = client.get(product.get_absolute_url()).content.decode()
    assert reverse("sales:product_edit", args=[product.pk]) not in body
    assert 'id="document-upload-form"' not in body
    entry.refresh_from_db()
    assert entry.unit_price == Decimal("90.00")
