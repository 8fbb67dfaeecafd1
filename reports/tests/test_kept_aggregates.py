"""The figures the scheduler keeps (reports/aggregates.py): after creating, completing, moving, handing over and
deleting activities and tickets and a refresh, every figure each role sees on the sales team and service
dashboards equals plain queries over the same data; a change in an old day is picked up by the incremental
refresh; readers in UTC, Europe/Moscow and America/New_York get the whole summary days from the tables and the
parts of a day at the period's ends counted live, equal to plain queries (activities and tickets at 23:59 and 00:00
local at both ends); the page says how fresh the figures are; the scheduler keeps them; a constant number of
queries (for a reader in Moscow: the edges counted live)."""

import datetime
import random
import re
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import AccountFactory
from activities.models import Activity, ActivityKind, TaskStatus
from crm import scheduler
from crm.models import Role
from crm.tests.factories import UserFactory
from reports import aggregates, service_figures, team
from reports.models import ActivityDay, AggregateState, DoneTask, TicketDay
from reports.pipeline import Filters, Period
from reports.tests.data import at
from service.models import ACTIVE_STATUSES, Category, Channel, Status, Ticket
from service.tests.factories import QueueFactory

LINK = re.compile(r'href="([^"]+)" data-figure="(\w+)" data-count="(\d+)"')


@pytest.fixture
def quarter():
    return Period.containing("quarter", timezone.localdate())


def _when(generator, quarter) -> datetime.datetime:
    """A moment in the previous, this or the next quarter, or in the last weeks."""
    if generator.random() < 0.3:
        return timezone.now() - datetime.timedelta(days=generator.randrange(40), hours=generator.randrange(24))
    first = quarter.previous().start
    return at(first + datetime.timedelta(days=generator.randrange((quarter.next().end - first).days)),
              generator.randrange(24))


def make_activities(people, quarter, seed=5, count=80) -> list[Activity]:
    generator = random.Random(seed)
    made = []
    for number in range(count):
        kind = generator.choice(ActivityKind.values)
        extra = {}
        if kind == ActivityKind.TASK:
            extra["status"] = generator.choice(TaskStatus.values)
            if extra["status"] == TaskStatus.DONE:
                extra["completed_at"] = _when(generator, quarter)
        owner = generator.choice(people)
        made.append(Activity.objects.create(
            kind=kind, subject=f"Звонок {number}", owner=owner, team=owner.team, occurred_at=_when(generator, quarter),
            shared_with_team=generator.random() < 0.2, **extra))
    return made


def plain_team_figures(user, person, quarter) -> tuple[int, int, int, int]:
    """Calls, meetings, tasks done and overdue of one person, as the reader may see them: plain queries."""
    first, after = quarter.bounds()
    seen = Activity.objects.visible_to(user).filter(owner=person)
    dated = seen.filter(occurred_at__gte=first, occurred_at__lt=after)
    return (dated.filter(kind="call").count(), dated.filter(kind="meeting").count(),
            seen.filter(kind="task", status="done", completed_at__gte=first, completed_at__lt=after).count(),
            seen.filter(kind="task", status="open", occurred_at__lt=timezone.now()).count())


def team_figures(user, quarter):
    dashboard = team.build(user, Filters(period=quarter), team.DEFAULT_IDLE_DAYS, [])
    return dashboard, {row.key: (row.calls, row.meetings, row.tasks_done, row.overdue)
                       for row in dashboard.rows if row.key}


