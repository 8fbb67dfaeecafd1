"""The report builder driven in the system Chromium: a sales manager builds a grouped report with a chart,
runs it, saves it, finds it in the saved reports, schedules it by e-mail, and the scheduler (time set by
the test) sends it with its attachment."""

import datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from conftest import sign_in
from crm import scheduler
from reports.models import ReportSubscription, SavedReport
from reports.tests.test_browser_dashboard import INK
from sales.models import CurrencyRate
from sales.tests.factories import OpportunityFactory, PipelineFactory, stage

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]


def test_build_run_save_and_schedule_a_report(page, live_server, manager, owner, outsider, settings):
    settings.DEFAULT_CURRENCY = "EUR"
    CurrencyRate.objects.create(currency="RUB", rate=Decimal("0.01"))
    pipeline = PipelineFactory(name="Новые продажи")
    OpportunityFactory(owner=owner, pipeline=pipeline, stage=stage(pipeline, "Proposal"), amount=Decimal("200000"),
                       currency="RUB", name="Поставка станков")
    OpportunityFactory(owner=manager, pipeline=pipeline, stage=stage(pipeline, "Proposal"), amount=Decimal("500"),
                       name="Сервис")
    OpportunityFactory(owner=owner, pipeline=pipeline, stage=stage(pipeline, "Negotiation"), amount=Decimal("3000"),
                       name="Лизинг")
    OpportunityFactory(owner=outsider, pipeline=pipeline, stage=stage(pipeline, "Negotiation"),
                       amount=Decimal("99999"), name="Чужая команда")

    sign_in(page, manager)
    page.goto(f"{live_server.url}/reports/")
    page.get_by_role("link", name="Report builder").click()
    page.wait_for_load_state("load")
    page.get_by_label("Report on").select_option(label="Deals")
    page.wait_for_url("**/reports/builder/?entity=deals")
    page.wait_for_load_state("load")
    page.get_by_label("Grouping 1", exact=True).select_option(label="Stage")
    page.get_by_label("Figures per group").select_option(["sum:amount"])
    page.get_by_label("Chart").select_option(label="Bar chart")
    page.get_by_role("button", name="Run report").click()
    page.wait_for_load_state("load")

    table = page.locator("#report-table")
    expect(table.get_by_role("row", name="Proposal")).to_contain_text("2,500.00")  # 200,000 RUB + 500 EUR
    expect(table.get_by_role("row", name="Negotiation")).to_contain_text("3,000.00")  # the other team's is not here
    expect(page.locator("#report-totals")).to_contain_text("5,500.00")
    expect(page.locator("#report-chart-canvas")).to_be_visible()
    assert page.evaluate(INK, "report-chart-canvas") > 500, "the chart was not drawn"

    page.get_by_label("Report name").fill("Воронка по этапам")
    page.get_by_label("Share with").select_option(label="North Team")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_load_state("load")
    expect(page.get_by_role("heading", name="Воронка по этапам")).to_be_visible()
    expect(page.locator("#report-table").get_by_role("row", name="Proposal")).to_contain_text("2,500.00")
    report = SavedReport.objects.get()
    assert (report.owner, report.team, report.entity) == (manager, manager.team, "deals")

    # A group opens the records it counts.
    page.locator("#report-table").get_by_role("link", name="Proposal").click()
    page.wait_for_load_state("load")
    listed = page.locator("#report-table tbody tr")
    expect(listed).to_have_count(2)
    expect(page.locator("#report-table")).to_contain_text("Поставка станков")
    page.go_back()
    page.wait_for_load_state("load")

    page.get_by_role("link", name="Saved reports").first.click()
    page.wait_for_load_state("load")
    page.get_by_label("Search reports").fill("воронка")
    page.get_by_role("button", name="Search").click()
    page.wait_for_load_state("load")
    page.locator("#saved-report-table").get_by_role("link", name="Воронка по этапам", exact=True).click()
    page.wait_for_load_state("load")
    assert page.evaluate(INK, "report-chart-canvas") > 500

    page.get_by_role("link", name="Schedule by e-mail").click()
    page.wait_for_load_state("load")
    expect(page.locator("#schedule-visibility-note")).to_contain_text("Every recipient gets what you may see")
    page.get_by_label("How often").select_option(label="Every week")
    page.get_by_label("On", exact=True).select_option(label="Friday")
    page.get_by_label("At", exact=True).fill("09:15")
    page.get_by_label("Send to").fill("cfo@example.com")
    page.get_by_label("Attach").select_option("xlsx")
    page.get_by_role("button", name="Schedule", exact=True).click()
    page.wait_for_load_state("load")
    expect(page.locator("#schedule-table")).to_contain_text("Every Friday at 09:15")

    schedule = ReportSubscription.objects.get(report=report)
    sending = schedule.next_run_at + datetime.timedelta(minutes=1)  # the scheduler's clock, set by the test
    assert sending > timezone.now()
    assert scheduler.tick(now=sending)["report_subscriptions"] == 1
    [message] = mail.outbox
    assert message.to == ["cfo@example.com"] and "Воронка по этапам" in message.subject
    [(name, _content, _mimetype)] = message.attachments
    assert name.endswith(".xlsx")

    page.reload()
    expect(page.locator("#run-table")).to_contain_text("Sent")
