"""The service dashboard driven as a support lead would, in the system Chromium: the chart is drawn, a click on a
bar opens exactly the tickets it counts, the breakdown and the period live in the URL."""

import pytest
from playwright.sync_api import expect

from conftest import sign_in
from crm.models import Role
from crm.tests.factories import UserFactory
from reports.tests.test_browser_dashboard import BAR, INK
from service.models import Category, Channel, Ticket

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]


def test_support_lead_reads_the_desk_and_opens_a_channels_tickets(page):
    lead = UserFactory(role=Role.SUPPORT_LEAD)
    for number in range(3):
        Ticket.objects.create(number=f"T-{number}", subject=f"Звонок {number}", channel=Channel.PHONE,
                              category=Category.INCIDENT)
    Ticket.objects.create(number="T-9", subject="Письмо", channel=Channel.EMAIL, category=Category.QUESTION)
    sign_in(page, lead)
    page.goto("/reports/builder/")
    page.get_by_role("link", name="Service", exact=True).click()
    expect(page.get_by_role("heading", name="Service", exact=True)).to_be_visible()
    phone = page.locator('#service-table tr[data-row="phone"]')
    expect(phone.locator("td").nth(0)).to_have_text("3")
    assert page.evaluate(INK, "service-chart") > 500, "the chart was not drawn"
    position = page.evaluate(BAR, ["service-chart", 0])
    page.mouse.click(position["x"], position["y"])
    page.wait_for_url("**/service/tickets/?*channel=phone*")
    expect(page.locator("#ticket-table tbody tr")).to_have_count(3)
    assert page.console_errors == [] and page.failed_requests == []

    page.go_back()
    page.get_by_role("link", name="Category").click()
    page.wait_for_url("**/reports/service/?*by=category*")
    expect(page.locator('#service-table tr[data-row="incident"] td').first).to_have_text("3")
    assert page.console_errors == [] and page.failed_requests == []


def test_support_lead_has_the_service_dashboard_emailed_with_its_file(page):
    import datetime

    from django.core import mail

    from crm import scheduler
    from reports.models import ReportSubscription

    lead = UserFactory(role=Role.SUPPORT_LEAD)
    for number in range(2):
        Ticket.objects.create(number=f"T-{number}", subject=f"Жалоба {number}", channel=Channel.EMAIL,
                              category=Category.COMPLAINT)
    sign_in(page, lead)
    page.goto("/reports/service/?period=month&by=category")
    expect(page.locator("#figure-complaints")).to_have_text("2")
    page.get_by_label("E-mail me this dashboard").select_option("daily")
    page.get_by_label("With a file").select_option("csv")
    page.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_role("heading", name="Dashboards by e-mail")).to_be_visible()
    row = page.locator("#subscription-table tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Service")
    expect(row).to_contain_text("By: Category")

    subscription = ReportSubscription.objects.get()
    assert (subscription.dashboard, subscription.query) == ("service", "period=month&by=category")
    scheduler.tick(now=subscription.next_run_at + datetime.timedelta(minutes=1))  # time moves to the next 07:00
    scheduler.tick(now=subscription.next_run_at + datetime.timedelta(minutes=2))  # the same slot: nothing more
    [message] = mail.outbox
    assert message.to == [lead.email] and message.subject.startswith("Service, ")
    [(name, content, mimetype)] = message.attachments
    assert name.startswith("service-") and name.endswith(".csv") and mimetype == "text/csv"
    assert "Complaint,2," in content  # the category row of the tickets table

    page.get_by_role("button", name="Stop", exact=True).click()  # a name like "Christopher" holds "stop"
    expect(page.locator(".empty-state")).to_contain_text("e-mailed to you")
    assert not ReportSubscription.objects.exists()
    assert page.console_errors == [] and page.failed_requests == []
