"""A quote driven as people would, in the system Chromium: a rep builds a quote with a discount over
the limit, the manager approves it, the rep downloads the PDF, sends it by e-mail and records the
customer's acceptance."""

from pathlib import Path

import pytest
from django.core import mail
from playwright.sync_api import expect
from pypdf import PdfReader

from accounts.tests.factories import AccountFactory
from activities.models import Activity, ActivityKind
from conftest import sign_in
from sales.models import ApprovalStatus, Quote, QuoteStatus

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]


def sign_out(page):
    page.locator("#user-menu").click()
    page.locator("#sign-out").click()
    page.wait_for_url("**/auth/login/**")


def test_discount_approval_pdf_email_and_acceptance(page, owner, manager, tmp_path):
    account = AccountFactory(owner=owner, name="Initech", email="buyer@initech.example")
    sign_in(page, owner)

    # The rep builds the quote: 15 % overall discount, above a rep's 10 % limit.
    page.goto(f"/sales/quotes/new/?account={account.pk}")
    page.get_by_label("Title").fill("Consulting offer")
    page.get_by_label("Overall discount, %").fill("15")
    page.get_by_role("button", name="Create the quote").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Quote Q-")
    form = page.locator("#add-line-form")
    form.get_by_label("Item").fill("Consulting day")
    form.get_by_label("Quantity").fill("10")
    form.get_by_label("Unit price").fill("100")
    form.get_by_label("Tax, %").fill("20")
    form.get_by_role("button", name="Add line").click()
    expect(page.locator("#quote-total")).to_have_text("1,020.00 EUR")  # 1000 − 150 + 170 tax

    # Sending is blocked until the discount is approved.
    expect(page.locator("#send-blocked")).to_be_disabled()
    expect(page.locator("#approval-needed")).to_contain_text("above your limit")
    page.get_by_role("button", name="Request approval").click()
    expect(page.locator("#toasts")).to_contain_text(f"Approval requested from {manager}")
    expect(page.locator("#approval-needed")).to_contain_text("Waiting for approval")
    quote = Quote.objects.get()
    assert quote.approval_status == ApprovalStatus.PENDING

    # The manager approves it from the list of requests waiting for them.
    sign_out(page)
    sign_in(page, manager)
    page.goto("/sales/quotes/approvals/")
    row = page.locator("#approval-table tbody tr", has_text=quote.number)
    expect(row).to_contain_text("15.00%")
    row.get_by_label("Comment").fill("Fine for a first order")
    row.get_by_role("button", name="Approve").click()
    expect(page.locator("#toasts")).to_contain_text("Discount approved")
    expect(page.locator(".empty-state")).to_contain_text("Nothing waits for you")

    # Back as the rep: the PDF, then the e-mail.
    sign_out(page)
    sign_in(page, owner)
    page.goto(f"/sales/quotes/{quote.pk}/")
    expect(page.locator("#approval-history")).to_contain_text("Fine for a first order")
    with page.expect_download() as download_info:
        page.locator("#download-pdf").click()
    download = download_info.value
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    assert download.suggested_filename == f"{quote.number}.pdf"
    assert Path(target).read_bytes().startswith(b"%PDF")
    text = "".join(pdf_page.extract_text() for pdf_page in PdfReader(target).pages)
    assert "1,020.00 EUR" in text and "Initech" in text and quote.number in text

    page.locator("#send-quote").click()
    expect(page.locator("#id_to")).to_have_value("buyer@initech.example")
    page.get_by_label("Message").fill("Dear Initech team,\nour offer is attached.")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.locator("#quote-status")).to_contain_text("Sent")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].attachments[0][0] == f"{quote.number}.pdf"
    activity = Activity.objects.get(kind=ActivityKind.EMAIL)
    assert activity.account_id == account.pk and "our offer is attached" in activity.body

    # The customer said yes.
    page.get_by_role("button", name="Customer accepted").click()
    expect(page.locator("#quote-status")).to_contain_text("Accepted")
    assert Quote.objects.get().status == QuoteStatus.ACCEPTED
    page.goto(account.get_absolute_url())
    expect(page.locator("#timeline-items")).to_contain_text(f"Quote {quote.number}")
    assert not page.console_errors, page.console_errors
