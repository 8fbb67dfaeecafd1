"""The SLA clock of a ticket: due times, pauses, the stored figures, and the scheduler source that
marks tickets at risk and breached.

Every function takes `now`, so tests (and the demo) control time. Business time comes from the
policy's calendar (service/sla.py). The clock rules:
- first response: due `first_response_minutes` of business time after the ticket was opened; met by
  the first public reply from the desk;
- resolution: due `resolution_minutes` of business time after opening, not counting the time the
  clock was stopped (waiting for the customer, or resolved and then reopened);
- a clock is "at risk" once `at_risk_percent` of its target has passed, "breached" at its due time.

The tick (`check_sla`) picks tickets whose `sla_next_at` has come and marks each event with a
compare-and-set UPDATE (`… SET resolution_breached_at = now WHERE resolution_breached_at IS NULL
AND resolution_due = <the due time read>`) in the same transaction as its notifications: of two
ticks running at once only one UPDATE matches, and a worker that dies mid-way rolls both back, so
each notification is created exactly once.
"""

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy, gettext_noop

from crm import notifications, scheduler
from crm.models import Notification, NotificationKind, User
from service.models import (
    CLOCK_STOPPED,
    EscalationRule,
    EscalationTarget,
    SlaPolicy,
    SlaState,
    Ticket,
)
from service.routing import rank_for
from service.sla import Hours, add_business_seconds, business_seconds_between

logger = logging.getLogger(__name__)

BATCH = 500
CLOCKS = ("first_response", "resolution")


def hours_of(policy: SlaPolicy) -> Hours:
    return policy.calendar.hours()


def start(ticket: Ticket, now: datetime) -> None:
    """Sets the due times of a new ticket (or of one whose policy changed) from its opening."""
    policy = ticket.sla_policy
    if policy is None:
        _clear(ticket)
        return
    hours = hours_of(policy)
    opened = ticket.created_at
    share = policy.at_risk_percent / 100
    first, resolution = policy.first_response_minutes * 60, policy.resolution_minutes * 60
    ticket.first_response_due = add_business_seconds(hours, opened, first)
    ticket.first_response_risk_at = add_business_seconds(hours, opened, first * share)
    if ticket.clock_stopped_at is not None:  # re-planned while stopped: keep what is left
        spent = business_seconds_between(hours, opened, ticket.clock_stopped_at) - ticket.paused_seconds
        ticket.resolution_left_seconds = max(0.0, resolution - spent)
        ticket.resolution_due = ticket.resolution_risk_at = None
    else:
        ticket.resolution_due = add_business_seconds(hours, opened, resolution + ticket.paused_seconds)
        ticket.resolution_risk_at = add_business_seconds(hours, opened, resolution * share + ticket.paused_seconds)
    for clock in CLOCKS:  # a warning for a due time that moved later is no longer true; a breach stays a fact
        due = getattr(ticket, f"{clock}_due")
        if getattr(ticket, f"{clock}_breached_at") is None and (due is None or due > now):
            setattr(ticket, f"{clock}_at_risk_at", None)
    refresh(ticket, now)


def _clear(ticket: Ticket) -> None:
    for name in ("first_response_due", "first_response_risk_at", "resolution_due", "resolution_risk_at",
                 "resolution_left_seconds", "sla_next_at"):
        setattr(ticket, name, None)
    ticket.sla_state = SlaState.OK


def status_changed(ticket: Ticket, old_status: str, now: datetime) -> None:
    """Stops or restarts the resolution clock as the status enters or leaves a stopped state, and
    stores the resolution figures."""
    was_stopped, is_stopped = old_status in CLOCK_STOPPED, ticket.status in CLOCK_STOPPED
    policy = ticket.sla_policy
    if is_stopped and not was_stopped:
        ticket.clock_stopped_at = now
        if policy is not None and ticket.resolution_due is not None:
            ticket.resolution_left_seconds = business_seconds_between(hours_of(policy), now, ticket.resolution_due)
            ticket.resolution_due = ticket.resolution_risk_at = None
    elif was_stopped and not is_stopped and ticket.clock_stopped_at is not None:
        if policy is not None:
            hours = hours_of(policy)
            ticket.paused_seconds += business_seconds_between(hours, ticket.clock_stopped_at, now)
            left = ticket.resolution_left_seconds or 0.0
            ticket.resolution_due = add_business_seconds(hours, now, left)
            after_risk = policy.resolution_minutes * 60 * (1 - policy.at_risk_percent / 100)
            ticket.resolution_risk_at = add_business_seconds(hours, now, max(0.0, left - after_risk))
        ticket.clock_stopped_at = None
        ticket.resolution_left_seconds = None
    refresh(ticket, now)


