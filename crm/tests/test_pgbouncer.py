"""The CRM behind a real PgBouncer in transaction mode (docs/scaling.md): two server connections
shared by four clients, so anything that relied on a session (a named cursor held across
transactions, a session-level setting) would break or leak between them. Without
PGBOUNCER_TRANSACTION_MODE=1 this test fails: every reader loses its cursor
('cursor "_django_curs_…" does not exist')."""

import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest
from django.db import connection

from contacts.tests.factories import ContactFactory
from crm.tests.celery_helpers import database_url
from stack import ROOT, free_port, wait_for_port

pytestmark = pytest.mark.xdist_group("pgbouncer")

PGBOUNCER = shutil.which("pgbouncer") or ("/usr/sbin/pgbouncer" if os.access("/usr/sbin/pgbouncer", os.X_OK) else None)


@pytest.fixture
def pgbouncer():
    if PGBOUNCER is None:
        pytest.skip("pgbouncer is not installed (apt install pgbouncer; .ci/run installs it)")
    db = connection.settings_dict
    port = free_port()
    # Its own folder, which the unprivileged user PgBouncer switches to (it refuses root) can write.
    tmp_path = Path(tempfile.mkdtemp(prefix="crm-pgbouncer-"))
    user = []
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        os.chown(tmp_path, nobody.pw_uid, nobody.pw_gid)
        user = ["-u", "nobody"]
    (tmp_path / "users.txt").write_text(f'"{db["USER"]}" "{db["PASSWORD"] or ""}"\n')
    (tmp_path / "pgbouncer.ini").write_text(textwrap.dedent(f"""\
        [databases]
        * = host={db["HOST"] or "127.0.0.1"} port={db["PORT"] or 5432}
        [pgbouncer]
        listen_addr = 127.0.0.1
        listen_port = {port}
        unix_socket_dir =
        auth_type = trust
        auth_file = {tmp_path / "users.txt"}
        pool_mode = transaction
        default_pool_size = 2
        max_client_conn = 20
        ignore_startup_parameters = extra_float_digits,options
        logfile = {tmp_path / "pgbouncer.log"}
        pidfile = {tmp_path / "pgbouncer.pid"}
        """))
    output = open(tmp_path / "output.txt", "w")  # noqa: SIM115 - closed below
    process = subprocess.Popen([PGBOUNCER, *user, str(tmp_path / "pgbouncer.ini")], stdout=output,
                               stderr=subprocess.STDOUT)
    try:
        assert wait_for_port(port, 10), (tmp_path / "output.txt").read_text()
        yield database_url({**db, "HOST": "127.0.0.1", "PORT": port})
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)
        output.close()
        shutil.rmtree(tmp_path, ignore_errors=True)


# Four threads, four Django connections, two server connections behind PgBouncer: each reads a large
# queryset with .iterator() (a named cursor unless server-side cursors are off) while the other
# writes with an audit context (a transaction-local set_config), interleaved.
SCRIPT = """
import threading
import pghistory
from contacts.models import Contact
from django.db import connection, transaction

assert connection.settings_dict["DISABLE_SERVER_SIDE_CURSORS"] is True
counts, errors = {}, []

def read_and_write(name):
    try:
        seen = 0
        for contact in Contact.objects.order_by("pk").iterator(chunk_size=3):
            seen += 1
            with transaction.atomic(), pghistory.context(source=name):
                Contact.objects.filter(pk=contact.pk).update(department=name)
        counts[name] = seen
    except Exception as exc:
        errors.append(f"{name}: {type(exc).__name__}: {exc}")
    finally:
        connection.close()

threads = [threading.Thread(target=read_and_write, args=(name,)) for name in ("first", "second", "third", "fourth")]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print("ERRORS", errors)
print("COUNTS", sorted(counts.values()))
"""


@pytest.mark.django_db(transaction=True)
def test_the_crm_works_through_pgbouncer_in_transaction_mode(pgbouncer, owner):
    contacts = ContactFactory.create_batch(20, owner=owner)
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    env.update({"DATABASE_URL": pgbouncer, "PGBOUNCER_TRANSACTION_MODE": "1", "DEBUG": "1"})
    result = subprocess.run([sys.executable, "manage.py", "shell", "-c", SCRIPT], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert "ERRORS []" in result.stdout, result.stdout + result.stderr
    assert "COUNTS [20, 20, 20, 20]" in result.stdout, result.stdout
    # Every update was audited with the context of the thread that made it, none with the other's.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT e.department, c.metadata->>'source', count(*) FROM contacts_contactevent e "
            "JOIN pghistory_context c ON c.id = e.pgh_context_id WHERE e.pgh_label = 'update' "
            "AND e.pgh_obj_id = ANY(%s) GROUP BY 1, 2 ORDER BY 1, 2",
            [[contact.pk for contact in contacts]],
        )
        rows = cursor.fetchall()
    assert rows and all(title == source for title, source, _count in rows), rows
    assert sum(count for *_, count in rows) == 80

    checked = subprocess.run([sys.executable, "manage.py", "check_services"], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=60, check=False)
    assert checked.returncode == 0, checked.stderr
