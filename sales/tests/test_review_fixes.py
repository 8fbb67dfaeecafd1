"""Regressions from the code review: hidden account names, forged products, junk parameters."""

import pytest
from django.urls import reverse

from accounts.tests.factories import AccountFactory
from sales.tests.factories import OpportunityFactory, PipelineFactory, ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def pipeline(db):
    return PipelineFactory(name="New business", is_default=True)


def test_board_and_bulk_csv_never_name_a_hidden_account(client, owner, outsider, pipeline):
    hidden = AccountFactory(owner=outsider, name="Secretco Holdings")
    deal = OpportunityFactory(owner=owner, pipeline=pipeline, account=hidden, name="My deal there")
    client.force_login(owner)
    board = client.get(reverse("sales:board", args=[pipeline.pk])).content.decode()
    assert "My deal there" in board and "Secretco" not in board
    csv = client.post(reverse("sales:opportunity_bulk"), {"action": "export", "ids": [deal.pk]}).content.decode()
    assert "My deal there" in csv and "Secretco" not in csv


def test_a_deleted_product_cannot_be_forged_onto_a_quote_line(owner):
    from sales import quote_services
    from sales.quote_forms import QuoteLineForm

    product = ProductFactory(name="Retired")
    product.deleted_at = product.created_at
    product.save(update_fields=["deleted_at"])
    quote = quote_services.quote_create(actor=owner, account=AccountFactory(owner=owner))
    form = QuoteLineForm({"product": product.pk, "name": "x", "quantity": "1", "unit_price": "1", "version": 1},
                         quote=quote)
    assert not form.is_valid() and "product" in form.errors


def test_roles_without_leads_cannot_probe_the_duplicate_check(client, support_agent):
    client.force_login(support_agent)
    assert client.post(reverse("sales:lead_duplicates"), {"email": "x@example.com"}).status_code == 404


def test_junk_parameters_answer_without_a_server_error(client, owner, pipeline):
    deal = OpportunityFactory(owner=owner, pipeline=pipeline)
    client.force_login(owner)
    response = client.post(reverse("sales:opportunity_lines_use_total", args=[deal.pk]),
                           {"version": deal.lock_version, "total": "sNaN"})
    assert response.status_code < 500
    for query in ("start=9999-12-01&period=quarter", "start=0001-01-01"):
        assert client.get(reverse("sales:forecast") + "?" + query).status_code == 200


def test_the_same_payment_form_posted_twice_records_one_payment(client, owner):
    from decimal import Decimal

    from sales.models import Invoice, Payment

    invoice = Invoice.objects.create(owner=owner, team=owner.team, number="INV-2026-0999",
                                     account=AccountFactory(owner=owner), due_date="2026-12-31",
                                     total=Decimal("100.00"), subtotal=Decimal("100.00"))
    client.force_login(owner)
    form = {"amount": "30.00", "paid_on": "2026-11-01", "method": "bank_transfer", "version": invoice.lock_version}
    client.post(reverse("sales:payment_add", args=[invoice.pk]), form)
    second = client.post(reverse("sales:payment_add", args=[invoice.pk]), form)
    assert Payment.objects.filter(invoice=invoice).count() == 1
    assert "Nothing was recorded" in second.content.decode()


def test_an_approval_covers_only_the_discount_the_approver_saw(client, owner, manager):
    from decimal import Decimal

    from sales import quote_services
    from sales.models import ApprovalStatus, Quote

    quote = quote_services.quote_create(actor=owner, account=AccountFactory(owner=owner))
    line = quote_services.quote_line_add(quote=quote, actor=owner, expected_version=None, name="Seats", quantity=1,
                                         unit_price=100, tax_rate=0, discount_pct=Decimal(15))
    quote_services.quote_request_approval(quote=Quote.objects.get(pk=quote.pk), actor=owner)
    seen = Quote.objects.get(pk=quote.pk).lock_version
    quote_services.quote_line_update(line=line, actor=owner, expected_version=None, discount_pct=Decimal(60))
    client.force_login(manager)
    client.post(reverse("sales:quote_approve", args=[quote.pk]), {"version": seen})
    assert Quote.objects.get(pk=quote.pk).approval_status == ApprovalStatus.PENDING
