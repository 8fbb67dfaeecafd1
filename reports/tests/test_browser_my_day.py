"""My day's sales figures driven as a rep and an executive would, in the system Chromium: the target tile and this
week's closings, a click on which opens exactly those deals; the executive's way to the dashboards."""

from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from conftest import sign_in
from reports.panels import week_bounds
from reports.tests.data import deal
from sales.models import SalesTarget, TargetPeriod
from sales.tests.factories import PipelineFactory

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]


@pytest.fixture
def deals(owner, outsider):
    pipeline = PipelineFactory(name="Продажи")
    monday, sunday = week_bounds(timezone.localdate())
    deal(pipeline, owner, "Won", "6000", closed_at=timezone.now(), name="Станки для «Уралмаша»")
    deal(pipeline, owner, "Proposal", "1500", closes=sunday, name="Поставка фрез")
    deal(pipeline, outsider, "Proposal", "900", closes=monday, name="Berlin tools")
    month = timezone.localdate().replace(day=1)
    SalesTarget.objects.create(user=owner, period=TargetPeriod.MONTH, period_start=month, amount=Decimal(8000))
    SalesTarget.objects.create(team=owner.team, period=TargetPeriod.MONTH, period_start=month, amount=Decimal(12000))


def test_rep_reads_their_target_and_opens_this_weeks_closings(page, owner, deals):
    sign_in(page, owner)
    page.goto("/")
    tile = page.locator("#figure-won-this-month")
    expect(tile).to_contain_text("My target this month")
    expect(tile).to_contain_text("75 %")
    expect(tile).to_contain_text("6,000 EUR won of 8,000 EUR")
    page.locator("#figure-closing-this-week").click()
    page.wait_for_url("**/sales/opportunities/?*close_to=*")
    rows = page.locator("#opportunity-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Поставка фрез")
    assert page.console_errors == [] and page.failed_requests == []


def test_executive_goes_from_my_day_to_the_customers_dashboard(page, executive, deals):
    sign_in(page, executive)
    page.goto("/")
    expect(page.locator("#figure-won-this-month")).to_contain_text("Company target this month")
    expect(page.locator("#figure-won-this-month")).to_contain_text("50 %")
    page.locator("#figure-dashboards").get_by_role("link", name="Customers").click()
    expect(page.get_by_role("heading", name="Customers", exact=True)).to_be_visible()
    assert page.console_errors == [] and page.failed_requests == []
