"""The lead-source dashboard driven as a marketer and an executive would, in the system Chromium: the chart is
drawn, a click on a bar opens exactly that source's leads of the period, the period picker moves the figures."""

import pytest
from playwright.sync_api import expect

from conftest import sign_in
from reports.tests.test_browser_dashboard import BAR, INK
from sales.models import LeadStatus
from sales.tests.factories import LeadFactory

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]


@pytest.fixture
def leads(owner, marketer):
    for number in range(3):
        LeadFactory(owner=marketer, source="web", last_name=f"Сайтов {number}",
                    status=LeadStatus.CONVERTED if number == 0 else LeadStatus.NEW)
    LeadFactory(owner=owner, source="event", last_name="Выставкин", status=LeadStatus.NEW)


def test_marketer_reads_the_sources_and_opens_a_sources_leads(page, marketer, leads):
    sign_in(page, marketer)
    page.goto("/reports/builder/")
    page.get_by_role("link", name="Lead sources").click()
    expect(page.get_by_role("heading", name="Lead sources", exact=True)).to_be_visible()
    web = page.locator('#sources-table tr[data-row="web"]')
    expect(web.locator("td").nth(0)).to_have_text("3")
    expect(web.locator("td").nth(3)).to_have_text("33.3 %")
    assert page.evaluate(INK, "sources-chart") > 500, "the chart was not drawn"
    position = page.evaluate(BAR, ["sources-chart", 0])
    page.mouse.click(position["x"], position["y"])
    page.wait_for_url("**/sales/leads/?*source=web*")
    expect(page.locator("table tbody tr")).to_have_count(3)
    assert page.console_errors == [] and page.failed_requests == []

    page.go_back()
    page.get_by_label("Previous period").click()
    expect(page.locator("#sources-table")).to_have_count(0)  # nothing came in the quarter before
    assert page.console_errors == [] and page.failed_requests == []
