"""The dashboards read from the figures the scheduler keeps, in the system Chromium: the sales team and service
dashboards say how fresh the figures are, show a figure the refresh picked up, and its number opens exactly the
records it counts; for readers in Moscow and New York too (the edges of their quarter counted live)."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from activities.models import Activity
from conftest import sign_in
from reports import aggregates
from reports.pipeline import Period
from service.models import Channel, Status, Ticket

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]


def read_and_follow(page, manager, owner, *, calls: int, executive, channel: str, tickets: int) -> None:
    """The manager reads the owner's calls on the team dashboard and follows the figure to the list; the
    executive does the same with the channel's tickets on the service dashboard. Both pages say how fresh."""
    sign_in(page, manager)
    page.goto("/reports/team/")
    expect(page.locator("[data-figures-as-of]")).to_contain_text("Figures as of")
    figure = page.locator(f'#activity-table tr[data-row="{owner.pk}"] [data-figure="calls"]')
    expect(figure).to_have_text(str(calls))
    figure.click()
    page.wait_for_url("**/activities/?*kind=call*")
    expect(page.locator("#activity-table tbody tr")).to_have_count(calls)
    assert page.console_errors == [] and page.failed_requests == []

    page.context.clear_cookies()
    sign_in(page, executive)
    page.goto("/reports/service/?by=channel")
    expect(page.locator("[data-figures-as-of]")).to_contain_text("Figures as of")
    figure = page.locator(f'#service-table tbody tr[data-row="{channel}"] td').first.locator("a")
    expect(figure).to_have_text(str(tickets))
    figure.click()
    page.wait_for_url(f"**/service/tickets/?*channel={channel}*")
    expect(page.locator("#ticket-table tbody tr")).to_have_count(tickets)
    assert page.console_errors == [] and page.failed_requests == []


def test_the_team_and_service_dashboards_read_the_kept_figures_and_drill_down(page, manager, owner, executive):
    now = timezone.now()
    aggregates.rebuild(aggregates.ACTIVITIES)
    aggregates.rebuild(aggregates.TICKETS)
    for number in range(3):  # after the rebuild: the refresh has to find them
        Activity.objects.create(kind="call", subject=f"Звонок {number}", owner=owner, team=owner.team,
                                occurred_at=now - datetime.timedelta(minutes=number + 1))
    for number in range(2):
        Ticket.objects.create(number=f"K-{number}", subject=f"Не печатает {number}", channel=Channel.EMAIL,
                              status=Status.OPEN, created_at=now - datetime.timedelta(minutes=number + 1))
    aggregates.refresh(aggregates.ACTIVITIES)
    aggregates.refresh(aggregates.TICKETS)

    read_and_follow(page, manager, owner, calls=3, executive=executive, channel="email", tickets=2)


def test_readers_in_moscow_and_new_york_read_the_kept_figures_with_the_edges_of_their_quarter(
        page, manager, owner, executive):
    """A call at 00:00 Moscow on the quarter's first day lies in the part of a UTC day the page counts live (21:00
    UTC the day before); one at 23:59 Moscow the day before is last quarter's. Likewise a ticket opened at 00:00
    New York on the quarter's first day (04:00 UTC) and one at 23:59 the day before."""
    with timezone.override("Europe/Moscow"):
        first = datetime.datetime.combine(Period.containing("quarter", timezone.localdate()).start,
                                          datetime.time.min, tzinfo=timezone.get_current_timezone())
    for number, moment in enumerate((first, first - datetime.timedelta(minutes=1), first + datetime.timedelta(days=3))):
        Activity.objects.create(kind="call", subject=f"Звонок {number}", owner=owner, team=owner.team,
                                occurred_at=moment)
    with timezone.override("America/New_York"):
        opened = datetime.datetime.combine(Period.containing("quarter", timezone.localdate()).start,
                                           datetime.time.min, tzinfo=timezone.get_current_timezone())
    for number, moment in enumerate((opened, opened - datetime.timedelta(minutes=1))):
        Ticket.objects.create(number=f"K-{number}", subject=f"Не печатает {number}", channel=Channel.PHONE,
                              status=Status.OPEN, created_at=moment)
    aggregates.rebuild(aggregates.ACTIVITIES)
    aggregates.rebuild(aggregates.TICKETS)
    manager.time_zone, executive.time_zone = "Europe/Moscow", "America/New_York"
    manager.save(update_fields=["time_zone"])
    executive.save(update_fields=["time_zone"])

    read_and_follow(page, manager, owner, calls=2, executive=executive, channel="phone", tickets=1)