def record_first_response(ticket: Ticket, now: datetime) -> bool:
    """Stores the first response time (business minutes); False when there already was one."""
    if ticket.first_responded_at is not None:
        return False
    ticket.first_responded_at = now
    if ticket.sla_policy is not None:
        seconds = business_seconds_between(hours_of(ticket.sla_policy), ticket.created_at, now)
    else:
        seconds = (now - ticket.created_at).total_seconds()
    ticket.first_response_minutes = int(seconds // 60)
    refresh(ticket, now)
    return True


def record_resolution(ticket: Ticket, now: datetime) -> None:
    ticket.resolved_at = now
    if ticket.sla_policy is not None:
        seconds = business_seconds_between(hours_of(ticket.sla_policy), ticket.created_at, now) - ticket.paused_seconds
    else:
        seconds = (now - ticket.created_at).total_seconds()
    ticket.resolution_minutes = max(0, int(seconds // 60))
    ticket.sla_met = None if ticket.sla_policy is None else (
        ticket.first_response_breached_at is None and ticket.resolution_breached_at is None)


def _pending_checks(ticket: Ticket) -> list[tuple[str, str, datetime]]:
    """(clock, event, moment) of the SLA events still to come."""
    checks = []
    if ticket.first_responded_at is None and ticket.first_response_due is not None:
        if ticket.first_response_at_risk_at is None and ticket.first_response_breached_at is None:
            checks.append(("first_response", "at_risk", ticket.first_response_risk_at))
        if ticket.first_response_breached_at is None:
            checks.append(("first_response", "breached", ticket.first_response_due))
    if ticket.clock_running and ticket.resolution_due is not None:
        if ticket.resolution_at_risk_at is None and ticket.resolution_breached_at is None:
            checks.append(("resolution", "at_risk", ticket.resolution_risk_at))
        if ticket.resolution_breached_at is None:
            checks.append(("resolution", "breached", ticket.resolution_due))
    return [(clock, event, moment) for clock, event, moment in checks if moment is not None]


def refresh(ticket: Ticket, now: datetime) -> None:
    """Recomputes `sla_next_at` (when the tick must look again) and `sla_state`."""
    checks = _pending_checks(ticket)
    ticket.sla_next_at = min((moment for _clock, _event, moment in checks), default=None)
    if ticket.first_response_breached_at or ticket.resolution_breached_at:
        ticket.sla_state = SlaState.BREACHED
    elif ((ticket.first_response_at_risk_at and ticket.first_responded_at is None)
          or (ticket.resolution_at_risk_at and ticket.clock_running)):
        ticket.sla_state = SlaState.AT_RISK
    else:
        ticket.sla_state = SlaState.OK


SLA_FIELDS = ["first_response_due", "first_response_risk_at", "resolution_due", "resolution_risk_at",
              "resolution_left_seconds", "clock_stopped_at", "paused_seconds", "sla_next_at", "sla_state",
              "first_response_at_risk_at", "first_response_breached_at", "resolution_at_risk_at",
              "resolution_breached_at", "first_responded_at", "first_response_minutes", "resolved_at",
              "resolution_minutes", "sla_met"]


# --- The tick -----------------------------------------------------------------------------------


@scheduler.source("service_sla")
def check_sla(now: datetime) -> int:
    """Marks due SLA events; returns how many events this run marked."""
    due = (Ticket.objects.filter(sla_next_at__lte=now, deleted_at__isnull=True)
           .order_by("sla_next_at", "id").values_list("pk", flat=True)[:BATCH])
    return sum(sla_events_fire(ticket_id=pk, now=now) for pk in list(due))


def sla_events_fire(*, ticket_id: int, now: datetime) -> int:
    ticket = Ticket.objects.select_related("queue__lead", "sla_policy", "owner").filter(pk=ticket_id).first()
    return 0 if ticket is None else events_fire(ticket, now)


@transaction.atomic
def events_fire(ticket: Ticket, now: datetime) -> int:
    """Marks every SLA event of the ticket that has come, each with its notifications, exactly once: the
    ticket may have been read before another tick marked them (the compare-and-set refuses those)."""
    fired = 0
    priority = ticket.priority
    due = [(clock, event, moment) for clock, event, moment in _pending_checks(ticket) if moment <= now]
    breached = {clock for clock, event, _moment in due if event == "breached"}
    for clock, event, moment in due:
        if event == "at_risk" and clock in breached:
            continue  # a late tick: the breach says it all (and marks the warning with it)
        flag, warning = f"{clock}_{event}_at", f"{clock}_at_risk_at"
        changes = {flag: now}
        if event == "breached":  # breached without a warning (the tick was late): the warning is implied
            changes[warning] = Coalesce(F(warning), Value(now))
        claimed = Ticket.objects.filter(
            pk=ticket.pk, **{f"{flag}__isnull": True, f"{clock}_due": getattr(ticket, f"{clock}_due")},
        ).update(**changes)
        if not claimed:
            continue  # another tick marked it first
        setattr(ticket, flag, now)
        if event == "breached" and getattr(ticket, warning) is None:
            setattr(ticket, warning, now)
        _escalate(ticket, clock, event, moment)
        fired += 1
    if fired or (ticket.sla_next_at is not None and ticket.sla_next_at <= now):
        # The state is worked out from the row as it is now (another tick may have marked an event
        # since this one read it), under its lock.
        fresh = Ticket.objects.select_for_update(of=("self",)).select_related("account").get(pk=ticket.pk)
        refresh(fresh, now)
        changes = {"sla_next_at": fresh.sla_next_at, "sla_state": fresh.sla_state}
        if ticket.priority < min(priority, fresh.priority):  # an escalation rule raised it
            fresh.priority = ticket.priority
            changes.update(priority=fresh.priority, queue_rank=rank_for(fresh))
        Ticket.objects.filter(pk=ticket.pk).update(**changes)
    return fired


def _escalate(ticket: Ticket, clock: str, event: str, due: datetime) -> None:
    """The assignee (or, with none, the queue lead) is told; the escalation rules add people and may
    raise the priority (on `ticket`; events_fire stores it)."""
    recipients: dict[int, User] = {}
    if ticket.owner is not None:
        recipients[ticket.owner.pk] = ticket.owner
    elif ticket.queue is not None and ticket.queue.lead is not None:
        recipients[ticket.queue.lead.pk] = ticket.queue.lead
    rules = EscalationRule.objects.filter(Q(policy__isnull=True) | Q(policy_id=ticket.sla_policy_id),
                                          event=event).select_related("user")
    for rule in rules:
        person = rule.user if rule.notify == EscalationTarget.USER else (ticket.queue.lead if ticket.queue else None)
        if person is not None:
            recipients[person.pk] = person
        if rule.raise_priority_to and rule.raise_priority_to < ticket.priority:
            ticket.priority = rule.raise_priority_to
    notes = []
    for user in recipients.values():
        if not user.is_active:
            continue
        notes.append(notifications.build(
            user=user, kind=NotificationKind.ALERT, url=ticket.get_absolute_url(),
            message=SLA_AT_RISK if event == "at_risk" else SLA_BREACHED,
            params={"number": ticket.number, "subject": ticket.subject, "what": notifications.phrase(
                CLOCK_NAMES[clock])},
            key=f"sla:{ticket.pk}:{clock}:{event}:{due:%Y%m%d%H%M%S}:{user.pk}"))
    Notification.objects.bulk_create(notes, ignore_conflicts=True)


CLOCK_NAMES = {"first_response": gettext_noop("first response"), "resolution": gettext_noop("resolution")}
SLA_AT_RISK = notifications.message(
    "sla.at_risk", gettext_lazy("SLA at risk: %(number)s “%(subject)s” — %(what)s is due soon."))
SLA_BREACHED = notifications.message(
    "sla.breached", gettext_lazy("SLA breached: %(number)s “%(subject)s” — %(what)s is overdue."))


def countdown_seconds(ticket: Ticket, now: datetime) -> dict[str, float | None]:
    """Real seconds until each running clock's due time (negative once overdue)."""
    def left(due):
        return None if due is None else (due - now) / timedelta(seconds=1)
    return {
        "first_response": left(ticket.first_response_due) if ticket.first_responded_at is None else None,
        "resolution": left(ticket.resolution_due) if ticket.clock_running else None,
    }
