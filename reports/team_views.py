"""The sales manager's dashboard page (reports/team.py computes it)."""

from django.shortcuts import render
from django.utils.translation import gettext as _

from crm import visibility
from reports import pipeline, team
from reports.views import _chrome, _subscribe_form
from sales.models import Opportunity


def _chart(rows: list[team.RepRow], datasets: list[tuple[str, str]], link: str, currency: str = "") -> dict:
    """A per-rep bar chart for static/reports/dashboard.js; a click on a bar opens `link` of the rep's row."""
    return {"labels": [row.label for row in rows], "currency": currency,
            "datasets": [{"label": str(label), "values": [float(getattr(row, name)) for row in rows]}
                         for name, label in datasets],
            "urls": [row.links.get(link, "") for row in rows]}


def team_dashboard(request):
    """Per rep: the pipeline figures, activity, idle deals, overdue tasks, the quarter's forecast against target,
    lost deals by reason and competitor, and discounts; executives see every seller, a manager their teams, a
    rep themselves; roles that read no deals get 404."""
    visibility.require_read(request.user, Opportunity)
    form = team.TeamDashboardForm(request.GET, user=request.user)
    filters = form.filters()
    idle_days = form.idle()
    rates = pipeline.current_rates()
    dashboard = team.build(request.user, filters, idle_days, rates)
    chrome = _chrome("reports_team", filters, **({} if idle_days == team.DEFAULT_IDLE_DAYS
                                                 else {"idle_days": idle_days}))
    chrome["extra_params"] = {}  # idle_days is one of the form's fields
    people = [row for row in dashboard.rows if row.key][:20]
    period = filters.period
    context = {
        "form": form,
        "dashboard": dashboard,
        "rows": dashboard.rows,
        "total": dashboard.total,
        "currency": dashboard.currency,
        "rates": rates,
        "won_chart": _chart(people, [("won_amount", period.label), ("previous_won", period.previous().label)],
                            "won", dashboard.currency),
        "pipeline_chart": _chart(people, [("open_amount", _("Open pipeline")), ("weighted", _("Weighted")),
                                          ("created_amount", _("New pipeline"))], "open", dashboard.currency),
        "activity_chart": _chart(people, [("calls", _("Calls")), ("meetings", _("Meetings")),
                                          ("tasks_done", _("Tasks done"))], "calls"),
        "attention_chart": _chart(people, [("idle", _("Idle deals")), ("overdue", _("Overdue tasks"))], "idle"),
        "reasons_chart": {"labels": [row.label for row in dashboard.reasons if row.count or row.previous_count],
                          "currency": "",
                          "datasets": [{"label": period.label, "values": [row.count for row in dashboard.reasons
                                                                          if row.count or row.previous_count]},
                                       {"label": period.previous().label,
                                        "values": [row.previous_count for row in dashboard.reasons
                                                   if row.count or row.previous_count]}],
                          "urls": [row.url for row in dashboard.reasons if row.count or row.previous_count]},
        "has_reasons": any(row.count or row.previous_count for row in dashboard.reasons),
        "competitors_chart": {"labels": [row.label for row in dashboard.competitors], "currency": "",
                              "horizontal": True,
                              "datasets": [{"label": str(_("Deals lost")),
                                            "values": [row.count for row in dashboard.competitors]}],
                              "urls": [row.url for row in dashboard.competitors]},
        "subscribe_form": _subscribe_form(request, "team"),
        **chrome,
    }
    return render(request, "reports/team.html", context)
