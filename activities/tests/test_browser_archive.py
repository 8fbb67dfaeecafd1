"""An archived activity driven in the system Chromium: older timeline pages read the archive, and its page is
read-only."""

import datetime

import pytest
from django.db import connection
from django.utils import timezone
from playwright.sync_api import expect

from accounts.tests.factories import AccountFactory
from activities import archive
from activities.models import Activity
from activities.timeline import PAGE_SIZE
from conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def empty_archive():
    yield
    with connection.cursor() as cursor:  # an unmanaged table: the flush after a transactional test leaves it
        cursor.execute("DELETE FROM crm_activity_archive")


def test_show_older_reaches_the_archive_and_the_archived_call_opens_read_only(page, owner):
    account = AccountFactory(owner=owner, name="Borealis Freight")
    now = timezone.now()
    for n in range(PAGE_SIZE):
        Activity.objects.create(owner=owner, team=owner.team, account=account, kind="call", subject=f"Recent call {n}",
                                occurred_at=now - datetime.timedelta(hours=n + 1))
    Activity.objects.create(owner=owner, team=owner.team, account=account, kind="call",
                            subject="Renewal call from long ago", body="They asked for a three-year price.",
                            occurred_at=now - datetime.timedelta(days=900))
    assert archive.archive_due() == 1

    sign_in(page, owner)
    page.goto(account.get_absolute_url())
    timeline = page.locator("#timeline-items")
    expect(timeline.get_by_role("link", name="Recent call 0")).to_be_visible()
    expect(timeline.get_by_role("link", name="Renewal call from long ago")).to_have_count(0)
    timeline.get_by_role("link", name="Show older").click()
    old = timeline.locator(".timeline-item", has_text="Renewal call from long ago")
    expect(old).to_contain_text("Archived")
    old.get_by_role("link", name="Renewal call from long ago").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Renewal call from long ago")
    expect(page.get_by_text("They asked for a three-year price.")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Archived")
    expect(page.get_by_role("link", name="Edit")).to_have_count(0)
    assert page.console_errors == [], page.failed_requests
