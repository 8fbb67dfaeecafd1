"""Billing pages, PDF and API: who sees what (hidden = 404, read-only = 403), bad input, query counts."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import AccountFactory
from sales import billing_services
from sales.models import Invoice, InvoiceStatus, Order, OrderStatus, Payment
from sales.tests.billing_helpers import accepted_quote, invoice_for, order_for

pytestmark = pytest.mark.django_db

SEES = {"owner", "manager", "executive", "admin"}


def get_as(client, user, url):
    client.force_login(user)
    return client.get(url)


@pytest.fixture
def invoice(owner):
    return invoice_for(owner, due_in_days=-40)


@pytest.mark.parametrize("role", ["owner", "teammate", "manager", "outsider", "executive", "support_agent",
                                  "marketer", "admin"])
def test_detail_pages_pdf_and_api_per_role(client, cast, invoice, role):
    user = cast[role]
    expected = 200 if role in SEES else 404
    order = invoice.order
    assert get_as(client, user, order.get_absolute_url()).status_code == expected
    assert get_as(client, user, invoice.get_absolute_url()).status_code == expected
    pdf = get_as(client, user, reverse("sales:invoice_pdf", args=[invoice.pk]))
    assert pdf.status_code == expected
    if expected == 200:
        assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert get_as(client, user, f"/api/orders/{order.pk}/").status_code == expected
    assert get_as(client, user, f"/api/invoices/{invoice.pk}/").status_code == expected
    payments = get_as(client, user, f"/api/payments/?invoice={invoice.pk}")
    billing_services.payment_record(invoice=invoice, amount="1.00", actor=cast["owner"])
    payment = Payment.objects.get()
    assert get_as(client, user, f"/api/payments/{payment.pk}/").status_code == expected
    if role in {"support_agent", "marketer"}:  # no sales data: the payments list is a 404 like the rest
        assert payments.status_code == 404
    else:
        assert payments.json()["results"] == []


@pytest.mark.parametrize("role", ["owner", "teammate", "manager", "outsider", "executive", "support_agent",
                                  "marketer", "admin"])
def test_lists_per_role(client, cast, invoice, role):
    user = cast[role]
    no_sales = role in {"support_agent", "marketer"}
    for name in ("sales:order_list", "sales:invoice_list"):
        response = get_as(client, user, reverse(name))
        assert response.status_code == (404 if no_sales else 200)  # like every page of data they never see
        if not no_sales:
            assert (invoice.number in response.text or invoice.order.number in response.text) == (role in SEES)
    api = get_as(client, user, "/api/invoices/")
    if no_sales:
        assert api.status_code == 404  # the same answer as the page
    else:
        assert [row["number"] for row in api.json()["results"]] == ([invoice.number] if role in SEES else [])


@pytest.mark.parametrize(("role", "expected"), [
    ("owner", 200), ("teammate", 404), ("manager", 200), ("outsider", 404), ("executive", 200),
    ("support_agent", 404), ("marketer", 404), ("admin", 200),
])
def test_account_receivables_per_role(client, cast, invoice, role, expected):
    response = get_as(client, cast[role], reverse("sales:account_receivables", args=[invoice.account_id]))
    assert response.status_code == expected
    if expected == 200:
        assert "516.00 EUR" in response.text and invoice.number in response.text


@pytest.mark.parametrize(("role", "expected"), [
    ("owner", 403), ("teammate", 403), ("manager", 200), ("outsider", 403), ("executive", 200),
    ("support_agent", 404), ("marketer", 404), ("admin", 200),
])
def test_company_receivables_for_managers_executives_admins(client, cast, invoice, role, expected):
    response = get_as(client, cast[role], reverse("sales:receivables"))
    assert response.status_code == expected
    if expected == 200:
        assert invoice.account.name in response.text


def test_company_receivables_within_visibility(client, manager, outsider, invoice):
    invoice_for(outsider, account=AccountFactory(owner=outsider, team=outsider.team, name="Far Away Ltd"))
    response = get_as(client, manager, reverse("sales:receivables"))
    assert invoice.account.name in response.text and "Far Away Ltd" not in response.text


@pytest.mark.parametrize("role", ["teammate", "outsider", "support_agent"])
def test_writes_on_hidden_records_are_404(client, cast, invoice, role):
    client.force_login(cast[role])
    order = invoice.order
    quote = order.quote
    assert client.post(reverse("sales:order_create_from_quote", args=[quote.pk])).status_code == 404
    assert client.post(reverse("sales:order_status", args=[order.pk]), {"status": "confirmed"}).status_code == 404
    assert client.post(reverse("sales:order_shipment_add", args=[order.pk]), {}).status_code == 404
    assert client.post(reverse("sales:invoice_create_from_order", args=[order.pk])).status_code == 404
    assert client.post(reverse("sales:payment_add", args=[invoice.pk]), {"amount": "1"}).status_code == 404
    assert client.post(reverse("sales:invoice_cancel", args=[invoice.pk])).status_code == 404
    assert Order.objects.get().status == OrderStatus.NEW and not Payment.objects.exists()


def test_executive_reads_but_may_not_write(client, executive, invoice):
    client.force_login(executive)
    assert client.post(reverse("sales:order_status", args=[invoice.order_id]), {"status": "confirmed"}).status_code \
        == 403
    assert client.post(reverse("sales:payment_add", args=[invoice.pk]), {"amount": "1"}).status_code == 403
    assert client.post(reverse("sales:invoice_cancel", args=[invoice.pk])).status_code == 403
    response = client.get(invoice.get_absolute_url())
    assert 'id="payment-form"' not in response.text and 'id="cancel-invoice"' not in response.text


def test_the_whole_flow_through_the_pages(client, owner):
    quote = accepted_quote(owner)
    client.force_login(owner)
    response = client.post(reverse("sales:order_create_from_quote", args=[quote.pk]), follow=True)
    order = Order.objects.get()
    assert response.redirect_chain[-1][0] == order.get_absolute_url()
    assert f"Order {order.number} was created" in response.text
    again = client.post(reverse("sales:order_create_from_quote", args=[quote.pk]), follow=True)
    assert "already became order" in again.text and Order.objects.count() == 1
    client.post(reverse("sales:order_status", args=[order.pk]), {"status": "confirmed", "version": "1"})
    stale = client.post(reverse("sales:order_status", args=[order.pk]), {"status": "cancelled", "version": "1"},
                        follow=True)
    assert "Somebody else changed this record" in stale.text
    client.post(reverse("sales:order_shipment_add", args=[order.pk]),
                {"shipped_on": timezone.localdate().isoformat(), "carrier": "DHL", "tracking_number": "JD1"})
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED and order.shipments.count() == 1
    response = client.post(reverse("sales:invoice_create_from_order", args=[order.pk]), follow=True)
    invoice = Invoice.objects.get()
    assert f"Invoice {invoice.number} was issued" in response.text
    too_much = client.post(reverse("sales:payment_add", args=[invoice.pk]),
                           {"amount": "600", "paid_on": timezone.localdate().isoformat(), "method": "card"})
    assert too_much.status_code == 400 and "more than the balance of 516.00 EUR" in too_much.text
    response = client.post(reverse("sales:payment_add", args=[invoice.pk]),
                           {"amount": "200", "paid_on": timezone.localdate().isoformat(), "method": "card"},
                           follow=True)
    assert "316.00 EUR still to pay" in response.text
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PARTLY_PAID and invoice.amount_paid == Decimal("200.00")
    cancel = client.post(reverse("sales:invoice_cancel", args=[invoice.pk]), follow=True)
    assert "cannot be cancelled" in cancel.text


def test_bad_shipment_shows_the_errors(client, owner):
    order = order_for(owner)
    billing_services.order_set_status(order=order, status=OrderStatus.CONFIRMED, actor=owner)
    client.force_login(owner)
    response = client.post(reverse("sales:order_shipment_add", args=[order.pk]), {"shipped_on": "not a date"})
    assert response.status_code == 400 and not order.shipments.exists()


def test_script_in_names_is_escaped(client, owner):
    account = AccountFactory(owner=owner, team=owner.team, name="<script>alert(1)</script>")
    invoice = invoice_for(owner, account=account, due_in_days=-3)
    client.force_login(owner)
    for url in (invoice.get_absolute_url(), reverse("sales:account_receivables", args=[account.pk]),
                reverse("sales:invoice_list"), reverse("sales:order_list")):
        response = client.get(url)
        assert "<script>alert(1)</script>" not in response.text and "&lt;script&gt;" in response.text


def test_filters(client, owner):
    overdue = invoice_for(owner, due_in_days=-5)
    current = invoice_for(owner, due_in_days=5)
    client.force_login(owner)
    text = client.get(reverse("sales:invoice_list") + "?overdue=true").text
    assert overdue.number in text and current.number not in text
    text = client.get(reverse("sales:invoice_list") + f"?account={current.account_id}").text
    assert current.number in text and overdue.number not in text
    billing_services.order_set_status(order=current.order, status=OrderStatus.CONFIRMED, actor=owner)
    text = client.get(reverse("sales:order_list") + "?status=confirmed").text
    assert current.order.number in text and overdue.order.number not in text


def test_account_page_shows_the_receivables_card(client, owner, support_agent, invoice):
    client.force_login(owner)
    text = client.get(invoice.account.get_absolute_url()).text
    assert 'id="receivables-card"' in text and "516.00 EUR" in text
    client.force_login(support_agent)
    assert 'id="receivables-card"' not in client.get(invoice.account.get_absolute_url()).text


@pytest.mark.parametrize("rows", [1, 30])
def test_query_counts_are_constant(client, owner, django_assert_max_num_queries, rows):
    account = AccountFactory(owner=owner, team=owner.team)
    invoices = [invoice_for(owner, account=account, due_in_days=-days) for days in range(rows)]
    for invoice in invoices[:3]:
        billing_services.payment_record(invoice=invoice, amount="1.00", actor=owner)
    invoice, order = invoices[0], invoices[0].order
    billing_services.order_set_status(order=order, status=OrderStatus.CONFIRMED, actor=owner)
    billing_services.shipment_record(order=order, actor=owner, carrier="UPS")
    client.force_login(owner)
    client.get(reverse("sales:order_list"))  # warm the session
    urls = [reverse("sales:order_list"), reverse("sales:invoice_list"), reverse("sales:invoice_list") + "?overdue=1",
            order.get_absolute_url(), invoice.get_absolute_url(),
            reverse("sales:account_receivables", args=[account.pk]), "/api/invoices/", "/api/orders/"]
    for url in urls:
        with django_assert_max_num_queries(12):
            assert client.get(url).status_code == 200, url
    client.force_login(owner.team.manager)
    client.get(reverse("sales:receivables"))
    with django_assert_max_num_queries(12):
        assert client.get(reverse("sales:receivables")).status_code == 200


def test_due_date_follows_company_profile(client, owner):
    from sales.models import CompanyProfile

    profile = CompanyProfile.current()
    profile.invoice_due_days = 7
    profile.save()
    invoice = invoice_for(owner)
    assert invoice.due_date == timezone.localdate() + datetime.timedelta(days=7)


def test_custom_invoice_template_is_used(client, owner, invoice):
    import io

    from pypdf import PdfReader

    from sales.models import CompanyProfile

    profile = CompanyProfile.current()
    profile.invoice_template = "<html><body><p>CUSTOM {{ invoice.number }} owes {{ balance }}</p></body></html>"
    profile.save()
    client.force_login(owner)
    response = client.get(reverse("sales:invoice_pdf", args=[invoice.pk]))
    text = PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    assert f"CUSTOM {invoice.number} owes 516.00" in text


def test_invoice_and_order_exports_hold_what_the_user_sees(client, owner, outsider, settings, tmp_path,
                                                           django_capture_on_commit_callbacks):
    import csv
    import io

    from exports.models import ExportJob, ExportStatus

    settings.MEDIA_ROOT = tmp_path
    overdue = invoice_for(owner, due_in_days=-5)
    current = invoice_for(owner, due_in_days=5)
    hidden = invoice_for(outsider, account=AccountFactory(owner=outsider, team=outsider.team))
    client.force_login(owner)
    for target, query, expected, absent in [
        ("sales.invoice", "overdue=true", [overdue.number], [current.number, hidden.number]),
        ("sales.order", "", [overdue.order.number, current.order.number], [hidden.order.number]),
    ]:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("exports:start"), {"target": target, "query": query, "format": "csv"})
        job = ExportJob.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))
        assert job.status == ExportStatus.DONE, job.last_error if hasattr(job, "last_error") else job
        download = client.get(reverse("exports:download", args=[job.pk]))
        rows = list(csv.reader(io.StringIO(b"".join(download.streaming_content).decode("utf-8-sig"))))
        numbers = [row[1] for row in rows[1:]]
        assert sorted(numbers) == sorted(expected) and not set(absent) & set(numbers)


def test_api_filters_and_payments_of_visible_invoices(client, owner, outsider):
    mine = invoice_for(owner, due_in_days=-5)
    invoice_for(owner, due_in_days=5)
    hidden = invoice_for(outsider, account=AccountFactory(owner=outsider, team=outsider.team))
    billing_services.payment_record(invoice=mine, amount="10.00", actor=owner)
    billing_services.payment_record(invoice=hidden, amount="20.00", actor=outsider)
    client.force_login(owner)
    overdue = client.get("/api/invoices/?overdue=true").json()["results"]
    assert [row["number"] for row in overdue] == [mine.number]
    assert overdue[0]["balance"] == "506.00" and len(overdue[0]["lines"]) == 2
    payments = client.get("/api/payments/").json()["results"]
    assert [row["amount"] for row in payments] == ["10.00"]
    order = client.get(f"/api/orders/{mine.order_id}/").json()
    assert order["number"] == mine.order.number and order["total"] == "516.00"
    assert client.post("/api/invoices/", {}, content_type="application/json").status_code == 405
