"""Fixtures shared by every app's tests.

The cast (after healthchecks' alice, bob and charlie): `owner` and `teammate` are reps
in one team managed by `manager`; `outsider` is a rep of another team; `executive`,
`support_agent`, `marketer` and `admin_user` hold the other roles.
"""

import os

import pytest

from crm.models import Role
from crm.tests.factories import TeamFactory, UserFactory

PASSWORD = "secret-pass-123"


@pytest.fixture(autouse=True)
def _fresh_lookups():
    """Cached lookup tables (crm/lookups.py) are dropped around each test: a test's rows are
    rolled back (or flushed), and a copy cached from them must not outlive it."""
    from crm import cache_guard, lookups

    cache_guard.reset()  # a test that stopped Redis must not leave the cache switched off for the next
    lookups.forget()
    yield
    cache_guard.reset()
    lookups.forget()


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language: a test (or a page it requested) that activated Russian
    must not leave the next test's labels in Russian on the same worker."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture
def team(db):
    return TeamFactory(name="North Team")


@pytest.fixture
def other_team(db):
    return TeamFactory(name="South Team")


@pytest.fixture
def manager(team):
    user = UserFactory(email="manager@example.com", role=Role.SALES_MANAGER, team=team)
    team.manager = user
    team.save(update_fields=["manager"])
    return user


@pytest.fixture
def owner(team, manager):
    return UserFactory(email="owner@example.com", first_name="Olivia", role=Role.SALES_REP, team=team)


@pytest.fixture
def teammate(team):
    return UserFactory(email="teammate@example.com", role=Role.SALES_REP, team=team)


@pytest.fixture
def outsider(other_team):
    return UserFactory(email="outsider@example.com", role=Role.SALES_REP, team=other_team)


@pytest.fixture
def executive(db):
    return UserFactory(email="exec@example.com", role=Role.EXECUTIVE)


@pytest.fixture
def support_agent(db):
    return UserFactory(email="agent@example.com", role=Role.SUPPORT_AGENT)


@pytest.fixture
def marketer(db):
    return UserFactory(email="marketer@example.com", role=Role.MARKETER)


@pytest.fixture
def admin_user(db):
    return UserFactory(email="admin@example.com", role=Role.ADMIN, is_staff=True)


@pytest.fixture
def cast(owner, teammate, manager, outsider, executive, support_agent, marketer, admin_user):
    return {
        "owner": owner, "teammate": teammate, "manager": manager, "outsider": outsider,
        "executive": executive, "support_agent": support_agent, "marketer": marketer, "admin": admin_user,
    }


@pytest.fixture
def outbox_dir(settings, tmp_path):
    settings.EMAIL_OUTBOX_DIR = tmp_path / "mail"
    return settings.EMAIL_OUTBOX_DIR


def pytest_configure(config):
    # Playwright's sync API runs an event loop in the test thread; Django's ORM refuses to run
    # in such a thread unless told the access is synchronous, which it is here.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


# --- The flush after a transactional test ----------------------------------------------
# After every transaction=True test (live server, browser, worker tests) Django empties the test database with
# one TRUNCATE of every table. PostgreSQL then makes new files for each table, index and TOAST table and
# drops the old ones: 12.6-15.5 s per flush on this busy machine. DELETE FROM each table, with triggers
# (foreign-key checks, history) off for that one transaction, leaves the same empty tables in 0.2-0.3 s
# (docs/testing.md). 313 of the 3,387 tests are transactional, 274 of them in the browser group. Only the
# test run's flush changes. Without the right to set session_replication_role it stays TRUNCATE.
@pytest.fixture(scope="session", autouse=True)
def _flush_by_delete():
    from django.db.backends.postgresql.operations import DatabaseOperations

    truncate = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        if reset_sequences or not tables or not _may_skip_triggers(self.connection):
            return truncate(self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        return ["SET LOCAL session_replication_role = replica",
                " ".join(f"{style.SQL_KEYWORD('DELETE FROM')} {style.SQL_FIELD(self.quote_name(table))};"
                         for table in tables)]

    DatabaseOperations.sql_flush = sql_flush
    yield
    DatabaseOperations.sql_flush = truncate


def _may_skip_triggers(connection) -> bool:
    """As demo/management/commands/seed.py: superuser, or PostgreSQL 15's GRANT SET ON PARAMETER."""
    if getattr(connection, "_test_may_skip_triggers", None) is None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT has_parameter_privilege('session_replication_role', 'SET')")
            connection._test_may_skip_triggers = bool(cursor.fetchone()[0])
    return connection._test_may_skip_triggers


# --- The longest tests start first ----------------------------------------------------
# pytest-xdist (--dist loadgroup) hands out the xdist groups first, largest first, then every other test in
# collection order. A test of a minute or two collected near the end (marketing/ comes late in testpaths)
# starts when the queue is nearly empty and keeps one core busy while the other idles. The files below,
# the slowest single tests by CI's --durations (docs/testing.md), go to the front of the collection
# instead, so they run while the other core works through the browser group. Keep it to a few files.
SLOW_FIRST = (
    "crm/tests/test_api_schemathesis.py",  # 87 s in CI
    "marketing/tests/test_migration.py",  # 134 s in CI before it migrated only what it must
    "crm/tests/test_api_client.py",
    "crm/tests/test_sqlmap.py",  # 32 s
    "crm/tests/test_replica_streaming.py",  # 178 s in CI before, no-db: pytest-django had sorted it last
)


def pytest_collection_modifyitems(config, items):
    root = config.rootpath
    missing = [path for path in SLOW_FIRST if not (root / path).exists()]
    if missing:
        raise pytest.UsageError(f"conftest.py SLOW_FIRST names files that do not exist: {', '.join(missing)}")
    rank = {path: index for index, path in enumerate(SLOW_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(rank)))  # stable: others keep order


# --- Browser tests -------------------------------------------------------------
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")  # stack.py test finds it (macOS, snap ...)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Browser tests need a system Chromium at {CHROMIUM}: `sudo apt install chromium` (Debian/Ubuntu) "
                    "or `brew install --cask chromium` (macOS), or set CHROMIUM to its path.")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-quic"],
        )
        yield chromium
        chromium.close()


# htmx logs a request it cancelled as an error: a live count replaced by a newer one (hx-sync), or one still on its
# way when the person submits the form and the page changes. Nothing failed; a real failure also logs
# htmx:sendError or htmx:responseError and shows in failed_requests.
HTMX_ABORT_LOG = {"htmx:sendAbort", "htmx:afterRequest"}


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda message: message.type == "error" and message.text not in HTMX_ABORT_LOG
            and page.console_errors.append(message.text))
    page.failed_requests = []
    page.on("response", lambda response: response.status >= 400 and page.failed_requests.append(
        f"{response.status} {response.url}"))
    yield page
    context.close()


def sign_in(page, user, password=PASSWORD):
    page.goto("/auth/login/")
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/")


# --- Real Celery workers ----------------------------------------------------------
@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker, tmp_path_factory):
    from django.db import connection

    from crm.tests.celery_helpers import spawn_worker, stop_worker

    worker = spawn_worker(connection.settings_dict, tmp_path_factory.mktemp("worker-var"))
    yield worker
    stop_worker(worker)


@pytest.fixture
def real_worker(celery_worker_process, monkeypatch):
    """A running worker, and tasks sent to the broker instead of run in-process."""
    from crm.celery import app as celery_app

    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)
    return celery_worker_process