def change_activities(made, owner, teammate, quarter) -> None:
    """Create, complete, move to another (old) day, hand over, soft-delete and delete."""
    long_ago = at(quarter.previous().start + datetime.timedelta(days=3), 10)
    Activity.objects.create(kind="call", subject="Новый звонок", owner=owner, team=owner.team,
                            occurred_at=at(quarter.start + datetime.timedelta(days=1), 9))
    task = next(a for a in made if a.kind == "task" and a.status == "open")
    task.status, task.completed_at = TaskStatus.DONE, at(quarter.start + datetime.timedelta(days=2), 15)
    task.save()
    moved = next(a for a in made if a.kind == "call" and a.pk != task.pk)
    moved.occurred_at = long_ago
    moved.save()
    handed = next(a for a in made if a.kind == "meeting" and a.owner_id == owner.pk)
    Activity.objects.filter(pk=handed.pk).update(owner=teammate, team=teammate.team)  # a bulk update, as a handover
    Activity.objects.filter(pk=made[-1].pk).update(deleted_at=timezone.now())
    Activity.objects.filter(pk=made[-2].pk).delete()


@pytest.mark.django_db
def test_team_figures_from_the_kept_rows_equal_plain_queries_for_every_role(
        owner, teammate, outsider, manager, executive, quarter):
    made = make_activities([owner, teammate, outsider, manager], quarter)
    aggregates.rebuild(aggregates.ACTIVITIES)
    change_activities(made, owner, teammate, quarter)
    aggregates.refresh(aggregates.ACTIVITIES)
    for reader in (executive, manager, owner, teammate):
        dashboard, figures = team_figures(reader, quarter)
        assert dashboard.as_of is not None, reader  # read from the kept rows, not live
        assert figures, reader
        for person_id, found in figures.items():
            person = next(p for p in (owner, teammate, outsider, manager) if p.pk == person_id)
            assert found == plain_team_figures(reader, person, quarter), (reader, person)


@pytest.mark.django_db
def test_the_incremental_refresh_picks_up_a_change_in_an_old_day(owner, executive, quarter):
    long_ago = at(quarter.previous().start + datetime.timedelta(days=5), 11)
    call = Activity.objects.create(kind="call", subject="Старый звонок", owner=owner, team=owner.team,
                                   occurred_at=long_ago)
    aggregates.rebuild(aggregates.ACTIVITIES)
    previous = quarter.previous()
    assert team_figures(executive, previous)[1][owner.pk][0] == 1
    call.occurred_at = at(quarter.start + datetime.timedelta(days=1), 9)  # moved from last quarter into this one
    call.save()
    assert team_figures(executive, previous)[1][owner.pk][0] == 1  # not refreshed yet: the kept figure
    aggregates.refresh(aggregates.ACTIVITIES)
    assert team_figures(executive, previous)[1][owner.pk][0] == 0
    assert team_figures(executive, quarter)[1][owner.pk][0] == 1
    Activity.objects.filter(pk=call.pk).delete()  # a hard delete leaves only its history event
    aggregates.refresh(aggregates.ACTIVITIES)
    assert team_figures(executive, quarter)[1][owner.pk][0] == 0
    assert not ActivityDay.objects.filter(owner_id=owner.pk).exists()


@pytest.mark.django_db
def test_an_activity_outside_the_readers_circle_is_counted_live(owner, manager, other_team, quarter):
    """A teammate's call still filed under another team (outside the manager's circle): the kept rows cannot tell
    whether the manager sees it through its customer, so the page counts live, and equals the plain count."""
    account = AccountFactory(owner=owner)
    Activity.objects.create(kind="call", subject="Звонок", owner=owner, team=other_team, account=account,
                            occurred_at=at(quarter.start + datetime.timedelta(days=1), 9))
    aggregates.rebuild(aggregates.ACTIVITIES)
    dashboard, figures = team_figures(manager, quarter)
    assert dashboard.as_of is None
    assert figures[owner.pk] == plain_team_figures(manager, owner, quarter)
    assert figures[owner.pk][0] == 1


ZONES = ["UTC", "Europe/Moscow", "America/New_York"]  # the summaries' own zone, ahead of it, behind it (DST)


