"""Logs with a request id and user id on every line (into the Celery tasks the request starts),
slow-request and slow-query logs, and Prometheus metrics behind a token."""

import io
import json
import logging
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from crm import observability
from crm.models import JobStatus, ScheduledJob
from crm.tasks import scheduler_tick
from crm.tests.celery_helpers import wait_for

TOKEN = "metrics-token-for-tests-0123456789"


@pytest.fixture
def json_log():
    """The JSON lines the console handler of settings.LOGGING would write, for the crm loggers."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(observability.ContextFilter())
    handler.setFormatter(observability.JsonFormatter())
    logger = logging.getLogger("crm")
    logger.addHandler(handler)
    old_level = logger.level
    logger.setLevel(logging.INFO)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)


def test_every_line_of_a_request_carries_its_id_and_the_user(client, owner, settings, json_log):
    settings.SLOW_REQUEST_MS = 0  # every request is "slow": one line per request to look at
    settings.SLOW_QUERY_MS = 0
    client.force_login(owner)
    response = client.get("/")
    request_id = response["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    lines = json_log()
    slow_requests = [line for line in lines if line["message"].startswith("slow request: GET / ")]
    slow_queries = [line for line in lines if line["message"].startswith("slow query: ")]
    assert len(slow_requests) == 1 and slow_queries
    assert {(line["request_id"], line["user_id"]) for line in lines} == {(request_id, str(owner.pk))}
    entry = slow_requests[0]
    assert entry["status"] == response.status_code and entry["queries"] == len(slow_queries)
    assert entry["logger"] == "crm.slow" and entry["level"] == "WARNING"


def test_a_proxys_request_id_is_kept_and_a_strange_one_replaced(client, owner):
    client.force_login(owner)
    assert client.get("/", headers={"X-Request-ID": "edge-4f2a9c1d"})["X-Request-ID"] == "edge-4f2a9c1d"
    replaced = client.get("/", headers={"X-Request-ID": "<script>"})["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", replaced)


def test_fast_requests_are_not_logged(client, owner, settings, json_log):
    settings.SLOW_REQUEST_MS = 60_000
    settings.SLOW_QUERY_MS = 60_000
    client.force_login(owner)
    client.get("/")
    assert json_log() == []


def test_plain_lines_name_the_request_and_user(owner):
    config = observability.logging_config(json_format=False, level="INFO")
    record = logging.LogRecord("crm", logging.INFO, __file__, 1, "hello", (), None)
    tokens = observability.request_id_var.set("r-123"), observability.user_id_var.set(str(owner.pk))
    try:
        observability.ContextFilter().filter(record)
    finally:
        observability.request_id_var.reset(tokens[0])
        observability.user_id_var.reset(tokens[1])
    line = logging.Formatter(config["formatters"]["plain"]["format"]).format(record)
    assert line.endswith(f"INFO crm [request=r-123 user={owner.pk}] hello")


@pytest.mark.worker
@pytest.mark.xdist_group("celery-worker")
@pytest.mark.django_db(transaction=True)
def test_a_task_started_by_a_request_logs_with_that_requests_id(real_worker, owner):
    tokens = observability.request_id_var.set("req-from-the-web-1"), observability.user_id_var.set(str(owner.pk))
    try:
        scheduler_tick.apply_async(queue=real_worker["queue"])
    finally:
        observability.request_id_var.reset(tokens[0])
        observability.user_id_var.reset(tokens[1])
    log = real_worker["var_dir"] / "worker.log"
    marker = f"[request=req-from-the-web-1 user={owner.pk}] task crm.tasks.scheduler_tick success in"
    assert wait_for(lambda: marker in log.read_text()), log.read_text()[-3000:]


# --- /metrics -------------------------------------------------------------------------------


def test_metrics_need_a_token(client, db, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404  # off unless configured
    settings.METRICS_TOKEN = TOKEN
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


def sample(text: str, name: str, **labels) -> float | None:
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            found = dict(re.findall(r'(\w+)="([^"]*)"', line.partition("}")[0]))
            if all(found.get(key) == value for key, value in labels.items()):
                return float(line.rsplit(" ", 1)[1])
    return None


def test_metrics_count_requests_errors_and_show_queues_and_scheduler_lag(client, owner, settings):
    settings.METRICS_TOKEN = TOKEN
    auth = {"Authorization": f"Bearer {TOKEN}"}
    client.force_login(owner)
    before = sample(client.get("/metrics", headers=auth).content.decode(), "crm_http_requests_total",
                    view="home", status="200") or 0
    client.get("/")
    client.get("/")
    assert client.get("/accounts/999999999/").status_code == 404
    ScheduledJob.objects.create(kind="email", run_at=timezone.now() - timedelta(minutes=5), payload={},
                                status=JobStatus.PENDING)
    text = client.get("/metrics", headers=auth).content.decode()
    assert sample(text, "crm_http_requests_total", view="home", status="200") == before + 2
    assert sample(text, "crm_http_requests_total", status="404") >= 1
    assert sample(text, "crm_http_request_duration_seconds_count", view="home") >= 2
    assert sample(text, "crm_celery_queue_length", queue=settings.CELERY_TASK_DEFAULT_QUEUE) is not None
    assert sample(text, "crm_scheduler_due_jobs") == 1
    assert 299 <= sample(text, "crm_scheduler_overdue_seconds") < 400


def test_task_failures_are_counted(db, settings):
    from crm import metrics

    client = metrics._redis()
    client.delete(metrics.TASKS_KEY)

    class Failing:
        name = "crm.tests.failing"

    metrics.on_task_failure(sender=Failing())
    metrics.on_task_failure(sender=Failing())
    text = "".join(line for metric in metrics.ScrapeTimeCollector().collect() for line in
                   [f"{s.name}{s.labels} {s.value}\n" for s in metric.samples])
    assert "crm_celery_tasks_total{'task': 'crm.tests.failing', 'state': 'failed'} 2" in text
    client.delete(metrics.TASKS_KEY)
