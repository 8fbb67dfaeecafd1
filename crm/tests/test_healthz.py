import json

from django.urls import reverse

from crm import views


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
    assert json.loads(response.content)["down"] == ["redis"]


def test_healthz_ok_when_all_up(client, db, monkeypatch):
    monkeypatch.setitem(views.HEALTH_CHECKS, "worker", lambda: True)
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert json.loads(response.content)["status"] == "ok"