def edge_moments(period) -> list[datetime.datetime]:
    """23:59 and 00:00 in the reader's time zone at both ends of the period and at the previous period's start."""
    minute = datetime.timedelta(minutes=1)
    bounds = (*period.bounds(), period.previous().bounds()[0])
    return [moment + shift for moment in bounds for shift in (-minute, datetime.timedelta())]


def make_edge_activities(people, period) -> None:
    """A call, a meeting, an open task and a task done exactly at each edge moment, for each person."""
    for person in people:
        for moment in edge_moments(period):
            for kind in ("call", "meeting", "task"):
                Activity.objects.create(kind=kind, subject="На границе", owner=person, team=person.team,
                                        occurred_at=moment)
            Activity.objects.create(kind="task", status=TaskStatus.DONE, subject="Сделано на границе", owner=person,
                                    team=person.team, occurred_at=moment - datetime.timedelta(days=3),
                                    completed_at=moment)


@pytest.mark.django_db
@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("kind", ["quarter", "month"])
def test_team_figures_from_the_kept_rows_equal_plain_queries_in_every_time_zone(
        owner, teammate, outsider, manager, executive, zone, kind):
    """Each role, in a reader's time zone: the whole summary days from the table, the parts of a day at the
    period's ends counted live (activities at 23:59 and 00:00 local at both ends), equal to plain queries."""
    with timezone.override(zone):
        period = Period.containing(kind, timezone.localdate())
        people = [owner, teammate, outsider, manager]
        made = make_activities(people, period)
        make_edge_activities(people, period)
        aggregates.rebuild(aggregates.ACTIVITIES)
        change_activities(made, owner, teammate, period)
        aggregates.refresh(aggregates.ACTIVITIES)
        # The ledger keeps each done task's completion time (the rebuild's rows and the refresh's).
        assert dict(DoneTask.objects.values_list("activity_id", "completed_at")) == dict(
            Activity.objects.alive().filter(kind="task", status="done").values_list("id", "completed_at"))
        split = aggregates.split(*period.bounds())
        assert split is not None and len(split.edges) == (0 if zone == "UTC" else 2)
        assert all(after - first < datetime.timedelta(days=1) for first, after in split.edges)
        for reader in (executive, manager, owner, teammate):
            dashboard, figures = team_figures(reader, period)
            assert dashboard.as_of is not None, reader  # read from the kept rows, not live
            for person_id, found in figures.items():
                person = next(p for p in people if p.pk == person_id)
                assert found == plain_team_figures(reader, person, period), (zone, reader, person)
        assert team_figures(executive, period)[1][owner.pk][0] > 0


# --- Tickets --------------------------------------------------------------------------------------------------


def make_tickets(accounts, queues, quarter, seed=9, count=60) -> list[Ticket]:
    generator = random.Random(seed)
    made = []
    first = quarter.previous().start
    span = (quarter.end - first).days
    for number in range(count):
        opened = at(first + datetime.timedelta(days=generator.randrange(span)), generator.randrange(24))
        resolved = opened + datetime.timedelta(hours=generator.randrange(1, 400)) if generator.random() < 0.6 else None
        if resolved and resolved > timezone.now():
            resolved = None
        made.append(Ticket.objects.create(
            number=f"K-{number:04d}", subject=f"Не печатает {number}", account=generator.choice(accounts),
            channel=generator.choice(Channel.values), category=generator.choice(Category.values),
            queue=generator.choice(queues), created_at=opened,
            status=Status.RESOLVED if resolved else generator.choice([Status.NEW, Status.OPEN, Status.PENDING]),
            resolved_at=resolved, resolution_minutes=generator.randrange(30, 3000) if resolved else None,
            first_response_minutes=generator.choice([None, generator.randrange(5, 600)]),
            sla_met=generator.choice([None, True, False]) if resolved else None,
            reopened_count=generator.choice([0, 0, 1]) if resolved else 0))
    return made


