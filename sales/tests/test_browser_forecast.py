"""Targets and forecast driven as a sales manager would, in the system Chromium."""

from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from conftest import sign_in
from sales.forecast_services import Period
from sales.models import ForecastCategory, SalesTarget
from sales.tests.factories import OpportunityFactory, PipelineFactory, stage

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]


def test_manager_sets_a_target_and_moves_a_deal_to_commit(page, manager, owner):
    pipeline = PipelineFactory()
    today = timezone.localdate()
    OpportunityFactory(owner=owner, pipeline=pipeline, stage=stage(pipeline, "Won"), amount=Decimal("2500.00"),
                       closed_at=timezone.now(), probability=100, name="Signed deal")
    deal = OpportunityFactory(owner=owner, pipeline=pipeline, stage=stage(pipeline, "Proposal"),
                              amount=Decimal("4000.00"), expected_close_date=today, name="Acme renewal",
                              forecast_category=ForecastCategory.PIPELINE)
    month = Period.containing("month", today)

    sign_in(page, manager)
    page.goto(f"/sales/targets/?period=month&year={today.year}")
    cell = page.get_by_label(f"Target amount, {owner}, {month.label}")
    cell.fill("10000")
    cell.press("Tab")  # leaving the cell saves it
    expect(page.get_by_label(f"Target amount, {owner}, {month.label}")).to_have_class(
        "form-control form-control-sm text-end is-valid")
    expect(page.locator(f"#target-total-user-{owner.pk}")).to_have_text("10,000.00")
    assert SalesTarget.objects.get(user=owner).amount == Decimal("10000")

    page.get_by_role("link", name="Forecast").first.click()
    row = page.locator(f'#forecast-table tbody tr[data-row="{owner.pk}"]')
    expect(row.locator('[data-figure="target"]')).to_contain_text("10,000.00")
    expect(row.locator('[data-figure="won"]')).to_contain_text("2,500.00")
    expect(row.locator('[data-figure="attainment"]')).to_contain_text("25.0 %")
    expect(row.locator('[data-figure="commit"]')).to_have_text("—")  # no deals: a dash, not "0.00 (0)"
    expect(row.locator('[data-figure="commit"] a')).to_have_count(0)  # and no link to an empty list
    expect(page.locator("#forecast-chart")).to_be_visible()

    row.locator('[data-figure="pipeline"] a').click()  # drill down to the deals behind the figure
    deals = page.locator("#forecast-deals-table")
    expect(deals).to_contain_text("Acme renewal")
    # The table arrived by htmx: wait until htmx has wired its form, or the change would go unheard.
    wired = f"() => Boolean(document.querySelector('#deal-{deal.pk} form')?.['htmx-internal-data'])"
    for _attempt in range(50):  # (wait_for_function evaluates a string, which our CSP forbids)
        if page.evaluate(wired):
            break
        page.wait_for_timeout(100)
    page.get_by_label("Forecast category of Acme renewal").select_option("commit")
    expect(page.locator(f"#deal-{deal.pk} .deal-notice")).to_contain_text("Saved")

    row = page.locator(f'#forecast-table tbody tr[data-row="{owner.pk}"]')  # the figures reload
    expect(row.locator('[data-figure="commit"]')).to_contain_text("4,000.00")
    expect(row.locator('[data-figure="pipeline"]')).to_have_text("—")
    commit_bars = "() => Chart.getChart('forecast-chart').data.datasets[2].data"
    page.wait_for_function(f"({commit_bars})().includes(4000)")  # the chart follows
    deal.refresh_from_db()
    assert deal.forecast_category == ForecastCategory.COMMIT
    assert page.console_errors == []
    assert page.failed_requests == []


def test_bad_target_entry_is_explained_in_the_cell(page, manager, owner):
    today = timezone.localdate()
    month = Period.containing("month", today)
    sign_in(page, manager)
    page.goto(f"/sales/targets/?period=month&year={today.year}")
    cell = page.get_by_label(f"Target amount, {owner}, {month.label}")
    cell.fill("lots")
    cell.press("Tab")
    expect(page.get_by_role("alert").filter(has_text="Enter a number.")).to_be_visible()
    expect(page.get_by_label(f"Target amount, {owner}, {month.label}")).to_have_value("lots")
    assert not SalesTarget.objects.exists()
    assert page.console_errors == []
