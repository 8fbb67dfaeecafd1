"""The Service, Marketing and Reports section pages: figures read across the modules. The service and
marketing modules replace their pages when they land; reports grows into dashboards (issue 12)."""

from urllib.parse import urlencode

from django.db.models import Count
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.models import Account
from crm import visibility
from reports import pipeline
from reports.forms import PERIODS, PipelineDashboardForm
from sales.models import Opportunity


def _accounts_by(user, field: str, limit: int = 12):
    return list(
        Account.objects.visible_to(user).values(field).annotate(total=Count("id")).order_by("-total")[:limit]
    )


def section_service(request):
    query = request.GET.get("q", "").strip()
    found = None
    if len(query) >= 2:
        found = (
            Account.objects.visible_to(request.user)
            .filter(name__icontains=query)
            .select_related("owner")
            .order_by("name")[:25]
        )
    return render(request, "reports/section_service.html", {"query": query, "found": found})


def section_marketing(request):
    context = {
        "by_industry": _accounts_by(request.user, "industry"),
        "by_country": _accounts_by(request.user, "country"),
    }
    return render(request, "reports/section_marketing.html", context)


def _dashboard_url(**params) -> str:
    return reverse("reports") + "?" + urlencode({name: value for name, value in params.items() if value})


def _chart(buckets: list, currency: str) -> dict:
    """A chart's data for static/reports/dashboard.js: the bars, and where a click on each one leads."""
    return {
        "labels": [bucket.label for bucket in buckets],
        "currency": currency,
        "datasets": [{"label": str(_("Open pipeline")), "values": [float(bucket.amount) for bucket in buckets]},
                     {"label": str(_("Weighted")), "values": [float(bucket.weighted) for bucket in buckets]}],
        "urls": [bucket.url for bucket in buckets],
    }


def section_reports(request):
    """The executive pipeline dashboard: executives see the company, a manager their teams, a rep
    their own deals (the deals' policy); roles that see no deals get 404."""
    visibility.require_read(request.user, Opportunity)
    form = PipelineDashboardForm(request.GET, user=request.user)
    filters = form.filters()
    dashboard = pipeline.build(request.user, filters)
    period = filters.period
    params = {"period": period.kind, "start": period.start.isoformat(), **filters.list_params()}
    context = {
        "form": form,
        "dashboard": dashboard,
        "period": period,
        "current": dashboard.current,
        "previous": dashboard.previous,
        "changes": dashboard.changes,
        "charts": [
            {"id": "pipeline-by-stage", "data_id": "pipeline-by-stage-data", "title": _("Open pipeline by stage"),
             "first_column": _("Stage"), "buckets": dashboard.by_stage,
             "data": _chart(dashboard.by_stage, dashboard.currency)},
            {"id": "pipeline-by-month", "data_id": "pipeline-by-month-data",
             "title": _("Open pipeline by expected close month"), "first_column": _("Month"),
             "buckets": dashboard.by_month, "data": _chart(dashboard.by_month, dashboard.currency)},
        ],
        "previous_url": _dashboard_url(**{**params, "start": period.previous().start.isoformat()}),
        "next_url": _dashboard_url(**{**params, "start": period.next().start.isoformat()}),
        "period_links": [(kind, label, _dashboard_url(**{**params, "period": kind})) for kind, label in PERIODS],
        "filtered": bool(filters.list_params()),
        "clear_url": _dashboard_url(period=period.kind, start=period.start.isoformat()),
    }
    return render(request, "reports/section_reports.html", context)
