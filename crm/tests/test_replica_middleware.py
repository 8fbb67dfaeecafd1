"""ReplicaReadMiddleware (crm/replica.py): reports' GET views read through the replica, nothing else does, and the
flag does not outlive the request. The real standby is in test_replica_streaming.py (slow); this is the fast check."""

import pytest

from crm import replica

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def seen(monkeypatch):
    """Whether each read asked for the replica (the router's answer is not used: the test database has none)."""
    flags: list[bool] = []
    monkeypatch.setattr(replica, "configured", lambda: True)
    original = replica.ReplicaRouter.db_for_read

    def record(self, model, **hints):
        flags.append(replica._reading.get())
        return "default"

    monkeypatch.setattr(replica.ReplicaRouter, "db_for_read", record)
    yield flags
    monkeypatch.setattr(replica.ReplicaRouter, "db_for_read", original)


def test_a_reports_get_reads_through_the_replica_and_the_flag_ends_with_the_request(client, executive, seen):
    client.force_login(executive)
    assert client.get("/reports/builder/?entity=accounts&c=name").status_code == 200
    assert seen and any(seen)
    assert replica._reading.get() is False


def test_other_pages_and_posts_read_the_primary(client, executive, seen):
    client.force_login(executive)
    assert client.get("/accounts/").status_code == 200
    assert seen and not any(seen)
    assert replica._reading.get() is False
