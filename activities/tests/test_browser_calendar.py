"""The calendar driven in the system Chromium: drag a meeting to another day and hour."""

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from activities.models import Activity
from conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]

WEEK = "/calendar/?view=week&date=2025-06-11&scope=mine"


def slot(page, date, hour):
    return page.locator(f'.cal-slot[data-date="{date}"][data-hour="{hour}"]')


def make_meeting(owner, subject, starts, minutes=60):
    return Activity.objects.create(
        owner=owner, team=owner.team, kind="meeting", subject=subject,
        occurred_at=starts, ends_at=starts + timedelta(minutes=minutes),
    )


def test_drag_a_meeting_to_another_day_in_the_week_view(page, owner):
    demo = make_meeting(owner, "Quarterly review", datetime(2025, 6, 9, 10, 30, tzinfo=UTC), minutes=90)
    sign_in(page, owner)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Calendar").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Calendar")
    page.goto(WEEK)
    item = page.get_by_role("link", name="Quarterly review")
    expect(slot(page, "2025-06-09", 10).get_by_role("link", name="Quarterly review")).to_be_visible()

    item.drag_to(slot(page, "2025-06-12", 14))

    expect(page.locator(".toast.text-bg-success")).to_contain_text("Quarterly review")
    expect(slot(page, "2025-06-12", 14).get_by_role("link", name="Quarterly review")).to_contain_text("14:30")
    page.reload()
    moved = slot(page, "2025-06-12", 14).get_by_role("link", name="Quarterly review")
    expect(moved).to_contain_text("14:30")
    expect(moved).to_contain_text("–16:00")
    expect(slot(page, "2025-06-09", 10).locator(".cal-item")).to_have_count(0)
    demo.refresh_from_db()
    assert demo.occurred_at == datetime(2025, 6, 12, 14, 30, tzinfo=UTC)
    assert demo.ends_at == datetime(2025, 6, 12, 16, 0, tzinfo=UTC)
    assert page.console_errors == [], page.failed_requests  # no CSP violation, no script error


def test_drag_in_the_month_view_keeps_the_time_of_day(page, owner):
    owner.time_zone = "Europe/London"
    owner.save(update_fields=["time_zone"])
    demo = make_meeting(owner, "Site visit", datetime(2025, 6, 9, 8, 0, tzinfo=UTC))  # 09:00 BST
    sign_in(page, owner)
    page.goto("/calendar/?view=month&date=2025-06-01")

    page.get_by_role("link", name="Site visit").drag_to(page.locator('.cal-cell[data-date="2025-06-20"]'))

    expect(page.locator(".toast.text-bg-success")).to_be_visible()
    page.reload()
    expect(page.locator('.cal-cell[data-date="2025-06-20"]').get_by_role("link", name="Site visit")).to_be_visible()
    demo.refresh_from_db()
    assert demo.occurred_at == datetime(2025, 6, 20, 8, 0, tzinfo=UTC)


def test_a_failed_move_puts_the_item_back_and_says_why(page, owner):
    demo = make_meeting(owner, "Vanishing meeting", datetime(2025, 6, 10, 9, 0, tzinfo=UTC))
    sign_in(page, owner)
    page.goto(WEEK)
    Activity.objects.filter(pk=demo.pk).update(deleted_at=datetime.now(tz=UTC))  # gone meanwhile

    page.get_by_role("link", name="Vanishing meeting").drag_to(slot(page, "2025-06-13", 9))

    expect(page.locator(".toast.text-bg-danger")).to_contain_text("no longer exists")
    expect(slot(page, "2025-06-10", 9).get_by_role("link", name="Vanishing meeting")).to_be_visible()
    expect(slot(page, "2025-06-13", 9).locator(".cal-item")).to_have_count(0)


def test_keyboard_user_moves_a_meeting_with_alt_and_arrows(page, owner):
    demo = make_meeting(owner, "Keyboard meeting", datetime(2025, 6, 10, 9, 0, tzinfo=UTC))
    sign_in(page, owner)
    page.goto(WEEK)
    item = page.get_by_role("link", name="Keyboard meeting")
    item.focus()
    item.press("Alt+ArrowRight")
    expect(page.locator(".toast.text-bg-success")).to_be_visible()
    expect(slot(page, "2025-06-11", 9).get_by_role("link", name="Keyboard meeting")).to_be_visible()
    demo.refresh_from_db()
    assert demo.occurred_at == datetime(2025, 6, 11, 9, 0, tzinfo=UTC)


def test_calendar_on_a_phone(page, owner):
    make_meeting(owner, "Phone-sized meeting", datetime(2025, 6, 10, 9, 0, tzinfo=UTC))
    page.set_viewport_size({"width": 375, "height": 740})
    sign_in(page, owner)
    for view in ("day&date=2025-06-10", "week&date=2025-06-10", "month&date=2025-06-10"):
        page.goto(f"/calendar/?view={view}")
        expect(page.get_by_role("link", name="Phone-sized meeting")).to_be_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"the {view} calendar scrolls sideways on a phone"
    assert page.console_errors == [], page.failed_requests


def test_a_week_on_a_phone_lists_only_the_days_with_something(page, owner):
    """At 375 px the week is an agenda: "Nothing planned." does not repeat for every empty day, and an
    empty week says so once."""
    make_meeting(owner, "Встреча с клиентом", datetime(2025, 6, 11, 9, 0, tzinfo=UTC))
    page.set_viewport_size({"width": 375, "height": 740})
    sign_in(page, owner)
    page.goto("/calendar/?view=week&date=2025-06-10")
    expect(page.get_by_role("link", name="Встреча с клиентом")).to_be_visible()
    days = [day for day in page.locator(".cal-day").all() if day.is_visible()]
    assert len(days) == 1, "only Wednesday, the day with a meeting"
    expect(page.get_by_text("Nothing planned.", exact=True).first).to_be_hidden()
    expect(page.locator("#week-empty")).to_have_count(0)

    page.goto("/calendar/?view=week&date=2025-07-14")
    expect(page.locator("#week-empty")).to_be_visible()
    expect(page.locator("#week-empty")).to_have_text("Nothing planned this week.")
    assert not [day for day in page.locator(".cal-day").all() if day.is_visible()]

    page.set_viewport_size({"width": 1366, "height": 900})  # the desktop grid keeps all seven days
    expect(page.locator("#week-empty")).to_be_hidden()
    assert len([day for day in page.locator(".cal-day").all() if day.is_visible()]) == 7


def test_regenerate_the_subscription_link(page, owner):
    sign_in(page, owner)
    page.goto("/calendar/?view=month&date=2025-06-01")
    page.get_by_role("link", name="Subscribe").click()  # the address lives on the profile
    page.wait_for_url("**/profile/#subscribe")
    old_address = page.get_by_label("Your private calendar address").input_value()
    assert old_address.endswith(f"/calendar/feed/{owner.calendar_token}.ics")
    assert page.request.get(old_address).status == 200

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Regenerate link").click()

    expect(page.locator(".toast")).to_contain_text("new subscription link")
    new_address = page.get_by_label("Your private calendar address").input_value()
    assert new_address != old_address
    assert page.request.get(old_address).status == 404
    assert page.request.get(new_address).status == 200
