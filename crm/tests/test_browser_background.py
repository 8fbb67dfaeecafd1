"""Administration → Background work in Chromium: an admin finds a failed export with its error,
retries it, and sees it done; a stalled one is shown as such."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from conftest import sign_in
from exports.models import ExportJob, ExportStatus

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]


def test_an_admin_finds_a_failed_export_and_retries_it(page, admin_user, owner):
    failed = ExportJob.objects.create(user=owner, target="contacts.contact", status=ExportStatus.FAILED,
                                      error="Disk full: /var/crm/exports", heartbeat_at=timezone.now(),
                                      run_attempts=5)
    ExportJob.objects.create(user=owner, target="accounts.account", status=ExportStatus.RUNNING,
                             run_token=uuid.uuid4(), heartbeat_at=timezone.now() - timedelta(minutes=5))
    sign_in(page, admin_user)
    page.locator("#user-menu").click()
    page.get_by_role("link", name="Background work").click()
    exports = page.locator("#background-exports")
    expect(exports).to_contain_text("Failed: 1")
    expect(exports).to_contain_text("Stalled: 1")
    failed_row = page.locator(f"#background-exports-{failed.pk}")
    failed_row.locator("summary").click()
    expect(failed_row.locator("pre")).to_have_text("Disk full: /var/crm/exports")
    failed_row.get_by_role("button", name="Retry").click()
    expect(page.locator(".alert-success, .toast, [role=alert]").first).to_contain_text("Sent to a worker again")
    expect(page.locator("#background-exports .card-header")).not_to_contain_text("Failed")
    failed.refresh_from_db()
    assert failed.status == ExportStatus.DONE and failed.error == ""
