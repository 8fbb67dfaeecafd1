"""Page timings on the seeded data: `manage.py bench [--repeat 30] [--json out.json]`.

Each page is requested through the whole Django stack (middleware, view, templates)
with django.test.Client as a signed-in user; we time the server side of the request
and count its SQL queries. One warm-up request per page first (template loading, the
database's caches), then `--repeat` timed requests. docs/benchmarks.md has the budget
and the figures measured so far.
"""

import json
import logging
import math
import platform
import statistics
import time
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlencode

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse

from crm.models import Role, User
from demo import profiling

LIST_BUDGET_MS = 100  # p95, lists and detail pages
SEARCH_BUDGET_MS = 150  # p95, global search
BOARD_BUDGET_MS = 300  # p95, the kanban board (issue 5: 2,000 open deals in a pipeline)
DASHBOARD_BUDGET_MS = 500  # p95, the report dashboards (issue 12: 500,000 deals)
MAX_QUERIES = 15
TINY_REP = "rep.tiny@bench.crm"  # seed_tickets: a sales rep with three accounts and two private customers


@dataclass
class Page:
    label: str
    url_name: str
    args: tuple = ()
    query: str = ""
    budget_ms: int = LIST_BUDGET_MS
    max_queries: int = MAX_QUERIES  # the same for every page: the limit the table's footer names
    scopes: tuple = ("sales manager", "executive")  # who opens it
    post: bool = False  # a POST (an action such as "take next"), each one rolled back so the data stays as seeded
    expect: int = 200  # the answer that means it worked (an action redirects)


@dataclass
class Result:
    page: str
    user: str
    url: str | None
    status: int | None = None
    median_ms: float | None = None
    p95_ms: float | None = None
    queries: int | None = None
    cpu_ms: float | None = None  # median CPU time of this process per request (less noisy than wall time)
    over_budget: list[str] = field(default_factory=list)
    note: str = ""
    breakdown: dict | None = None  # --profile: median ms per phase (demo/profiling.py)