def plain_service_figures(user, quarter, dimension) -> dict:
    """Per group: opened, previous opened, solved, backlog, SLA kept, reopened, complaints: plain counts."""
    column = "queue_id" if dimension == "queue" else dimension
    first, after = quarter.bounds()
    before = quarter.previous().bounds()[0]
    figures: dict = {}
    for ticket in Ticket.objects.visible_to(user):
        key = getattr(ticket, column)
        counts = figures.setdefault(key, [0] * 7)
        opened = first <= ticket.created_at < after
        solved = bool(ticket.resolved_at and first <= ticket.resolved_at < after)
        counts[0] += opened
        counts[1] += before <= ticket.created_at < first
        counts[2] += solved
        counts[3] += ticket.status in ACTIVE_STATUSES
        counts[4] += solved and ticket.sla_met is True
        counts[5] += solved and ticket.reopened_count > 0
        counts[6] += opened and ticket.category == Category.COMPLAINT
    return {key: tuple(counts) for key, counts in figures.items() if any(counts[:4])}


def service_rows(user, quarter, dimension):
    rows, _total, as_of = service_figures.build_with_time(user, quarter, dimension)
    return as_of, {row.key: (row.opened, row.previous_opened, row.solved, row.backlog, row.sla_kept, row.reopened,
                             row.complaints) for row in rows}


@pytest.mark.django_db
@pytest.mark.parametrize("dimension", ["channel", "category", "queue"])
def test_service_figures_from_the_kept_rows_equal_plain_queries_for_every_role(
        owner, outsider, manager, executive, quarter, dimension):
    queues = [QueueFactory(name="Первая линия"), QueueFactory(name="Second line"), None]
    made = make_tickets([AccountFactory(owner=owner), AccountFactory(owner=outsider)], queues, quarter)
    aggregates.rebuild(aggregates.TICKETS)
    # Opened, solved, reopened, moved to another queue, deleted.
    Ticket.objects.create(number="K-9000", subject="Новая заявка", channel=Channel.values[0], queue=queues[0],
                          created_at=at(quarter.start + datetime.timedelta(days=2), 10))
    waiting = next(t for t in made if t.status in ACTIVE_STATUSES)
    waiting.status, waiting.resolved_at, waiting.sla_met = Status.RESOLVED, at(quarter.start, 12), True
    waiting.save()
    moved = next(t for t in made if t.pk != waiting.pk)
    Ticket.objects.filter(pk=moved.pk).update(queue=queues[1], category=Category.COMPLAINT)
    Ticket.objects.filter(pk=made[-1].pk).update(deleted_at=timezone.now())
    aggregates.refresh(aggregates.TICKETS)
    support_lead = UserFactory(role=Role.SUPPORT_LEAD)
    for reader, kept in ((executive, True), (support_lead, True), (manager, False), (owner, False)):
        as_of, found = service_rows(reader, quarter, dimension)
        assert (as_of is not None) == kept, reader  # sales reads its customers' tickets: counted live
        assert found == plain_service_figures(reader, quarter, dimension), (reader, dimension)


def make_edge_tickets(queues, period) -> None:
    """A ticket opened, and one solved, exactly at each edge moment (a solution only when it is in the past)."""
    for number, moment in enumerate(edge_moments(period)):
        Ticket.objects.create(number=f"E-{number}", subject="На границе", queue=queues[number % len(queues)],
                              channel=Channel.values[number % len(Channel.values)], created_at=moment,
                              category=Category.COMPLAINT if number % 2 else Category.values[0])
        if moment < timezone.now():
            Ticket.objects.create(number=f"S-{number}", subject="Решена на границе", queue=queues[0],
                                  created_at=moment - datetime.timedelta(days=2), resolved_at=moment,
                                  status=Status.RESOLVED, sla_met=bool(number % 2), reopened_count=number % 2,
                                  resolution_minutes=60 + number)


