import json
import os
import signal
import socket
import subprocess
import threading
import time

import pytest
from django.test import Client
from django.urls import reverse

from crm import views
from stack import free_port, redis_server_binary


def test_healthz_is_public_and_names_what_is_down(client, db, monkeypatch):
    monkeypatch.setitem(views.HEALTH_CHECKS, "worker", lambda: False)
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    body = json.loads(response.content)
    assert body["down"] == ["worker"]
    assert body["checks"] == {"database": "ok", "redis": "ok", "worker": "down"}


def test_healthz_reports_a_failing_check_as_down(client, db, monkeypatch):
    def broken():
        raise ConnectionError("no route")

    monkeypatch.setitem(views.HEALTH_CHECKS, "redis", broken)
    monkeypatch.setitem(views.HEALTH_CHECKS, "worker", lambda: True)
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    # Workers are reached through Redis: with Redis down they are reported down, not pinged.
    assert json.loads(response.content)["down"] == ["redis", "worker"]


def test_healthz_ok_when_all_up(client, db, monkeypatch):
    monkeypatch.setitem(views.HEALTH_CHECKS, "worker", lambda: True)
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert json.loads(response.content)["status"] == "ok"


@pytest.fixture
def stalled_redis(settings):
    """A real Redis of our own (the embedded one's binary), then paused with SIGSTOP: it accepts
    connections but never answers, the way a hung server does."""
    port = free_port()
    server = subprocess.Popen([redis_server_binary(), "--bind", "127.0.0.1", "--port", str(port),
                               "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL)
    try:
        for _ in range(50):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": f"redis://127.0.0.1:{port}/0"}}
        os.kill(server.pid, signal.SIGSTOP)
        yield
    finally:
        os.kill(server.pid, signal.SIGCONT)
        server.terminate()
        server.wait(timeout=10)


def test_a_stalled_redis_gives_a_fast_clear_answer(client, db, owner, stalled_redis):
    # In a thread, so that a health check that hangs fails this test instead of hanging the suite.
    answers = []
    probe = threading.Thread(target=lambda: answers.append(Client().get(reverse("healthz"))), daemon=True)
    started = time.monotonic()
    probe.start()
    probe.join(timeout=5)
    assert answers, "/healthz did not answer within 5 s with Redis stalled"
    assert time.monotonic() - started < 3
    assert answers[0].status_code == 503 and "redis" in json.loads(answers[0].content)["down"]
    # Pages that do not need Redis keep working.
    client.force_login(owner)
    started = time.monotonic()
    assert client.get(reverse("accounts:list")).status_code == 200
    assert time.monotonic() - started < 2


def test_sessions_and_sign_in_work_while_redis_is_stalled(client, db, owner, stalled_redis):
    """Sessions are cached in Redis (crm/sessions.py) but PostgreSQL is the record: with Redis hung,
    signing in, reading pages and signing out still work, and only the first cache call waits."""
    from conftest import PASSWORD

    started = time.monotonic()
    assert client.post(reverse("login"), {"username": owner.email, "password": PASSWORD}).status_code == 302
    assert client.get(reverse("contacts:list")).status_code == 200
    assert client.get(reverse("accounts:list")).status_code == 200
    assert time.monotonic() - started < 4  # one timed-out call (1 s), then the cache is skipped
    client.post(reverse("logout"))
    assert client.get(reverse("home")).status_code == 302


def test_sign_out_everywhere_refuses_while_redis_cannot_forget_the_sessions(client, db, owner, monkeypatch):
    """A cached copy left behind would sign the device back in when Redis answers again: nothing is
    ended (and the error says so) rather than half of it."""
    from django.contrib.sessions.models import Session
    from django.core.cache import caches
    from redis.exceptions import ConnectionError as RedisConnectionError

    from crm.models import UserSession

    client.force_login(owner)

    def down(*args, **kwargs):
        raise RedisConnectionError("Redis is down")

    monkeypatch.setattr(caches["default"], "delete_many", down)
    with pytest.raises(RedisConnectionError):
        UserSession.end_all_for(owner)
    assert Session.objects.filter(session_key=client.session.session_key).exists()
    assert UserSession.objects.filter(user=owner).exists()