def percentile(samples: list[float], share: float) -> float:
    """Nearest-rank percentile: the smallest sample with at least `share` of the samples at or below it."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


class Command(BaseCommand):
    help = "Times the main pages (server side, full request) and counts their queries on the seeded data."

    def add_arguments(self, parser):
        parser.add_argument("--repeat", type=int, default=30, help="Timed requests per page (default 30).")
        parser.add_argument("--json", dest="json_path", default="", help="Also write the figures to this file.")
        parser.add_argument("--common-term", default="", help="Search term with many hits (default: the most "
                                                              "frequent contact last name).")
        parser.add_argument("--profile", action="store_true", help="Also split each page's median time into "
                            "SQL, middleware, view and template Python (demo/profiling.py).")
        parser.add_argument("--only", default="", help="Only the pages whose label contains this text "
                            "(several, comma-separated: any of them).")
        parser.add_argument("--rare-term", default="", help="Search term with few hits (default: one contact's "
                                                            "full name).")

    def handle(self, *args, repeat: int, json_path: str, common_term: str, rare_term: str, profile: bool = False,
               only: str = "", **options):
        if repeat < 1:
            raise CommandError("--repeat must be at least 1.")
        hot_account_id, activity_count = self.busiest_account()
        common_term = common_term or self.common_last_name()
        rare_term = rare_term or self.rare_full_name()
        users = self.bench_users(hot_account_id)
        board_id, board_open = self.bench_board()
        common, rare = urlencode({"q": common_term}), urlencode({"q": rare_term})
        pages = [
            Page("account list", "accounts:list"),
            Page("contact list", "contacts:list"),
            Page(f"contact list ?q={common_term}", "contacts:list", query=common),
            Page("contact list ?sort=-updated", "contacts:list", query="sort=-updated"),
            Page("contact list ?page=200", "contacts:list", query="page=200"),
            Page(f"account 360 ({activity_count:,} activities)", "accounts:detail", args=(hot_account_id,)),
            Page(f"search common ({common_term})", "search", query=common, budget_ms=SEARCH_BUDGET_MS),
            Page(f"search rare ({rare_term})", "search", query=rare, budget_ms=SEARCH_BUDGET_MS),
            # Every page is held to MAX_QUERIES (15), the limit the table prints: the filter panels'
            # selects come from cached lookup tables (crm/lookups.py), the session from Redis.
            Page("opportunity list", "sales:opportunity_list"),
            Page("opportunity list ?status=open&sort=-amount", "sales:opportunity_list",
                 query="status=open&sort=-amount"),
            Page("opportunity list ?page=200", "sales:opportunity_list", query="page=200"),
            Page("opportunity page", "sales:opportunity_detail", args=(self.some_opportunity(hot_account_id),)),
            Page("board (default pipeline)", "sales:board_default", budget_ms=BOARD_BUDGET_MS),
            Page(f"board ({board_open:,} open deals)", "sales:board", args=(board_id,), budget_ms=BOARD_BUDGET_MS),
            Page("forecast (month, by owner)", "sales:forecast"),
            Page("forecast (quarter, by team)", "sales:forecast", query="period=quarter&group=team"),
            Page("pipeline dashboard (quarter)", "reports", budget_ms=DASHBOARD_BUDGET_MS),
            Page("pipeline dashboard (year)", "reports", query="period=year", budget_ms=DASHBOARD_BUDGET_MS),
            Page("sales analysis (quarter, by owner)", "reports_analysis", query="by=owner",
                 budget_ms=DASHBOARD_BUDGET_MS),
            Page("sales analysis (year, by territory)", "reports_analysis", query="period=year&by=territory",
                 budget_ms=DASHBOARD_BUDGET_MS),
            # The sales manager's dashboard: per-owner aggregations of deals, activities (10M rows: the
            # (owner, kind, occurred_at) index), idle deals (NOT EXISTS on each open deal's timeline) and quotes.
            Page("sales team dashboard (quarter)", "reports_team", budget_ms=DASHBOARD_BUDGET_MS),
            Page("activity list ?kind=call", "activity_list", query="kind=call"),
            # My day: the activities' lists plus the modules' figures (reports: the month against target).
            Page("my day", "home"),
            # The customers dashboard reads the ranking stored on the accounts (two grouped counts), the
            # outstanding invoices (two aggregations), the period's purchases and its shipments (one UNION ALL of
            # grouped orders and lines each).
            Page("customers dashboard (ABC/RFM, receivables)", "reports_customers", budget_ms=DASHBOARD_BUDGET_MS),
            Page("lead sources (quarter)", "reports_sources", budget_ms=DASHBOARD_BUDGET_MS),
            # The marketing dashboard: costs, leads and deals grouped by campaign (one query each) and the
            # mailings of the period with their deliveries counted in one grouped join.
            Page("marketing dashboard (quarter)", "reports_marketing", budget_ms=DASHBOARD_BUDGET_MS),
            Page("marketing dashboard (year)", "reports_marketing", query="period=year", budget_ms=DASHBOARD_BUDGET_MS),
            Page("customers dashboard (churn risk, 3 months)", "reports_customers", query="months=3",
                 budget_ms=DASHBOARD_BUDGET_MS),
            Page("service dashboard (quarter, by channel)", "reports_service", budget_ms=DASHBOARD_BUDGET_MS),
            Page("service dashboard (year, by queue)", "reports_service", query="period=year&by=queue",
                 budget_ms=DASHBOARD_BUDGET_MS),
            # The report builder: one grouped aggregation (amounts converted in SQL) plus its total, or one
            # bounded row query; related fields go through the linked record's visibility (an EXISTS).
            Page("report builder (deals by stage × close month, sum)", "report_builder",
                 query="entity=deals&g1=stage&g2=expected_close_date&g2p=month&a=sum:amount&chart=bar"
                       "&ff=expected_close_date&fo=last_days&fv=365",
                 budget_ms=DASHBOARD_BUDGET_MS),
            Page("report builder (500 deal rows with account, by amount)", "report_builder",
                 query="entity=deals&c=name&c=account.name&c=stage&c=amount&sort=amount&dir=desc",
                 budget_ms=DASHBOARD_BUDGET_MS),
            Page("report builder (activities by owner and kind)", "report_builder",
                 query="entity=activities&g1=owner&g2=kind&chart=bar", budget_ms=DASHBOARD_BUDGET_MS),
        ]
        users["support agent"] = self.bench_agent()
        users["sales rep (tiny book)"] = User.objects.filter(email=TINY_REP, is_active=True).first()
        pages += self.service_pages(users)
        wanted = [part.strip().lower() for part in only.split(",")]
        pages = [page for page in pages if any(part in page.label.lower() for part in wanted)]
        self.profile = profile
        self.warn_about_pending_migrations()
        sizes = self.data_sizes()
        self.stdout.write(
            "Data: " + ", ".join(f"{count:,} {name}" for name, count in sizes.items())
            + f" (planner estimates). {repeat} timed requests per page after one warm-up."
        )

        results = []
        # The test client's host name; nothing else about the settings changes. A page that fails
        # is reported in its row (not as a traceback per request).
        request_logger = logging.getLogger("django.request")
        level = request_logger.level
        request_logger.setLevel(logging.CRITICAL)
        try:
            with override_settings(ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"]), profiling.instrumented():
                for scope, user in users.items():
                    results.extend(self.measure_user(scope, user, pages, repeat))
        finally:
            request_logger.setLevel(level)
        self.print_table(results)
        if profile:
            self.print_profile(results)
        if json_path:
            payload = {
                "measured_at": datetime.now(tz=UTC).isoformat(timespec="seconds"),
                "host": platform.node(),
                "python": platform.python_version(),
                "postgresql": connection.pg_version,
                "repeat": repeat,
                "data": sizes,
                "budget": {"list_p95_ms": LIST_BUDGET_MS, "search_p95_ms": SEARCH_BUDGET_MS,
                           "board_p95_ms": BOARD_BUDGET_MS, "dashboard_p95_ms": DASHBOARD_BUDGET_MS,
                           "max_queries": MAX_QUERIES},
                "results": [asdict(result) for result in results],
            }
            with open(json_path, "w", encoding="utf-8") as handle:
                json.dump(payload, handle, ensure_ascii=False, indent=2)
            self.stdout.write(f"Figures written to {json_path}")

    # --- What to measure -------------------------------------------------------------

    def busiest_account(self) -> tuple[int | None, int]:
        """The account with the most activities, in one query (an index-only scan of the timeline index)."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT account_id, COUNT(*) FROM crm_activity WHERE account_id IS NOT NULL "
                "GROUP BY account_id ORDER BY COUNT(*) DESC, account_id LIMIT 1"
            )
            row = cursor.fetchone()
        return (row[0], row[1]) if row else (None, 0)

    def service_pages(self, users: dict[str, User | None]) -> list[Page]:
        """The desk at scale (`seed_tickets`): the agent's queue view and "take next", the ticket list, ticket
        search, a ticket page per role (one the user may read), the hotline; sales' lists, a tiny book too."""
        from service.models import Ticket

        ticket = Ticket.objects.filter(status="open", contact__isnull=False).order_by("-id").values(
            "id", "number", "contact__phones").first()
        if ticket is None:
            return []
        phone = (ticket["contact__phones"] or ["+442079460000"])[0]
        agent, tiny = ("support agent",), ("sales rep (tiny book)",)
        everyone = ("support agent", "sales manager", "executive", "sales rep (tiny book)")
        pages = [
            Page("desk: my work and queues", "service:home", scopes=agent),
            Page("take next (POST, rolled back)", "service:take_next", scopes=agent, post=True, expect=302),
            Page("ticket list (open)", "service:ticket_list", scopes=everyone),
            Page("ticket list ?view=unassigned&sort=priority", "service:ticket_list",
                 query="view=unassigned&sort=priority", scopes=agent),
            Page("ticket list ?view=mine", "service:ticket_list", query="view=mine", scopes=everyone),
            Page("ticket list ?view=all&page=200", "service:ticket_list", query="view=all&page=200", scopes=agent),
            Page("ticket search ?q=принтер (open)", "service:ticket_list", query=urlencode({"q": "принтер"}),
                 scopes=everyone),
            Page("ticket search ?q=принтер&view=all", "service:ticket_list",
                 query=urlencode({"q": "принтер", "view": "all"}), scopes=everyone),
            Page("global search (a ticket number)", "search", query=urlencode({"q": ticket["number"]}),
                 budget_ms=SEARCH_BUDGET_MS, scopes=everyone),
            Page("hotline lookup", "service:hotline", query=urlencode({"phone": phone}), scopes=agent),
        ]
        for scope in everyone:  # a ticket page each role may read: the newest open one it sees
            user = users.get(scope)
            seen = (Ticket.objects.visible_to(user).filter(status="open").order_by("-created_at", "-id")
                    .values_list("pk", flat=True).first()) if user is not None else None
            pages.append(Page(f"ticket page ({scope})", "service:ticket_detail", args=(seen,), scopes=(scope,)))
        pages.append(Page("ticket list ?view=all (tiny book)", "service:ticket_list", query="view=all", scopes=tiny))
        return pages

    def bench_agent(self) -> User | None:
        return User.objects.filter(email="agent2@bench.crm", is_active=True).first() or User.objects.filter(
            role=Role.SUPPORT_AGENT, is_active=True).order_by("id").first()

    def bench_board(self) -> tuple[int | None, int]:
        """The pipeline `seed_sales` made for the kanban budget, and its open deals."""
        from sales.models import Opportunity, Pipeline

        pipeline = Pipeline.objects.filter(name="Bench board").first()
        if pipeline is None:
            return None, 0
        return pipeline.pk, Opportunity.objects.filter(pipeline=pipeline, stage__kind="open").count()

    def some_opportunity(self, account_id: int | None) -> int | None:
        """A deal of the busiest account's team, so the manager may open it too."""
        with connection.cursor() as cursor:
            cursor.execute("SELECT o.id FROM sales_opportunity o JOIN accounts_account a ON a.team_id = o.team_id "
                           "WHERE a.id = %s ORDER BY o.id DESC LIMIT 1", [account_id])
            row = cursor.fetchone()
        return row[0] if row else None

    def common_last_name(self) -> str:
        with connection.cursor() as cursor:
            # A 1% sample is plenty to find the most frequent name without reading a million rows.
            cursor.execute(
                "SELECT last_name FROM contacts_contact TABLESAMPLE SYSTEM (1) "
                "GROUP BY last_name ORDER BY COUNT(*) DESC LIMIT 1"
            )
            row = cursor.fetchone()
            if row is None:  # a tiny table can give an empty sample
                cursor.execute("SELECT last_name FROM contacts_contact GROUP BY last_name "
                               "ORDER BY COUNT(*) DESC LIMIT 1")
                row = cursor.fetchone()
        return row[0] if row else "Smith"

    def rare_full_name(self) -> str:
        with connection.cursor() as cursor:
            # A person's complete name (first, patronymic/middle, last) matches a handful of rows.
            cursor.execute(
                "SELECT full_name FROM contacts_contact WHERE middle_name <> '' AND deleted_at IS NULL "
                "ORDER BY id DESC LIMIT 1"
            )
            row = cursor.fetchone()
        return row[0] if row else "Pemberton"

    def bench_users(self, hot_account_id: int | None) -> dict[str, User | None]:
        """A sales manager (team scope) who can see the busiest account, and an executive (all scope)."""
        manager = self.manager_of_account(hot_account_id) if hot_account_id is not None else None
        if manager is None:
            manager = User.objects.filter(role=Role.SALES_MANAGER, is_active=True,
                                          managed_teams__isnull=False).order_by("id").first()
        executive = User.objects.filter(role=Role.EXECUTIVE, is_active=True).order_by("id").first()
        return {"sales manager": manager, "executive": executive}

    def manager_of_account(self, account_id: int) -> User | None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT t.manager_id FROM accounts_account a JOIN crm_team t ON t.id = a.team_id "
                "WHERE a.id = %s",
                [account_id],
            )
            row = cursor.fetchone()
        if not row or row[0] is None:
            return None
        return User.objects.filter(pk=row[0], role=Role.SALES_MANAGER, is_active=True).first()

    def warn_about_pending_migrations(self) -> None:
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if pending:
            names = ", ".join(f"{migration.app_label}.{migration.name}" for migration, _backwards in pending)
            self.stderr.write(self.style.WARNING(f"Unapplied migrations ({names}): pages may fail; run migrate."))

    def data_sizes(self) -> dict[str, int]:
        tables = {"accounts": "accounts_account", "contacts": "contacts_contact", "activities": "crm_activity",
                  "opportunities": "sales_opportunity", "tickets": "service_ticket"}
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT relname, GREATEST(reltuples, 0)::bigint FROM pg_class WHERE relname = ANY(%s)",
                [list(tables.values())],
            )
            estimates = dict(cursor.fetchall())
        return {name: int(estimates.get(table, 0)) for name, table in tables.items()}

    # --- Measuring -------------------------------------------------------------------

    def request(self, client: Client, page: Page, url: str, secure: bool):
        if not page.post:
            return client.get(url, secure=secure)
        with transaction.atomic():  # the action's writes are undone: every request sees the seeded data
            response = client.post(url, secure=secure)
            transaction.set_rollback(True)
        return response

    def measure_user(self, scope: str, user: User | None, pages: list[Page], repeat: int) -> list[Result]:
        client = Client(raise_request_exception=False)
        if user is not None:
            client.force_login(user)
        return [self.measure(client, page, scope, user, repeat) for page in pages if scope in page.scopes]

    def measure(self, client: Client, page: Page, scope: str, user: User | None, repeat: int) -> Result:
        try:
            url = reverse(page.url_name, args=page.args) if None not in page.args else None
        except NoReverseMatch:
            url = None
        result = Result(page=page.label, user=scope, url=url)
        if url is None:
            result.note = "not available"
            return result
        if user is None:
            result.note = "no such user (run seed)"
            return result
        if page.query:
            url = f"{url}?{page.query}"
            result.url = url
        secure = settings.SECURE_SSL_REDIRECT
        response = self.request(client, page, url, secure)  # warm-up
        result.status = response.status_code
        if response.status_code != page.expect:
            result.note = f"HTTP {response.status_code}"
            if response.exc_info:
                error = response.exc_info[1]
                result.note += f" ({type(error).__name__}: {str(error).splitlines()[0][:80]})"
            result.over_budget.append("status")
            return result
        timings, cpu_times, queries, breakdowns = [], [], 0, []
        for _ in range(repeat):
            with CaptureQueriesContext(connection) as captured, ExitStack() as stack:
                if self.profile:
                    breakdowns.append(stack.enter_context(profiling.measure_request()))
                started, cpu_started = time.perf_counter(), time.process_time()
                response = self.request(client, page, url, secure)
                timings.append((time.perf_counter() - started) * 1000)
                cpu_times.append((time.process_time() - cpu_started) * 1000)
            queries = max(queries, len(captured.captured_queries))
            if response.status_code != page.expect:
                result.status = response.status_code
        result.median_ms = round(statistics.median(timings), 1)
        result.p95_ms = round(percentile(timings, 0.95), 1)
        result.queries = queries
        result.cpu_ms = round(statistics.median(cpu_times), 1)
        if breakdowns:
            result.breakdown = profiling.median_breakdown(breakdowns)
        if result.p95_ms > page.budget_ms:
            result.over_budget.append(f"p95>{page.budget_ms}ms")
        if queries > page.max_queries:
            result.over_budget.append(f"queries>{page.max_queries}")
        return result

    def print_profile(self, results: list[Result]) -> None:
        """Median ms per phase; the queries column counts them in middleware / view / templates."""
        width = max(len(result.page) for result in results)
        header = (f"{'page':<{width}}  {'user':<13}  {'total':>6}  {'SQL':>6}  {'middlew.':>8}  {'view':>6}  "
                  f"{'templ.':>6}  queries mw/view/tpl")
        self.stdout.write("\nWhere the time goes (median ms; Python columns exclude SQL):")
        self.stdout.write(header)
        self.stdout.write("-" * len(header))
        for result in results:
            row = result.breakdown
            if not row:
                continue
            self.stdout.write(
                f"{result.page:<{width}}  {result.user:<13}  {row['total']:>6.1f}  {row['sql']:>6.1f}  "
                f"{row['middleware']:>8.1f}  {row['view']:>6.1f}  {row['templates']:>6.1f}  {row['queries']}")

    def print_table(self, results: list[Result]) -> None:
        width = max(len(result.page) for result in results)
        header = (f"{'page':<{width}}  {'user':<13}  {'median ms':>9}  {'p95 ms':>8}  {'CPU ms':>6}  "
                  f"{'queries':>7}  flags")
        self.stdout.write(header)
        self.stdout.write("-" * len(header))
        for result in results:
            if result.median_ms is None:
                line = f"{result.page:<{width}}  {result.user:<13}  {result.note}"
                style = self.style.WARNING if result.note != "not available" else (lambda text: text)
                self.stdout.write(style(line))
                continue
            flags = " ".join(result.over_budget)
            line = (f"{result.page:<{width}}  {result.user:<13}  {result.median_ms:>9.1f}  {result.p95_ms:>8.1f}  "
                    f"{result.cpu_ms:>6.1f}  {result.queries:>7}  {('OVER BUDGET: ' + flags) if flags else 'ok'}")
            self.stdout.write(self.style.ERROR(line) if flags else line)
        over = sum(1 for result in results if result.over_budget)
        self.stdout.write(f"Budget: p95 <= {LIST_BUDGET_MS} ms for lists and detail pages, <= {SEARCH_BUDGET_MS} ms "
                          f"for search, <= {BOARD_BUDGET_MS} ms for the board, <= {MAX_QUERIES} queries. "
                          f"Rows over budget: {over}.")