@pytest.mark.django_db
@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("dimension", ["channel", "queue"])
def test_service_figures_from_the_kept_rows_equal_plain_queries_in_every_time_zone(
        owner, outsider, manager, executive, zone, dimension):
    with timezone.override(zone):
        period = Period.containing("quarter", timezone.localdate())
        queues = [QueueFactory(name="Первая линия"), None]
        make_tickets([AccountFactory(owner=owner), AccountFactory(owner=outsider)], queues, period)
        make_edge_tickets(queues, period)
        aggregates.rebuild(aggregates.TICKETS)
        Ticket.objects.create(number="K-9000", subject="Новая заявка", channel=Channel.values[0], queue=queues[0],
                              created_at=period.bounds()[0])
        aggregates.refresh(aggregates.TICKETS)
        support_lead = UserFactory(role=Role.SUPPORT_LEAD)
        for reader, kept in ((executive, True), (support_lead, True), (manager, False)):
            as_of, found = service_rows(reader, period, dimension)
            assert (as_of is not None) == kept, reader
            assert found == plain_service_figures(reader, period, dimension), (zone, reader, dimension)
            rows, _total, _as_of = service_figures.build_with_time(reader, period, dimension)
            live = service_figures._live_figures(reader, period, period.previous(), dimension.replace(
                "queue", "queue_id"))
            for row in rows:  # the averages too
                assert row.first_response_hours == service_figures._average_hours(live[row.key], "first_response")
                assert row.resolution_hours == service_figures._average_hours(live[row.key], "resolution")
                assert (row.covered, row.previous_covered, row.with_sla) == (
                    live[row.key]["covered"], live[row.key]["previous_covered"], live[row.key]["with_sla"])


@pytest.mark.django_db
def test_the_ticket_refresh_picks_up_a_ticket_solved_long_after_it_was_opened(executive, quarter):
    old = Ticket.objects.create(number="K-1", subject="Старая", created_at=at(quarter.previous().start, 9))
    aggregates.rebuild(aggregates.TICKETS)
    assert service_rows(executive, quarter, "channel")[1][old.channel][3] == 1  # in the backlog
    old.status, old.resolved_at = Status.RESOLVED, at(quarter.start + datetime.timedelta(days=1), 9)
    old.save()
    aggregates.refresh(aggregates.TICKETS)
    figures = service_rows(executive, quarter, "channel")[1][old.channel]
    assert (figures[2], figures[3]) == (1, 0)  # solved this quarter, out of the backlog
    assert TicketDay.objects.get(day=quarter.previous().start).active == 0


# --- The report builder -----------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["entity=activities&g1=owner&g2=kind&chart=bar",
                                   "entity=activities&g1=kind&sort=count&dir=desc",
                                   "entity=activities&g1=kind&g2=owner"])
def test_the_builders_activity_groups_from_the_kept_rows_equal_the_live_report(
        owner, teammate, outsider, manager, executive, quarter, query):
    from django.http import QueryDict

    from reports import builder

    made = make_activities([owner, teammate, outsider, manager], quarter)
    aggregates.rebuild(aggregates.ACTIVITIES)
    change_activities(made, owner, teammate, quarter)
    aggregates.refresh(aggregates.ACTIVITIES)
    definition = builder.parse(QueryDict(query), executive)
    kept = builder.run(definition, executive)
    assert kept.as_of is not None
    AggregateState.objects.all().delete()  # never built: the live report
    live = builder.run(definition, executive)
    assert live.as_of is None
    assert kept.rows == live.rows and kept.totals == live.totals
    assert kept.totals[-1] == Activity.objects.filter(deleted_at__isnull=True).count()


@pytest.mark.django_db
def test_the_builder_counts_live_for_a_rep_and_with_a_filter(owner, executive, quarter):
    from django.http import QueryDict

    from reports import builder

    make_activities([owner], quarter, count=20)
    aggregates.rebuild(aggregates.ACTIVITIES)
    for user, query in ((owner, "entity=activities&g1=kind"),
                        (executive, "entity=activities&g1=kind&ff=subject&fo=contains&fv=Звонок")):
        result = builder.run(builder.parse(QueryDict(query), user), user)
        assert result.as_of is None
        assert result.totals[-1] == Activity.objects.visible_to(user).filter(subject__contains="Звонок").count()


