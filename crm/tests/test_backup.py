"""Backup and restore with the real tools: the demo data is backed up with `manage.py backup`,
restored with `manage.py restore` (another process, as an operator would run it) into a new
database, and compared there table by table, with checksums of the key tables."""

import json
import os
import subprocess
import sys
from io import StringIO

import psycopg2
import pytest
from django.core.management import call_command
from django.db import connection

from crm import backup as backup_module
from crm.tests.celery_helpers import database_url
from stack import ROOT

pytestmark = pytest.mark.xdist_group("backup")


def connect(name: str):
    db = connection.settings_dict
    params = {"dbname": name, "user": db["USER"], "password": db["PASSWORD"], "host": db["HOST"], "port": db["PORT"]}
    return psycopg2.connect(**{key: value for key, value in params.items() if value})


def facts(name: str) -> tuple[dict[str, int], dict[str, str]]:
    """Computed here, not by the code under test: row counts and an md5 of each key table."""
    with connect(name) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        counts = {}
        for (table,) in cursor.fetchall():
            cursor.execute(f'SELECT count(*) FROM "{table}"')  # noqa: S608 # nosec B608
            counts[table] = cursor.fetchone()[0]
        sums = {}
        for table in ("crm_user", "accounts_account", "contacts_contact", "sales_opportunity", "crm_activity",
                      "service_ticket"):
            cursor.execute(f'SELECT md5(string_agg(t::text, \',\' ORDER BY t.id)) FROM "{table}" t')  # noqa: S608 # nosec B608
            sums[table] = cursor.fetchone()[0]
    conn.close()
    return counts, sums


@pytest.fixture
def empty_database():
    name = f"{connection.settings_dict['NAME']}_restored"
    admin = connect("postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def manage(database: str, var, *args: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    env.update({"DATABASE_URL": database_url({**connection.settings_dict, "NAME": database}),
                "CRM_VAR_DIR": str(var), "DEBUG": "1"})
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300, check=False)


@pytest.mark.django_db(transaction=True)
def test_backup_of_the_demo_data_restores_elsewhere_identically(tmp_path, settings, empty_database):
    settings.MEDIA_ROOT = tmp_path / "var" / "media"
    settings.EMAIL_OUTBOX_DIR = tmp_path / "var" / "mail"
    settings.SERVICE_MAILDIR = tmp_path / "var" / "support-mailbox"
    call_command("seed_demo", stdout=StringIO())
    (settings.MEDIA_ROOT / "company").mkdir(parents=True)
    (settings.MEDIA_ROOT / "company" / "logo.png").write_bytes(b"\x89PNG logo bytes")
    source = connection.settings_dict["NAME"]

    out = StringIO()
    call_command("backup", output=str(tmp_path / "backup"), stdout=out)
    folder = tmp_path / "backup"
    assert sorted(path.name for path in folder.iterdir()) == ["database.dump", "files.tar.gz", "manifest.json"]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["row_counts"]["contacts_contact"] > 0 and manifest["files"]["media"] == 1
    assert set(manifest["checksums"]) == {"crm_user", "crm_team", "accounts_account", "contacts_contact",
                                          "contacts_lead", "sales_opportunity", "crm_activity", "service_ticket"}

    restored_var = tmp_path / "restored-var"
    result = manage(empty_database, restored_var, "restore", str(folder))
    assert result.returncode == 0, result.stderr
    assert "row counts and the checksums of" in result.stdout

    source_counts, source_sums = facts(source)
    restored_counts, restored_sums = facts(empty_database)
    assert restored_counts == source_counts
    assert sum(restored_counts.values()) > 1000
    assert restored_sums == source_sums and all(source_sums.values())
    assert (restored_var / "media" / "company" / "logo.png").read_bytes() == b"\x89PNG logo bytes"

    # Never over existing data: a second restore into the same database is refused, in one sentence.
    again = manage(empty_database, restored_var, "restore", str(folder))
    assert again.returncode != 0
    assert "is not empty" in again.stderr and "Traceback" not in again.stderr
    assert facts(empty_database)[0] == source_counts

    # The restore checks itself: a manifest that does not match what was restored fails it.
    with connect(empty_database) as conn, conn.cursor() as cursor:
        actual = backup_module.fingerprint(cursor)
    conn.close()
    assert backup_module.differences(manifest, actual) == []
    tampered = {**manifest, "checksums": {**manifest["checksums"], "contacts_contact": "0" * 32}}
    assert backup_module.differences(tampered, actual) == ["contacts_contact: checksum differs"]
