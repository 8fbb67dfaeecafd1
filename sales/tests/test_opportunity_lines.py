"""An opportunity's product lines: totals only through sales.money, rights of the opportunity,
the "use lines total" action with optimistic locking."""

from decimal import Decimal

import pytest
from django.urls import reverse

from sales import money
from sales import product_services as services
from sales.models import Opportunity, OpportunityLine
from sales.tests.factories import OpportunityFactory, PriceBookEntryFactory, PriceBookFactory, ProductFactory

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def deal(owner):
    return OpportunityFactory(owner=owner, amount=Decimal("0.00"), amount_base=Decimal("0.00"))


@pytest.fixture
def widget(db):
    return ProductFactory(name="Widget", sku="W-1", unit="box", default_price=Decimal("10.00"),
                          tax_rate=Decimal("20.00"))


def add(client, deal, **data):
    payload = {"line-quantity": "1", "line-discount_pct": "0", **{f"line-{k}": v for k, v in data.items()}}
    return client.post(reverse("sales:opportunity_line_add", args=[deal.pk]), payload, **HTMX)


@pytest.mark.django_db
def test_totals_come_from_sales_money(deal, widget, owner, monkeypatch):
    services.opportunity_line_add(opportunity=deal, actor=owner, product=widget, quantity=Decimal(3),
                                  discount_pct=Decimal(10))
    calls = []
    real = money.compute_totals

    def spy(lines, **kwargs):
        calls.append(kwargs)
        return real(lines, **kwargs)

    monkeypatch.setattr(services, "compute_totals", spy)
    totals = services.opportunity_lines_totals(deal)
    assert calls == [{"currency": deal.currency}]
    # 3 × 10.00 = 30.00, −10 % = 27.00, +20 % tax = 5.40 → 32.40
    assert (totals.subtotal, totals.discount_total, totals.tax_total, totals.total) == (
        Decimal("30.00"), Decimal("3.00"), Decimal("5.40"), Decimal("32.40"))


@pytest.mark.django_db
def test_add_edit_and_remove_lines_through_htmx(client, owner, deal, widget):
    book = PriceBookFactory(currency=deal.currency)
    PriceBookEntryFactory(price_book=book, product=widget, unit_price=Decimal("8.00"))
    client.force_login(owner)
    response = add(client, deal, product=widget.pk, price_book=book.pk, quantity="2")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Widget was added." in body and "<html" not in body
    line = OpportunityLine.objects.get(opportunity=deal)
    assert (line.unit_price, line.quantity, line.unit, line.tax_rate) == (Decimal("8.00"), 2, "box", Decimal("20.00"))
    assert "19.20 EUR" in body  # 2 × 8.00 + 20 % tax

    response = client.get(reverse("sales:opportunity_line_edit", args=[deal.pk, line.pk]), **HTMX)
    assert 'id="line-edit-form"' in response.content.decode()
    response = client.post(reverse("sales:opportunity_line_edit", args=[deal.pk, line.pk]), {
        "edit-quantity": "5", "edit-unit_price": "8.00", "edit-discount_pct": "50", "edit-tax_rate": "0",
        "edit-description": "Launch offer"}, **HTMX)
    line.refresh_from_db()
    assert (line.quantity, line.discount_pct, line.description) == (5, 50, "Launch offer")
    assert "20.00 EUR" in response.content.decode()

    client.post(reverse("sales:opportunity_line_delete", args=[deal.pk, line.pk]), **HTMX)
    assert not OpportunityLine.objects.filter(opportunity=deal).exists()


@pytest.mark.django_db
def test_bad_line_input_says_why_and_adds_nothing(client, owner, deal, widget):
    retired = ProductFactory(active=False)
    client.force_login(owner)
    body = add(client, deal, product=retired.pk).content.decode()
    assert "Choose an active product from the list." in body
    body = add(client, deal, product=widget.pk, quantity="0", discount_pct="150").content.decode()
    assert "Ensure this value is greater than or equal to 0.001." in body
    assert "Ensure this value is less than or equal to 100." in body
    assert not OpportunityLine.objects.exists()


@pytest.mark.django_db
def test_plain_form_post_without_htmx_redirects_to_the_deal(client, owner, deal, widget):
    client.force_login(owner)
    response = client.post(reverse("sales:opportunity_line_add", args=[deal.pk]),
                           {"line-product": widget.pk, "line-quantity": "1"})
    assert response.status_code == 302 and response["Location"] == deal.get_absolute_url()
    assert OpportunityLine.objects.filter(opportunity=deal).count() == 1


@pytest.mark.django_db
def test_use_lines_total_sets_the_amount(client, owner, deal, widget):
    services.opportunity_line_add(opportunity=deal, actor=owner, product=widget, quantity=Decimal(2))
    client.force_login(owner)
    response = client.post(reverse("sales:opportunity_lines_use_total", args=[deal.pk]),
                           {"version": deal.lock_version, "total": "20.00"}, **HTMX)
    assert response.status_code == 204 and response["HX-Refresh"] == "true"
    deal.refresh_from_db()
    assert deal.amount == Decimal("20.00") and deal.lock_version == 2  # 2 × 10.00, net of the 20 % tax
    assert deal.stage_changes.count() == 0


