"""The sales team dashboard driven as a manager would, in the system Chromium: the charts are drawn without
console errors, a click on a rep's bar opens that rep's won deals, and an activity figure opens exactly the
activities it counts."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from activities.models import Activity
from conftest import sign_in
from reports.tests.test_browser_dashboard import BAR, INK
from sales.tests.factories import OpportunityFactory, PipelineFactory, stage

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]


def test_manager_reads_the_team_and_drills_down(page, manager, owner, teammate, outsider):
    pipeline = PipelineFactory(name="Новые продажи")
    now = timezone.now()
    won = stage(pipeline, "Won")
    OpportunityFactory(owner=owner, pipeline=pipeline, stage=won, amount=Decimal("7000.00"),
                       closed_at=now - datetime.timedelta(minutes=5), name="Signed deal")
    OpportunityFactory(owner=teammate, pipeline=pipeline, stage=won, amount=Decimal("3000.00"),
                       closed_at=now - datetime.timedelta(minutes=5), name="Small deal")
    OpportunityFactory(owner=outsider, pipeline=pipeline, stage=won, amount=Decimal("9000.00"),
                       closed_at=now - datetime.timedelta(minutes=5), name="Other team's deal")
    OpportunityFactory(owner=owner, pipeline=pipeline, stage=stage(pipeline, "Proposal"), amount=Decimal("500.00"),
                       expected_close_date=timezone.localdate(), name="Forgotten deal")
    for number in range(3):
        Activity.objects.create(kind="call", subject=f"Звонок {number}", owner=owner, team=owner.team,
                                occurred_at=now - datetime.timedelta(minutes=number + 1))
    Activity.objects.create(kind="call", subject="Звонок коллеги", owner=teammate, team=teammate.team,
                            occurred_at=now - datetime.timedelta(minutes=1))

    sign_in(page, manager)
    page.goto("/reports/")
    page.get_by_role("link", name="Sales team").click()
    expect(page.get_by_role("heading", name="Sales team", exact=True)).to_be_visible()
    reps = page.locator("#reps-table")
    expect(reps).not_to_contain_text(str(outsider))
    expect(reps.locator(f'tr[data-row="{owner.pk}"]')).to_contain_text("7,000.00")
    for chart in ("won-chart", "pipeline-chart", "activity-chart", "attention-chart"):
        expect(page.locator(f"#{chart}")).to_be_visible()
        assert page.evaluate(INK, chart) > 300, f"{chart} was not drawn"
    assert page.console_errors == [] and page.failed_requests == []

    # The first bar is the rep with the most won: a click opens exactly their won deals.
    page.locator("#won-chart").scroll_into_view_if_needed()
    position = page.evaluate(BAR, ["won-chart", 0])
    page.mouse.click(position["x"], position["y"])
    page.wait_for_url(f"**/sales/opportunities/?*owner={owner.pk}*")
    rows = page.locator("#opportunity-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Signed deal")

    # The calls figure opens the activity list filtered to those calls; the idle deal to the deal list.
    page.go_back()
    page.locator(f'#activity-table tr[data-row="{owner.pk}"] [data-figure="calls"]').click()
    page.wait_for_url("**/activities/?*kind=call*")
    expect(page.locator("#activity-table tbody tr")).to_have_count(3)
    page.go_back()
    page.locator(f'#activity-table tr[data-row="{owner.pk}"] [data-figure="idle"]').click()
    page.wait_for_url("**/sales/opportunities/?*idle_days=14*")
    expect(page.locator("#opportunity-table tbody tr")).to_have_count(1)
    expect(page.locator("#opportunity-table")).to_contain_text("Forgotten deal")
    assert page.console_errors == [] and page.failed_requests == []
