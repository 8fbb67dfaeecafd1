"""The pipeline dashboard driven as an executive would, in the system Chromium: the charts are drawn,
a click on a bar opens the matching deals, the period picker and the filters live in the URL."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from conftest import sign_in
from reports.pipeline import Period
from sales.models import CurrencyRate
from sales.tests.factories import OpportunityFactory, PipelineFactory, stage

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]

INK = """(id) => {
  const canvas = document.getElementById(id);
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let inked = 0;
  for (let i = 3; i < pixels.length; i += 4) { if (pixels[i] > 0) { inked += 1; } }
  return inked;
}"""
BAR = """([id, index]) => {
  const chart = Chart.getChart(id);
  const bar = chart.getDatasetMeta(0).data[index];
  const box = chart.canvas.getBoundingClientRect();
  return {x: box.left + bar.x, y: box.top + (bar.y + bar.base) / 2};
}"""


def test_executive_reads_the_dashboard_and_clicks_a_bar(page, executive, owner, outsider, team):
    CurrencyRate.objects.create(currency="RUB", rate=Decimal("0.0105"))
    pipeline = PipelineFactory(name="Новые продажи")
    quarter = Period.containing("quarter", timezone.localdate())
    proposal, negotiation = stage(pipeline, "Proposal"), stage(pipeline, "Negotiation")
    OpportunityFactory(owner=owner, pipeline=pipeline, stage=proposal, amount=Decimal("2000000.00"), currency="RUB",
                       expected_close_date=quarter.start, name="Поставка станков")
    OpportunityFactory(owner=outsider, pipeline=pipeline, stage=negotiation, amount=Decimal("5000.00"),
                       expected_close_date=quarter.start, name="Berlin rollout")
    OpportunityFactory(owner=owner, pipeline=pipeline, stage=stage(pipeline, "Won"), amount=Decimal("7000.00"),
                       closed_at=timezone.now() - datetime.timedelta(minutes=5), name="Signed deal")

    sign_in(page, executive)
    page.get_by_role("link", name="Reports").click()
    expect(page.get_by_role("heading", name="Pipeline dashboard")).to_be_visible()
    expect(page.locator("#dashboard-period")).to_have_text(quarter.label)
    expect(page.locator('[data-figure="open"] .figure-value')).to_have_text("26,000.00")
    expect(page.locator('[data-figure="won"] .figure-value')).to_have_text("7,000.00")
    expect(page.locator("#currency-note")).to_contain_text("1 RUB = 0.0105 EUR")
    for chart in ("pipeline-by-stage", "pipeline-by-month"):
        expect(page.locator(f"#{chart}")).to_be_visible()
        assert page.evaluate(INK, chart) > 500, f"{chart} was not drawn"
    table = page.locator("#pipeline-by-stage-table")
    expect(table.get_by_role("row", name="Proposal")).to_contain_text("21,000.00")

    # A click on the Proposal bar opens exactly the deals behind it.
    page.locator("#pipeline-by-stage").scroll_into_view_if_needed()
    position = page.evaluate(BAR, ["pipeline-by-stage", 2])
    page.mouse.click(position["x"], position["y"])
    page.wait_for_url(f"**/sales/opportunities/?*stage={proposal.pk}*")
    rows = page.locator("#opportunity-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Поставка станков")
    assert page.console_errors == [] and page.failed_requests == []

    # Filters and the period go into the URL, and the figures follow.
    page.go_back()
    page.get_by_label("Owner").select_option(str(owner.pk))
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(f"**/reports/?*owner={owner.pk}*")
    expect(page.locator('[data-figure="open"] .figure-value')).to_have_text("21,000.00")
    page.get_by_label("Previous period").click()
    expect(page.locator("#dashboard-period")).to_have_text(quarter.previous().label)
    assert f"owner={owner.pk}" in page.url
    expect(page.locator('[data-figure="won"] .figure-value')).to_have_text("0.00")
    assert page.console_errors == [] and page.failed_requests == []


def test_a_rep_on_a_phone_reads_their_own_figures(page, owner, outsider):
    pipeline = PipelineFactory()
    quarter = Period.containing("quarter", timezone.localdate())
    OpportunityFactory(owner=owner, pipeline=pipeline, stage=stage(pipeline, "Proposal"), amount=Decimal("300.00"),
                       expected_close_date=quarter.start)
    OpportunityFactory(owner=outsider, pipeline=pipeline, stage=stage(pipeline, "Proposal"), amount=Decimal("9.00"),
                       expected_close_date=quarter.start)
    page.set_viewport_size({"width": 375, "height": 800})
    sign_in(page, owner)
    page.goto("/reports/")
    expect(page.locator('[data-figure="open"] .figure-value')).to_have_text("300.00")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 375
    page.locator('[data-figure="open"] .figure-value').click()
    expect(page.locator("#opportunity-table tbody tr")).to_have_count(1)
    assert page.console_errors == []


def test_executive_breaks_down_by_territory_and_opens_a_region(page, executive, owner, outsider):
    from accounts.tests.factories import AccountFactory
    from crm.models import Territory

    europe = Territory.objects.create(name="Europe")
    bavaria = Territory.objects.create(name="Бавария", parent=Territory.objects.create(name="Germany", parent=europe))
    pipeline = PipelineFactory(is_default=True)
    closed = timezone.now() - datetime.timedelta(minutes=5)
    for name, account, amount in (("Мюнхен", AccountFactory(owner=owner, territory=bavaria), "9000.00"),
                                  ("Elsewhere", AccountFactory(owner=outsider), "1000.00")):
        OpportunityFactory(owner=account.owner, account=account, pipeline=pipeline, stage=stage(pipeline, "Won"),
                           amount=Decimal(amount), closed_at=closed, probability=100, name=name)
    OpportunityFactory(owner=owner, pipeline=pipeline, stage=stage(pipeline, "Lost"), amount=Decimal("50.00"),
                       closed_at=closed, lost_reason="price", name="Too dear")

    sign_in(page, executive)
    page.goto("/reports/")
    page.get_by_role("link", name="Sales analysis").click()
    page.get_by_role("link", name="Territory").click()
    table = page.locator("#breakdown-table")
    expect(table.get_by_role("row", name="Europe")).to_contain_text("9,000.00")
    expect(table.get_by_role("row", name="Бавария")).to_contain_text("9,000.00")
    assert page.evaluate(INK, "breakdown-chart") > 500

    page.locator("#breakdown-chart").scroll_into_view_if_needed()
    position = page.evaluate(BAR, ["breakdown-chart", 0])  # Europe, the largest
    page.mouse.click(position["x"], position["y"])
    page.wait_for_url(f"**/sales/opportunities/?*territory={europe.pk}*")
    expect(page.locator("#opportunity-table tbody tr")).to_have_count(1)
    expect(page.locator("#opportunity-table tbody")).to_contain_text("Мюнхен")

    page.go_back()
    page.locator("#reasons-table").get_by_role("row", name="Price").get_by_role("link").first.click()
    expect(page.locator("#opportunity-table tbody tr")).to_have_count(1)
    expect(page.locator("#opportunity-table tbody")).to_contain_text("Too dear")

    page.go_back()  # the funnel: the new deals, and the two won among them
    expect(page.locator("#funnel-entered")).to_contain_text("3 deals entered the pipeline")
    assert page.evaluate(INK, "funnel-chart") > 500
    page.locator("#funnel-table").get_by_role("row", name="Won").get_by_role("link").click()
    expect(page.locator("#opportunity-table tbody tr")).to_have_count(2)
    assert page.console_errors == [] and page.failed_requests == []


def test_manager_subscribes_to_the_dashboard_and_gets_it_by_email(page, manager, owner, team):
    from django.core import mail

    from crm import scheduler
    from reports.models import ReportSubscription

    pipeline = PipelineFactory()
    OpportunityFactory(owner=owner, pipeline=pipeline, stage=stage(pipeline, "Won"), amount=Decimal("4200.00"),
                       closed_at=timezone.now() - datetime.timedelta(minutes=5), probability=100)
    sign_in(page, manager)
    page.goto(f"/reports/?period=month&owner={owner.pk}")
    page.get_by_label("E-mail me this dashboard").select_option("daily")
    page.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_role("heading", name="Dashboards by e-mail")).to_be_visible()
    row = page.locator("#subscription-table tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Every day")
    expect(row).to_contain_text(f"Owner: {owner}")

    subscription = ReportSubscription.objects.get()
    assert subscription.query == f"period=month&owner={owner.pk}"
    scheduler.tick(now=subscription.next_run_at + datetime.timedelta(minutes=1))  # time moves to the next 07:00
    [message] = mail.outbox
    assert message.to == [manager.email] and "4,200.00" in message.body
    assert message.attachments[0][0].endswith(".csv")

    page.get_by_role("button", name="Stop").click()
    expect(page.locator(".empty-state")).to_contain_text("e-mailed to you")
    assert not ReportSubscription.objects.exists()
    assert page.console_errors == [] and page.failed_requests == []
