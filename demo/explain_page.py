"""EXPLAIN (ANALYZE, BUFFERS) of every statement one page sends, as one user (docs/benchmarks.md, issue 16).

    PAGE_USER=manager1@seed.crm PAGE_URL="/search/?q=Smith" [MATCH=service_ticket] [VERBOSE=1] \\
        DEBUG=1 DATABASE_URL=… REDIS_URL=… .venv/bin/python manage.py shell < demo/explain_page.py

The page is requested twice through the test client (the first warms the session and the caches); each statement of
the second request is explained twice and the second plan is printed (its execution time, or the whole plan with
VERBOSE=1). MATCH keeps only the statements that contain it. Statements are only read, never changed: SELECTs only.
"""

import os

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings

from crm.models import User

override_settings(ALLOWED_HOSTS=["*"]).enable()
client = Client()
client.force_login(User.objects.get(email=os.environ["PAGE_USER"]))
url = os.environ["PAGE_URL"]
client.get(url)
with CaptureQueriesContext(connection) as captured:
    response = client.get(url)
print("status", response.status_code, "queries", len(captured.captured_queries))
for query in captured.captured_queries:
    sql = query["sql"]
    if os.environ.get("MATCH", "") not in sql:
        continue
    if sql.startswith("SELECT set_config('pghistory"):  # the audit context rides in front of the statement
        sql = sql.split(";", 1)[1]
    if not sql.strip().upper().startswith(("SELECT", "WITH")):
        continue
    with connection.cursor() as cursor:
        for _run in range(2):
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            plan = [row[0] for row in cursor.fetchall()]
    print(f"--- {query['time']}s  {plan[-1]}  | {sql[:160]}")
    if os.environ.get("VERBOSE"):
        print("\n".join(plan))
