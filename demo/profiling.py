"""Where a request's server time goes: `manage.py bench --profile` splits each timed request into

- SQL: time spent in the database driver (every `cursor.execute`, wherever it runs);
- middleware: Python outside the view, i.e. the middleware stack (sessions, authentication, CSP,
  audit context, ...) and Django's request/response handling;
- view: Python in the view and the middleware's process_view hooks, templates excluded;
- templates: Python while a template renders (lazy querysets evaluated in a template count as SQL).

The split is measured with wall clocks around Django's own entry points (the handler's
`_get_response`, the outermost `Template.render`, a database execute wrapper), so it costs a few
microseconds per call and needs no profiler.
"""

from __future__ import annotations

import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field

from django.core.handlers import base as handler_base
from django.db import connection
from django.template import base as template_base

PHASES = ("middleware", "view", "templates")


@dataclass
class Breakdown:
    """Milliseconds per phase for one request; `sql` and `queries` are split by phase too."""

    total: float = 0.0
    python: dict[str, float] = field(default_factory=lambda: dict.fromkeys(PHASES, 0.0))
    sql: dict[str, float] = field(default_factory=lambda: dict.fromkeys(PHASES, 0.0))
    queries: dict[str, int] = field(default_factory=lambda: dict.fromkeys(PHASES, 0))

    @property
    def sql_total(self) -> float:
        return sum(self.sql.values())


class _Recorder:
    def __init__(self):
        self.phase = "middleware"
        self.template_depth = 0
        self.spent = dict.fromkeys(PHASES, 0.0)  # wall time per phase, SQL included
        self.breakdown = Breakdown()
        self.phase_started = 0.0

    def switch(self, phase: str) -> None:
        now = time.perf_counter()
        self.spent[self.phase] += now - self.phase_started
        self.phase, self.phase_started = phase, now

    def execute(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.breakdown.sql[self.phase] += (time.perf_counter() - started) * 1000
            self.breakdown.queries[self.phase] += 1


_current: _Recorder | None = None


@contextmanager
def instrumented():
    """Installs the clocks for the duration of a bench run (patches undone afterwards)."""
    original_get_response = handler_base.BaseHandler._get_response
    original_render = template_base.Template.render

    def get_response(self, request):
        recorder = _current
        if recorder is None:
            return original_get_response(self, request)
        recorder.switch("view")
        try:
            return original_get_response(self, request)
        finally:
            recorder.switch("middleware")

    def render(self, context):
        recorder = _current
        if recorder is None:
            return original_render(self, context)
        recorder.template_depth += 1
        outer_phase = recorder.phase
        if recorder.template_depth == 1:
            recorder.switch("templates")
        try:
            return original_render(self, context)
        finally:
            recorder.template_depth -= 1
            if recorder.template_depth == 0:
                recorder.switch(outer_phase)

    handler_base.BaseHandler._get_response = get_response  # type: ignore[method-assign]
    template_base.Template.render = render  # type: ignore[method-assign]
    try:
        yield
    finally:
        handler_base.BaseHandler._get_response = original_get_response  # type: ignore[method-assign]
        template_base.Template.render = original_render  # type: ignore[method-assign]


@contextmanager
def measure_request():
    """Around one request (inside `instrumented()`): yields the Breakdown, filled in on exit."""
    global _current
    recorder = _Recorder()
    with ExitStack() as stack:
        stack.enter_context(connection.execute_wrapper(recorder.execute))
        _current = recorder
        started = recorder.phase_started = time.perf_counter()
        try:
            yield recorder.breakdown
        finally:
            recorder.switch("middleware")
            _current = None
            breakdown = recorder.breakdown
            breakdown.total = (time.perf_counter() - started) * 1000
            for phase in PHASES:
                breakdown.python[phase] = recorder.spent[phase] * 1000 - breakdown.sql[phase]


def median_breakdown(samples: list[Breakdown]) -> dict[str, float]:
    """Per-phase medians over the timed requests (each column on its own)."""
    import statistics

    def med(values):
        return round(statistics.median(values), 1)

    row = {"total": med([s.total for s in samples]), "sql": med([s.sql_total for s in samples])}
    for phase in PHASES:
        row[phase] = med([s.python[phase] for s in samples])
    row["queries"] = " / ".join(str(samples[-1].queries[phase]) for phase in PHASES)
    return row