@pytest.mark.django_db
def test_use_lines_total_refuses_a_stale_write(client, owner, teammate, deal, widget):
    services.opportunity_line_add(opportunity=deal, actor=owner, product=widget)
    seen_version = deal.lock_version
    Opportunity.objects.filter(pk=deal.pk).update(lock_version=seen_version + 1, amount=Decimal("500.00"))
    client.force_login(owner)
    response = client.post(reverse("sales:opportunity_lines_use_total", args=[deal.pk]),
                           {"version": seen_version, "total": "10.00"}, **HTMX)
    body = response.content.decode()
    assert "Someone else changed this deal since you opened it; nothing was changed." in body
    deal.refresh_from_db()
    assert deal.amount == Decimal("500.00")
    assert f'name="version" value="{seen_version + 1}"' in body  # the retry carries the current version


@pytest.mark.django_db
def test_use_lines_total_refuses_when_the_lines_changed_meanwhile(client, owner, deal, widget):
    services.opportunity_line_add(opportunity=deal, actor=owner, product=widget)
    client.force_login(owner)
    body = client.post(reverse("sales:opportunity_lines_use_total", args=[deal.pk]),
                       {"version": deal.lock_version, "total": "99.00"}, **HTMX).content.decode()
    assert "The lines changed since you loaded them" in body
    deal.refresh_from_db()
    assert deal.amount == 0


@pytest.mark.django_db
@pytest.mark.parametrize("who, read, write", [
    ("owner", 200, 200), ("manager", 200, 200), ("admin", 200, 200), ("teammate", 404, 404),
    ("outsider", 404, 404), ("executive", 200, 403), ("support_agent", 404, 404), ("marketer", 404, 404),
])
def test_lines_follow_the_opportunity_rights(client, cast, deal, widget, who, read, write):
    line = services.opportunity_line_add(opportunity=deal, actor=cast["owner"], product=widget)
    client.force_login(cast[who])
    assert client.get(reverse("sales:opportunity_lines", args=[deal.pk])).status_code == read
    assert add(client, deal, product=widget.pk).status_code == write
    edit = client.post(reverse("sales:opportunity_line_edit", args=[deal.pk, line.pk]), {
        "edit-quantity": "9", "edit-unit_price": "1", "edit-discount_pct": "0", "edit-tax_rate": "0"}, **HTMX)
    assert edit.status_code == write
    use = client.post(reverse("sales:opportunity_lines_use_total", args=[deal.pk]), {"version": 1}, **HTMX)
    assert use.status_code == (204 if write == 200 else write)
    delete = client.post(reverse("sales:opportunity_line_delete", args=[deal.pk, line.pk]), **HTMX)
    assert delete.status_code == write
    if write != 200:
        line.refresh_from_db()
        assert line.quantity == 1
        assert OpportunityLine.objects.filter(opportunity=deal).count() == 1


@pytest.mark.django_db
def test_read_only_viewer_sees_lines_without_edit_controls(client, executive, owner, deal, widget):
    services.opportunity_line_add(opportunity=deal, actor=owner, product=widget)
    client.force_login(executive)
    body = client.get(reverse("sales:opportunity_lines", args=[deal.pk])).content.decode()
    assert "Widget" in body and "12.00 EUR" in body
    assert 'id="line-add-form"' not in body and "use-lines-total" not in body


@pytest.mark.django_db
def test_line_of_another_opportunity_is_404(client, owner, deal, widget):
    other = OpportunityFactory(owner=owner)
    line = services.opportunity_line_add(opportunity=other, actor=owner, product=widget)
    client.force_login(owner)
    assert client.post(reverse("sales:opportunity_line_delete", args=[deal.pk, line.pk]), **HTMX).status_code == 404
    assert OpportunityLine.objects.filter(pk=line.pk).exists()


@pytest.mark.django_db
def test_the_opportunity_page_includes_the_lines(client, owner, deal, widget):
    services.opportunity_line_add(opportunity=deal, actor=owner, product=widget)
    client.force_login(owner)
    response = client.get(deal.get_absolute_url())
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="opportunity-lines-card"' in body and "product_picker.js" in body and "12.00 EUR" in body


@pytest.mark.django_db
def test_script_in_line_text_is_escaped(client, owner, deal):
    product = ProductFactory(name="<script>alert(1)</script>")
    services.opportunity_line_add(opportunity=deal, actor=owner, product=product)
    client.force_login(owner)
    body = client.get(reverse("sales:opportunity_lines", args=[deal.pk])).content.decode()
    assert "<script>alert(1)</script>" not in body and "&lt;script&gt;alert(1)&lt;/script&gt;" in body
