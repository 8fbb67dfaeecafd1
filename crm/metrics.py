"""Prometheus metrics at /metrics (prometheus-client), for a scraper that sends
`Authorization: Bearer <METRICS_TOKEN>`. Without METRICS_TOKEN the page does not exist (404).

    crm_http_requests_total{method,view,status}       requests answered, by route name
    crm_http_request_duration_seconds{method,view}     latency histogram
    crm_http_exceptions_total{view}                    views that raised (answered 500)
    crm_celery_queue_length{queue}                     messages waiting in each Celery queue (Redis)
    crm_celery_tasks_total{task,state}                 tasks finished, state succeeded / failed / retried
    crm_scheduler_tick_age_seconds                     time since the scheduler tick last ran (beat → worker)
    crm_scheduler_overdue_seconds                      how late the oldest due scheduled job is
    crm_scheduler_due_jobs                             due jobs not yet run

HTTP metrics live in each web process; with several gunicorn processes set PROMETHEUS_MULTIPROC_DIR
(`make run` uses var/run/prometheus) so that a scrape adds them up. Task counts live in Redis, so
they add up over every worker on every machine; queue lengths and scheduler lag are read at scrape time.
"""

import hmac
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from crm.queues import all_queues

# Observability is an outer layer: it reads the scheduler's table, it does not change it.
REQUESTS = Counter("crm_http_requests", "HTTP requests answered", ["method", "view", "status"])
LATENCY = Histogram("crm_http_request_duration_seconds", "Time to answer an HTTP request", ["method", "view"],
                    buckets=(0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 2, 5, 10))
EXCEPTIONS = Counter("crm_http_exceptions", "Views that raised an exception", ["view"])

TASKS_KEY = "crm:metrics:tasks"  # a Redis hash "<task>|<state>" -> count
TICK_KEY = "crm:metrics:scheduler-tick"  # when the scheduler tick last finished (epoch seconds)
TICK_TASK = "crm.tasks.scheduler_tick"


def _redis() -> Any:  # redis.Redis; Any: its stubs are generic over the response type
    import redis

    return redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)


def metrics_middleware(
    get_response: Callable[[HttpRequest], HttpResponse],
) -> Callable[[HttpRequest], HttpResponse]:
    def middleware(request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = get_response(request)
        match = getattr(request, "resolver_match", None)
        view = (match.view_name or "other") if match else "unmatched"
        LATENCY.labels(request.method, view).observe(time.perf_counter() - started)
        REQUESTS.labels(request.method, view, str(response.status_code)).inc()
        return response

    def process_exception(request: HttpRequest, exception: Exception) -> None:
        match = getattr(request, "resolver_match", None)
        EXCEPTIONS.labels((match.view_name or "other") if match else "unmatched").inc()

    middleware.process_exception = process_exception  # type: ignore[attr-defined]
    return middleware


# --- Celery: counted in Redis by the worker ---------------------------------------------


def _count_task(task_name: str, state: str) -> None:
    try:
        _redis().hincrby(TASKS_KEY, f"{task_name}|{state}", 1)
    except Exception:  # noqa: BLE001, S110 - metrics never break a task
        pass


def on_task_success(sender: Any = None, **kwargs: Any) -> None:
    name = getattr(sender, "name", "unknown")
    _count_task(name, "succeeded")
    if name == TICK_TASK:
        try:
            _redis().set(TICK_KEY, str(time.time()))
        except Exception:  # noqa: BLE001, S110
            pass


def on_task_failure(sender: Any = None, **kwargs: Any) -> None:
    _count_task(getattr(sender, "name", "unknown"), "failed")


def on_task_retry(sender: Any = None, **kwargs: Any) -> None:
    _count_task(getattr(sender, "name", "unknown"), "retried")


def connect_celery_signals() -> None:
    from celery import signals  # type: ignore[import-untyped]

    signals.task_success.connect(on_task_success, weak=False)
    signals.task_failure.connect(on_task_failure, weak=False)
    signals.task_retry.connect(on_task_retry, weak=False)


class ScrapeTimeCollector(Collector):
    """Read when scraped: queue lengths and task counts from Redis, scheduler lag from the database."""

    def collect(self) -> Iterator[Metric]:
        queues = GaugeMetricFamily("crm_celery_queue_length", "Messages waiting in a Celery queue", labels=["queue"])
        tasks = CounterMetricFamily("crm_celery_tasks", "Celery tasks finished", labels=["task", "state"])
        tick = GaugeMetricFamily("crm_scheduler_tick_age_seconds", "Seconds since the scheduler tick last ran")
        try:
            client = _redis()
            for queue in sorted(queue_names()):
                queues.add_metric([queue], client.llen(queue))
            for key, count in sorted(client.hgetall(TASKS_KEY).items()):
                task, _, state = key.decode().partition("|")
                tasks.add_metric([task, state], int(count))
            if last := client.get(TICK_KEY):
                tick.add_metric([], max(0.0, time.time() - float(last)))
        except Exception:  # noqa: BLE001, S110 - Redis down: /healthz says so; the rest is still scraped
            pass
        yield queues
        yield tasks
        yield tick
        yield from self._scheduler()

    def _scheduler(self) -> Iterator[Metric]:
        from django.db.models import Min
        from django.utils import timezone

        from crm.models import JobStatus, ScheduledJob

        now = timezone.now()
        due = ScheduledJob.objects.filter(status=JobStatus.PENDING, run_at__lte=now)
        stats = due.aggregate(oldest=Min("run_at"))
        overdue = GaugeMetricFamily("crm_scheduler_overdue_seconds", "How late the oldest due scheduled job is")
        overdue.add_metric([], (now - stats["oldest"]).total_seconds() if stats["oldest"] else 0.0)
        count = GaugeMetricFamily("crm_scheduler_due_jobs", "Scheduled jobs that are due and not yet run")
        count.add_metric([], due.count())
        yield overdue
        yield count


def queue_names() -> set[str]:
    names = set(all_queues(settings.CELERY_TASK_DEFAULT_QUEUE))
    names.update(getattr(settings, "CELERY_METRICS_QUEUES", []))
    return names


def registry() -> CollectorRegistry:
    reg = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(reg)  # type: ignore[no-untyped-call]
    else:
        for metric in (REQUESTS, LATENCY, EXCEPTIONS):
            reg.register(metric)
    reg.register(ScrapeTimeCollector())
    return reg


@never_cache
def metrics_view(request: HttpRequest) -> HttpResponse:
    token = settings.METRICS_TOKEN
    if not token:
        raise Http404
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(given.encode(), token.encode()):
        return HttpResponse("A valid metrics token is needed (Authorization: Bearer ...).\n", status=401,
                            content_type="text/plain", headers={"WWW-Authenticate": "Bearer"})
    return HttpResponse(generate_latest(registry()), content_type="text/plain; version=0.0.4; charset=utf-8")
