"""The SLA clock on tickets: due times from the policy's calendar, pauses, stored figures, and the
tick that marks "at risk" and "breached" exactly once with its notifications and escalations."""

import threading
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from accounts.tests.factories import AccountFactory
from contacts.tests.factories import ContactFactory
from crm.models import Notification, NotificationKind
from service import services, sla_clock
from service.models import EscalationEvent, EscalationRule, EscalationTarget, Priority, SlaState, Status, Ticket
from service.tests.factories import CalendarFactory, PolicyFactory, QueueFactory, agent

LONDON = ZoneInfo("Europe/London")
MONDAY_10 = datetime(2026, 12, 7, 10, 0, tzinfo=LONDON)


@pytest.fixture
def desk(db):
    calendar = CalendarFactory(opens_at=time(9), closes_at=time(17))
    policy = PolicyFactory(priority=Priority.NORMAL, first_response_minutes=60, resolution_minutes=480,
                           calendar=calendar)
    lead, worker = agent(email="lead@example.com"), agent(email="worker@example.com")
    queue = QueueFactory(lead=lead, is_default=True)
    queue.members.set([worker])
    return {"calendar": calendar, "policy": policy, "lead": lead, "agent": worker, "queue": queue}


def open_ticket(desk, *, when=MONDAY_10, **fields):
    contact = ContactFactory(emails=["olga@example.ru"], first_name="Ольга")
    fields.setdefault("owner", desk["agent"])
    return services.ticket_create(actor=desk["agent"], subject="Принтер не печатает", contact=contact, now=when,
                                  **fields)


def alerts(user=None):
    rows = Notification.objects.filter(kind=NotificationKind.ALERT)
    return rows.filter(user=user) if user else rows


def test_due_times_count_business_hours(desk):
    ticket = open_ticket(desk, when=datetime(2026, 12, 4, 16, 30, tzinfo=LONDON))  # Friday 16:30
    assert ticket.sla_policy == desk["policy"]
    assert ticket.first_response_due == datetime(2026, 12, 7, 9, 30, tzinfo=LONDON)
    # 8 business hours: 30 min on Friday, then 7 h 30 min of Monday.
    assert ticket.resolution_due == datetime(2026, 12, 7, 16, 30, tzinfo=LONDON)
    assert ticket.first_response_risk_at == datetime(2026, 12, 7, 9, 18, tzinfo=LONDON)  # 80 % of 60 min


def test_tick_marks_at_risk_then_breached_once_each(desk):
    ticket = open_ticket(desk)
    assert sla_clock.check_sla(MONDAY_10 + timedelta(minutes=47)) == 0
    assert sla_clock.check_sla(MONDAY_10 + timedelta(minutes=48)) == 1
    ticket.refresh_from_db()
    assert ticket.sla_state == SlaState.AT_RISK and ticket.first_response_at_risk_at is not None
    assert alerts(desk["agent"]).count() == 1
    assert sla_clock.check_sla(MONDAY_10 + timedelta(minutes=50)) == 0  # nothing new: nobody hears twice
    assert sla_clock.check_sla(MONDAY_10 + timedelta(minutes=61)) == 1
    ticket.refresh_from_db()
    assert ticket.sla_state == SlaState.BREACHED and ticket.first_response_breached_at is not None
    assert alerts(desk["agent"]).count() == 2
    assert "SLA breached" in alerts(desk["agent"]).first().text


def test_a_late_tick_breaches_and_implies_the_warning(desk):
    ticket = open_ticket(desk)
    assert sla_clock.check_sla(MONDAY_10 + timedelta(hours=3)) == 1  # first response: breached directly
    ticket.refresh_from_db()
    assert ticket.first_response_at_risk_at is not None and ticket.first_response_breached_at is not None


def test_escalation_rules_tell_the_queue_lead_and_raise_priority(desk):
    EscalationRule.objects.create(event=EscalationEvent.BREACHED, notify=EscalationTarget.QUEUE_LEAD,
                                  raise_priority_to=Priority.HIGH)
    ticket = open_ticket(desk)
    sla_clock.check_sla(MONDAY_10 + timedelta(minutes=48))  # at risk: only the assignee
    assert alerts(desk["lead"]).count() == 0
    sla_clock.check_sla(MONDAY_10 + timedelta(minutes=61))
    assert alerts(desk["lead"]).count() == 1
    ticket.refresh_from_db()
    assert ticket.priority == Priority.HIGH
    assert ticket.queue_rank == 4


def test_an_unassigned_ticket_warns_the_queue_lead(desk):
    open_ticket(desk, owner=None)
    sla_clock.check_sla(MONDAY_10 + timedelta(minutes=48))
    assert alerts(desk["lead"]).count() == 1