# --- The pages ------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_pages_show_the_refresh_time_in_the_readers_language(client, owner, executive, quarter):
    make_activities([owner], quarter, count=10)
    make_tickets([AccountFactory(owner=owner)], [None], quarter, count=10)
    aggregates.rebuild(aggregates.ACTIVITIES)
    aggregates.rebuild(aggregates.TICKETS)
    AggregateState.objects.update(refreshed_at=datetime.datetime(2026, 3, 2, 10, 7, tzinfo=datetime.UTC))
    client.force_login(executive)
    for name in ("reports_team", "reports_service"):
        page = client.get(reverse(name)).content.decode()
        assert "Figures as of 10:07" in page, name
    executive.language = "ru"
    executive.save(update_fields=["language"])
    client.force_login(executive)
    assert "Данные на 10:07" in client.get(reverse("reports_team"), HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    AggregateState.objects.all().delete()  # never built: counted live, no time shown
    assert "10:07" not in client.get(reverse("reports_team")).content.decode()


@pytest.mark.django_db
def test_the_kept_team_figures_link_to_lists_of_exactly_those_records(client, owner, manager, quarter):
    make_activities([owner, manager], quarter, count=60)
    aggregates.rebuild(aggregates.ACTIVITIES)
    client.force_login(manager)
    response = client.get(reverse("reports_team"), {"owner": owner.pk, "start": quarter.start})
    assert response.context["dashboard"].as_of is not None
    found = [(unescape(url), figure, int(count)) for url, figure, count in LINK.findall(response.content.decode())
             if figure in ("calls", "meetings", "tasks_done", "overdue")]
    assert found
    for url, figure, count in found:
        assert client.get(url).context["page"].total == count, (figure, url)


@pytest.mark.django_db
def test_constant_number_of_queries_with_the_kept_figures(client, owner, teammate, executive, quarter):
    aggregates.rebuild(aggregates.ACTIVITIES)
    aggregates.rebuild(aggregates.TICKETS)
    executive.time_zone = "Europe/Moscow"  # the periods' edges counted live
    executive.save(update_fields=["time_zone"])
    client.force_login(executive)
    pages = [reverse("reports_team"), reverse("reports_service") + "?by=queue"]
    for url in pages:
        client.get(url)
    with CaptureQueriesContext(connection) as few:
        for url in pages:
            client.get(url)
    make_activities([owner, teammate], quarter, count=40)
    make_tickets([AccountFactory(owner=owner)], [QueueFactory(name="Вторая линия"), None], quarter, count=30)
    aggregates.refresh(aggregates.ACTIVITIES)
    aggregates.refresh(aggregates.TICKETS)
    for url in pages:
        with CaptureQueriesContext(connection) as many:
            assert client.get(url).status_code == 200
        assert len(many) <= 15, "\n".join(query["sql"][:150] for query in many.captured_queries)
        assert any("reports_activityday" in query["sql"] or "reports_ticketday" in query["sql"]
                   for query in many.captured_queries), url  # the kept figures, not the live query
    assert len(few) <= 30


@pytest.mark.django_db
def test_the_scheduler_keeps_them(owner, executive, quarter):
    scheduler.tick()
    assert set(AggregateState.objects.values_list("name", flat=True)) == {aggregates.ACTIVITIES, aggregates.TICKETS}
    Activity.objects.create(kind="call", subject="Звонок", owner=owner, team=owner.team,
                            occurred_at=at(quarter.start, 10))
    scheduler.tick()  # the day's rebuild is done: an incremental refresh
    dashboard, figures = team_figures(executive, quarter)
    assert dashboard.as_of is not None
    assert figures[owner.pk] == plain_team_figures(executive, owner, quarter)
