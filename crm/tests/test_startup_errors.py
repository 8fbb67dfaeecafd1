"""A configuration error or a missing system package stops start-up with one clear sentence, never
a traceback: manage.py, gunicorn and the launcher's preflight, run as real processes."""

import os
import subprocess
import sys

import pytest

import stack
from crm.tests.celery_helpers import database_url
from stack import ROOT, free_port


def run(args, timeout=60, **env):
    base = {key: value for key, value in os.environ.items()
            if key not in {"DJANGO_SETTINGS_MODULE", "SECRET_KEY", "DEBUG"}}
    return subprocess.run(args, cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=timeout,
                          check=False)


def one_sentence(result) -> str:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize(("env", "expected"), [
    ({"DATABASE_URL": "mysql://crm@db/crm", "DEBUG": "1"}, "does not name a PostgreSQL database"),
    ({"DATABASE_URL": "postgres//typo", "DEBUG": "1"}, "is not a PostgreSQL URL"),
    ({"DATABASE_URL": "postgres://crm:secret@db:5432/crm", "REDIS_URL": "localhost:6379", "DEBUG": "1"},
     "is not a Redis URL"),
    ({"DATABASE_URL": "postgres://crm:secret@db:5432/crm", "DEBUG": "0"}, "SECRET_KEY is not set"),
])
def test_manage_py_says_what_is_wrong_in_one_sentence(env, expected):
    message = one_sentence(run([sys.executable, "manage.py", "check"], **{"REDIS_URL": "redis://127.0.0.1:1/0", **env}))
    assert message.startswith("Configuration error: ") and expected in message
    assert "secret@" not in message  # passwords are not repeated on screen


def test_unreachable_services_are_named(django_db_setup):
    from django.db import connection

    dead_port = free_port()
    result = run([sys.executable, "manage.py", "check_services"], DEBUG="1",
                 DATABASE_URL=database_url({**connection.settings_dict, "PORT": dead_port, "HOST": "127.0.0.1"}),
                 REDIS_URL=f"redis://127.0.0.1:{dead_port}/0")
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert [line.split(" cannot be reached")[0] for line in lines] == [
        f"Configuration error: PostgreSQL at 127.0.0.1:{dead_port} (database '{connection.settings_dict['NAME']}')",
        f"Configuration error: Redis at redis://127.0.0.1:{dead_port}/0",
    ]


@pytest.mark.django_db
def test_gunicorn_refuses_to_start_without_redis(settings):
    from django.db import connection

    dead_port = free_port()
    result = run([sys.executable, "-m", "gunicorn", "crm.wsgi", "--config", "python:crm.gunicorn_conf",
                  "--bind", f"127.0.0.1:{free_port()}"], timeout=60, DEBUG="1",
                 DATABASE_URL=database_url(connection.settings_dict), REDIS_URL=f"redis://127.0.0.1:{dead_port}/0",
                 CRM_VAR_DIR=str(settings.VAR_DIR))
    assert result.returncode == 2
    problems = [line for line in result.stderr.splitlines() if line.startswith("Configuration error")]
    assert problems == [line for line in problems if "Redis at" in line] and len(problems) == 1, result.stderr
    assert "Traceback" not in result.stderr


def test_preflight_names_the_package_for_each_missing_need(monkeypatch):
    monkeypatch.setattr(stack, "pango_missing", lambda: True)
    monkeypatch.setattr(stack, "CHROMIUM_CANDIDATES", ["/nonexistent/chromium"])
    monkeypatch.setattr(stack, "redis_server_binary", lambda: None)
    monkeypatch.delenv("CHROMIUM", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    problems = stack.preflight(browser=True)
    assert problems == [stack.NEEDS["pango"], stack.NEEDS["chromium"], stack.NEEDS["redis"]]
    assert "libpango-1.0-0" in problems[0] and "brew install pango" in problems[0]
    assert "apt install chromium" in problems[1] and "brew install --cask chromium" in problems[1]
    assert "apt install redis-server" in problems[2] and "brew install redis" in problems[2]
    # `make run` needs no browser, and a configured REDIS_URL needs no embedded Redis.
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    assert stack.preflight(browser=False) == [stack.NEEDS["pango"]]


def test_this_machine_passes_the_preflight():
    assert stack.preflight(browser=True) == []
    assert stack.redis_server_binary()