def test_a_stale_second_tick_marks_nothing(desk):
    """Two ticks read the same ticket; the compare-and-set lets only the first mark the event."""
    ticket = open_ticket(desk)
    now = MONDAY_10 + timedelta(minutes=48)
    first, second = Ticket.objects.get(pk=ticket.pk), Ticket.objects.get(pk=ticket.pk)
    assert sla_clock.events_fire(first, now) == 1
    assert sla_clock.events_fire(second, now) == 0
    assert alerts().count() == 1


@pytest.mark.django_db(transaction=True)
def test_overlapping_ticks_notify_once(desk):
    ticket = open_ticket(desk)
    now = MONDAY_10 + timedelta(minutes=61)
    barrier, results = threading.Barrier(4), []

    def run():
        barrier.wait()
        try:
            results.append(sla_clock.check_sla(now))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(results) == 1  # "breached" (with the warning implied), marked by exactly one of the four ticks
    assert alerts(desk["agent"]).count() == 1
    assert Ticket.objects.get(pk=ticket.pk).sla_state == SlaState.BREACHED


def test_waiting_for_the_customer_stops_the_resolution_clock(desk):
    ticket = open_ticket(desk)
    services.ticket_reply(ticket=ticket, actor=desk["agent"], body="Какая модель?", now=MONDAY_10 + timedelta(hours=1))
    ticket.refresh_from_db()
    assert ticket.status == Status.PENDING and ticket.resolution_due is None
    assert ticket.resolution_left_seconds == 7 * 3600
    assert sla_clock.check_sla(MONDAY_10 + timedelta(days=3)) == 0  # no breach while we wait
    # The customer answers on Tuesday 15:00: 7 business hours are left from then.
    services.ticket_customer_message(ticket=ticket, body="HP LaserJet", now=datetime(2026, 12, 8, 15, tzinfo=LONDON))
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    assert ticket.resolution_due == datetime(2026, 12, 9, 14, tzinfo=LONDON)
    services.ticket_set_status(ticket=ticket, actor=desk["agent"], status=Status.RESOLVED,
                               now=datetime(2026, 12, 9, 10, tzinfo=LONDON))
    ticket.refresh_from_db()
    # Opened Mon 10:00, resolved Wed 10:00: 16 business hours, 12 of them spent waiting (Mon 11–17, Tue 9–15).
    assert ticket.resolution_minutes == (16 - 12) * 60
    assert ticket.first_response_minutes == 60
    assert ticket.sla_met is True


def test_the_first_response_is_the_first_public_reply(desk):
    ticket = open_ticket(desk)
    services.ticket_reply(ticket=ticket, actor=desk["agent"], body="Внутренняя заметка", internal=True,
                          now=MONDAY_10 + timedelta(minutes=5))
    ticket.refresh_from_db()
    assert ticket.first_responded_at is None and ticket.status == Status.OPEN
    services.ticket_reply(ticket=ticket, actor=desk["agent"], body="Здравствуйте!", status=Status.OPEN,
                          now=MONDAY_10 + timedelta(minutes=20))
    ticket.refresh_from_db()
    assert ticket.first_response_minutes == 20
    assert sla_clock.check_sla(MONDAY_10 + timedelta(hours=2)) == 0  # answered in time: no first-response alert


def test_a_breached_ticket_resolved_late_counts_as_missed(desk):
    ticket = open_ticket(desk)
    sla_clock.check_sla(MONDAY_10 + timedelta(minutes=61))
    services.ticket_set_status(ticket=ticket, actor=desk["agent"], status=Status.RESOLVED,
                               now=MONDAY_10 + timedelta(hours=2))
    ticket.refresh_from_db()
    assert ticket.sla_met is False and ticket.sla_state == SlaState.BREACHED


def test_strategic_customers_get_their_own_policy(desk):
    strategic = PolicyFactory(priority=Priority.NORMAL, account_tier="strategic", first_response_minutes=15,
                              calendar=desk["calendar"])
    account = AccountFactory(tier="strategic")
    ticket = services.ticket_create(actor=desk["agent"], subject="VIP", account=account, now=MONDAY_10)
    assert ticket.sla_policy == strategic
    assert ticket.first_response_due == MONDAY_10 + timedelta(minutes=15)


def test_a_new_priority_replans_from_the_opening(desk):
    urgent = PolicyFactory(priority=Priority.URGENT, first_response_minutes=15, resolution_minutes=120,
                           calendar=desk["calendar"])
    ticket = open_ticket(desk)
    ticket = services.ticket_update(ticket=ticket, actor=desk["agent"], priority=Priority.URGENT,
                                    now=MONDAY_10 + timedelta(minutes=5))
    assert ticket.sla_policy == urgent
    assert ticket.first_response_due == MONDAY_10 + timedelta(minutes=15)
    assert ticket.resolution_due == MONDAY_10 + timedelta(hours=2)
