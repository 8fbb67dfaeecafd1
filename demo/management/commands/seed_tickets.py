"""Synthetic tickets at scale for the service desk's benchmark: `manage.py seed_tickets --tickets 1000000`.

Run it after `seed` (it spreads tickets over the accounts and contacts there). It makes a bench queue
with a lead and agents, a 24 × 7 SLA policy, and inserts the tickets with `INSERT … SELECT
generate_series` in batches (the rows never pass through Python), history triggers off
(`session_replication_role = replica`, as `seed` does). As on a desk that has run for years, 3 % of
the tickets are open (new, open or pending) and the rest resolved or closed; a third of the
open ones wait unassigned in the queue, a third are open and a third wait for the customer.
Numbers continue the year's ticket sequence, so the app's own tickets never collide with them.

It also makes (once) a sales rep with a tiny book, `rep.tiny@bench.crm`: three accounts (about 150 of a
million tickets) and two private customers (contacts without a company) with five tickets each, so the
benchmark measures what sales sees of the desk when the user's share is far under 1 %.
"""

import time

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from crm.models import Role, Team, User
from sales.models import NumberSequence
from service.models import BusinessCalendar, Priority, Queue, SlaPolicy

BATCH = 100_000
TINY_REP = "rep.tiny@bench.crm"
AGENTS = 10
PASSWORD = "demo-crm-2026"  # noqa: S105 - the published demo password, only for synthetic data
SUBJECTS = [
    "Cannot sign in", "Printer prints blank pages", "Invoice shows the wrong VAT number", "Delivery arrived damaged",
    "How do I add a user?", "Export to Excel loses characters", "Server room sensor offline", "Password reset link",
    "Не приходит счёт", "Сломался терминал", "Не работает принтер", "Ошибка при входе", "Вопрос по договору",
    "Не печатаются накладные", "Запрос на обучение", "Жалоба на доставку",
]


class Command(BaseCommand):
    help = "Adds synthetic tickets (and a bench queue of agents) for the service benchmark."

    def add_arguments(self, parser):
        parser.add_argument("--tickets", type=int, default=100_000, help="Tickets to add (default 100,000).")
        parser.add_argument("--force", action="store_true", help="Run even with DEBUG off.")

    def handle(self, *args, tickets: int, force: bool, **options):
        if not settings.DEBUG and not force:
            raise CommandError("seed_tickets writes large amounts of synthetic data and refuses to run with DEBUG "
                               "off (is this production?). Pass --force if you mean it.")
        if tickets < 1:
            raise CommandError("--tickets must be at least 1.")
        started = time.perf_counter()
        queue, agents = self.bench_queue()
        policy = self.bench_policy()
        year = timezone.localdate().year
        with transaction.atomic():
            NumberSequence.objects.get_or_create(kind="ticket", year=year)
            sequence = NumberSequence.objects.select_for_update().get(kind="ticket", year=year)
            first = sequence.last_value + 1
            sequence.last_value += tickets
            sequence.save(update_fields=["last_value"])
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM contacts_contact WHERE account_id IS NOT NULL")
            if cursor.fetchone()[0] == 0:
                raise CommandError("No contacts with accounts: run `manage.py seed` first.")
        done = 0
        while done < tickets:
            size = min(BATCH, tickets - done)
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SET LOCAL session_replication_role = replica")
                cursor.execute(INSERT, {
                    "first": first + done, "count": size, "year": year, "queue": queue.pk, "policy": policy.pk,
                    "agents": [agent.pk for agent in agents], "subjects": SUBJECTS, "now": timezone.now(),
                })
            done += size
            self.stdout.write(f"  {done:,} / {tickets:,} tickets ({time.perf_counter() - started:.0f} s)")
        tiny = self.tiny_book(queue, agents[0])
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE) service_ticket" if not connection.in_atomic_block
                           else "ANALYZE service_ticket")
        if tiny:
            self.stdout.write(f"A sales rep with a tiny book: {TINY_REP} ({tiny} tickets).")
        self.stdout.write(self.style.SUCCESS(
            f"Added {tickets:,} tickets in {time.perf_counter() - started:.0f} s. Sign in as an agent: "
            f"{agents[0].email} (password {PASSWORD})."))

    def bench_queue(self) -> tuple[Queue, list[User]]:
        password = make_password(PASSWORD)
        agents = []
        for number in range(1, AGENTS + 1):
            agent, _created = User.objects.get_or_create(
                email=f"agent{number}@bench.crm",
                defaults={"role": Role.SUPPORT_AGENT, "first_name": "Agent", "last_name": str(number),
                          "password": password})
            agents.append(agent)
        queue, created = Queue.objects.get_or_create(name="Bench queue", defaults={"lead": agents[0]})
        if created:
            queue.members.set(agents)
        return queue, agents

    def tiny_book(self, queue: Queue, agent: User) -> int:
        """The rep with three accounts and two private customers (made once); how many tickets they see."""
        from accounts.models import Account
        from contacts.services import contact_create
        from service import services
        from service.models import Ticket

        rep = User.objects.filter(email=TINY_REP).first()
        if rep is None:
            # A team of one: in another team the accounts teammates share with it would widen the book.
            team, _created = Team.objects.get_or_create(name="Bench tiny book")
            rep = User.objects.create(email=TINY_REP, role=Role.SALES_REP, first_name="Тина", last_name="Малая",
                                      team=team, password=make_password(PASSWORD))
            accounts = list(Account.objects.filter(deleted_at__isnull=True, owner__role=Role.SALES_REP)
                            .order_by("id").values_list("pk", flat=True)[:3])
            Account.objects.filter(pk__in=accounts).update(owner=rep, team=team)
            for number, (first, last) in enumerate((("Инна", "Частная"), ("Глеб", "Сам")), start=1):
                person = contact_create(actor=rep, owner=rep, first_name=first, last_name=last,
                                        emails=[f"private{number}@tiny.bench.crm"])
                for ticket in range(5):
                    services.ticket_create(actor=agent, subject=f"Частный вопрос {ticket + 1}", contact=person,
                                           queue=queue, owner=agent)
        return Ticket.objects.visible_to(rep).count()

    def bench_policy(self) -> SlaPolicy:
        calendar, _created = BusinessCalendar.objects.get_or_create(name="Bench 24 × 7",
                                                                    defaults={"around_the_clock": True})
        policy = SlaPolicy.objects.filter(is_active=True, priority=Priority.NORMAL, account_tier="").first()
        return policy or SlaPolicy.objects.create(name="Bench normal", priority=Priority.NORMAL,
                                                  first_response_minutes=240, resolution_minutes=1440,
                                                  calendar=calendar)


