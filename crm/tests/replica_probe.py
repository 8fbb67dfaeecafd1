"""Run by test_replica_streaming.py in its own process, with DATABASE_URL on a private primary and
DATABASE_REPLICA_URL on a streaming standby of it (migrated already). Prints one JSON line of findings."""

import json
import os
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
django.setup()

from django.db import connections  # noqa: E402
from django.test import Client  # noqa: E402

from accounts.models import Account  # noqa: E402
from crm import replica  # noqa: E402
from crm.models import Role, User  # noqa: E402


def names() -> list[str]:
    return sorted(Account.objects.values_list("name", flat=True))


def wait_for(condition, seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def main() -> None:
    found: dict = {}
    admin = User.objects.create_user(email="admin@replica.test", password="x", role=Role.ADMIN,  # noqa: S106
                                     is_staff=True, is_superuser=True)
    Account.objects.create(name="Before", owner=admin)
    found["caught_up"] = wait_for(lambda: replica.measure().lag == 0 and Account.objects.using(replica.REPLICA)
                                  .filter(name="Before").exists())
    # Warm up first (sign-in, imports, templates), so that on a busy machine the reads below still come
    # well inside REPLICA_MAX_LAG after the pause.
    client = Client(HTTP_HOST="localhost")
    client.force_login(admin)
    client.get("/reports/builder/?entity=accounts&c=name")
    client.get("/accounts/")
    with connections[replica.REPLICA].cursor() as cursor:
        cursor.execute("SELECT pg_wal_replay_pause()")
    Account.objects.create(name="After", owner=admin)
    replica.forget()
    with replica.replica_reads():
        found["inside_while_fresh"] = names()  # the replica: it has not replayed "After"
        found["written_inside"] = Account.objects.create(name="Written", owner=admin).pk is not None
    found["outside"] = names()  # the primary
    builder = client.get("/reports/builder/?entity=accounts&c=name").content.decode()  # a reports GET view
    found["report_page_from_replica"] = "Before" in builder and "After" not in builder
    found["account_list_from_primary"] = "After" in client.get("/accounts/").content.decode()
    found["stale_seen"] = wait_for(lambda: (replica.measure().lag or 0) > float(os.environ["REPLICA_MAX_LAG"]), 60)
    replica.forget()
    found["stale_status"] = [replica.status().reachable, replica.status().usable]
    with replica.replica_reads():
        found["inside_while_stale"] = names()  # too far behind: the primary

    response = client.get("/admin-tools/background/")
    page = response.content.decode()
    found["page_says_stale"] = "more than the" in page and "s behind the primary" in page
    if not found["page_says_stale"]:
        found["page"] = [response.status_code, response.get("Location"), page[page.find("replica-status"):][:400]]

    with connections[replica.REPLICA].cursor() as cursor:
        cursor.execute("SELECT pg_wal_replay_resume()")
    found["caught_up_again"] = wait_for(lambda: replica.measure().lag == 0)
    replica.forget()
    with replica.replica_reads():
        found["inside_after_resume"] = names()
    # The lag is "now - the last replayed commit" while WAL waits to be replayed, so the first write after an
    # idle spell (this page's own session write) can look old for the moment it takes to replay: poll.
    found["page_says_fresh"] = wait_for(
        lambda: "reports and exports read from it" in client.get("/admin-tools/background/").content.decode())
    print(json.dumps(found))


if __name__ == "__main__":
    main()