# One statement per batch: pick a contact (and its account) by position in an array read once, then
# derive every column from the series number, so the batch is reproducible and needs no Python loop.
INSERT = """
WITH people AS (
    SELECT array_agg(id ORDER BY id) AS ids, array_agg(account_id ORDER BY id) AS accounts, count(*) AS n
    FROM contacts_contact WHERE account_id IS NOT NULL AND deleted_at IS NULL
), rows AS (
    SELECT g,
           (g * 7919) %% (SELECT n FROM people) + 1 AS pick,
           %(now)s::timestamptz - make_interval(mins => ((g * 104729) %% (365 * 24 * 60))::int) AS opened,
           CASE WHEN g %% 100 >= 3 THEN 0 ELSE 7 + g %% 4 END AS bucket
    FROM generate_series(%(first)s::bigint, %(first)s::bigint + %(count)s - 1) AS g
)
INSERT INTO service_ticket (
    number, subject, description, account_id, contact_id, channel, category, priority, status, queue_id,
    sla_policy_id, owner_id, team_id, shared_with_team, tags, custom, queue_rank, lock_version, paused_seconds,
    sla_state, reopened_count, search_text, created_at, updated_at, first_response_due, resolution_due,
    sla_next_at, first_responded_at, first_response_minutes, resolved_at, resolution_minutes, closed_at, sla_met
)
SELECT
    'T-' || %(year)s || '-' || lpad(g::text, greatest(6, length(g::text)), '0'),
    (%(subjects)s::text[])[1 + g %% array_length(%(subjects)s::text[], 1)] || ' #' || g,
    '', people.accounts[pick], people.ids[pick],
    (ARRAY['phone', 'email', 'web', 'portal'])[1 + g %% 4],
    (ARRAY['question', 'incident', 'problem', 'request', 'complaint', 'billing'])[1 + g %% 6],
    1 + g %% 4,
    CASE WHEN bucket < 7 THEN (ARRAY['resolved', 'closed'])[1 + g %% 2]
         WHEN bucket = 7 THEN 'new' WHEN bucket = 8 THEN 'open' WHEN bucket = 9 THEN 'pending' ELSE 'on_hold' END,
    %(queue)s, %(policy)s,
    CASE WHEN bucket = 7 THEN NULL ELSE (%(agents)s::bigint[])[1 + g %% array_length(%(agents)s::bigint[], 1)] END,
    NULL, false, '{}', '{}', 2 * (1 + g %% 4), 1, 0,
    CASE WHEN g %% 17 = 0 THEN 'breached' WHEN g %% 11 = 0 THEN 'at_risk' ELSE 'ok' END, 0,
    'T-' || %(year)s || '-' || lpad(g::text, greatest(6, length(g::text)), '0') || ' '
        || (%(subjects)s::text[])[1 + g %% array_length(%(subjects)s::text[], 1)] || ' #' || g,
    opened, opened, opened + interval '4 hours', opened + interval '1 day',
    CASE WHEN bucket BETWEEN 7 AND 8 AND opened > %(now)s::timestamptz - interval '1 day'
         THEN opened + interval '1 day' END,
    CASE WHEN bucket <> 7 THEN opened + interval '1 hour' END, CASE WHEN bucket <> 7 THEN 60 END,
    CASE WHEN bucket < 7 THEN opened + interval '6 hours' END, CASE WHEN bucket < 7 THEN 360 END,
    CASE WHEN bucket < 7 AND g %% 2 = 1 THEN opened + interval '2 days' END,
    CASE WHEN bucket < 7 THEN g %% 17 <> 0 END
FROM rows, people
"""
