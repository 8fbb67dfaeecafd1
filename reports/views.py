"""The Service and Reports section pages: figures read across the modules. The service module
replaces its page when it lands (marketing has its own overview); reports grows into dashboards (issue 12)."""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.db.models import Count
from django.http import Http404, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Account
from crm import visibility
from marketing.models import Campaign
from reports import (
    analysis,
    builder_views,
    customers,
    marketing_figures,
    pipeline,
    ranking,
    scheduling,
    service_figures,
    sources,
    subscribable,
)
from reports.forms import PERIODS, CustomersFilterForm, PeriodForm, PipelineDashboardForm, SubscribeForm
from reports.models import ReportSubscription
from sales.models import Invoice, Lead, Opportunity
from service.models import Ticket


def _accounts_by(user, field: str, limit: int = 12):
    return list(
        Account.objects.visible_to(user).values(field).annotate(total=Count("id")).order_by("-total")[:limit]
    )




def _page_url(url_name: str, **params) -> str:
    return reverse(url_name) + "?" + urlencode({name: value for name, value in params.items() if value})


def _subscribe_form(request, dashboard: str) -> SubscribeForm:
    """The "E-mail me this dashboard" form under each dashboard (reports/subscribable.py)."""
    return SubscribeForm(initial={"query": request.GET.urlencode(), "dashboard": dashboard})


def _dashboard_url(**params) -> str:
    return _page_url("reports", **params)


def _chart(buckets: list, currency: str) -> dict:
    """A chart's data for static/reports/dashboard.js: the bars, and where a click on each one leads."""
    return {
        "labels": [bucket.label for bucket in buckets],
        "currency": currency,
        "datasets": [{"label": str(_("Open pipeline")), "values": [float(bucket.amount) for bucket in buckets]},
                     {"label": str(_("Weighted")), "values": [float(bucket.weighted) for bucket in buckets]}],
        "urls": [bucket.url for bucket in buckets],
    }


def _chrome(url_name: str, filters: pipeline.Filters, **extra) -> dict:
    """The period picker and filter links shared by the report pages (`extra`: the page's own parameters)."""
    period = filters.period
    params = {"period": period.kind, "start": period.start.isoformat(), **filters.list_params(), **extra}
    return {
        "period": period,
        "page_url": reverse(url_name),
        "extra_params": extra,
        "previous_url": _page_url(url_name, **{**params, "start": period.previous().start.isoformat()}),
        "next_url": _page_url(url_name, **{**params, "start": period.next().start.isoformat()}),
        "period_links": [(kind, label, _page_url(url_name, **{**params, "period": kind})) for kind, label in PERIODS],
        "filtered": bool(filters.list_params()),
        "clear_url": _page_url(url_name, period=period.kind, start=period.start.isoformat(), **extra),
        "tabs": [("reports", _("Pipeline dashboard"), _page_url("reports", **{**params, **dict.fromkeys(extra)})),
                 ("reports_analysis", _("Sales analysis"), _page_url("reports_analysis", **params)),
                 ("reports_team", _("Sales team"), _page_url("reports_team", period=period.kind,
                                                             start=period.start.isoformat(),
                                                             **{name: value for name, value in filters.list_params()
                                                                .items() if name in ("team", "owner")})),
                 ("reports_customers", _("Customers"), reverse("reports_customers")),
                 ("reports_sources", _("Lead sources"), _page_url("reports_sources", period=period.kind,
                                                                  start=period.start.isoformat())),
                 ("reports_service", _("Service"), _page_url("reports_service", period=period.kind,
                                                            start=period.start.isoformat())),
                 ("reports_marketing", _("Marketing"), _page_url("reports_marketing", period=period.kind,
                                                                start=period.start.isoformat())),
                 ("report_builder", _("Report builder"), reverse("report_builder")),
                 ("saved_reports", _("Saved reports"), reverse("saved_reports"))],
        "tab": url_name,
        "nav_section": "reports",
    }


def section_reports(request):
    """The executive pipeline dashboard: executives see the company, a manager their teams, a rep
    their own deals (the deals' policy); roles that see no deals get 404."""
    visibility.require_read(request.user, Opportunity)
    form = PipelineDashboardForm(request.GET, user=request.user)
    filters = form.filters()
    dashboard = pipeline.build(request.user, filters)
    context = {
        "form": form,
        "dashboard": dashboard,
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
        "subscribe_form": _subscribe_form(request, "pipeline"),
        **_chrome("reports", filters),
    }
    return render(request, "reports/section_reports.html", context)


def sales_analysis(request):
    """The dashboard's period figures by owner, team, territory, industry, lead source or pipeline, and
    the lost deals by reason; same filters, visibility and drill-down as the dashboard."""
    visibility.require_read(request.user, Opportunity)
    form = PipelineDashboardForm(request.GET, user=request.user)
    filters = form.filters()
    dimension = request.GET.get("by", "")
    if dimension not in analysis.DIMENSIONS:
        dimension = "team" if visibility.read_scope(request.user, Opportunity) == visibility.Scope.ALL else "owner"
    rates = pipeline.current_rates()
    result = analysis.breakdown(request.user, filters, dimension, rates)
    reasons = analysis.lost_reasons(request.user, filters, rates)
    funnel = analysis.funnel(request.user, filters, rates)
    families = analysis.product_families(request.user, filters, rates)
    charted = [row for row in result.rows if row.depth == 0][:15]
    chrome = _chrome("reports_analysis", filters, by=dimension)
    context = {
        "form": form,
        "breakdown": result,
        "reasons": reasons,
        "currency": settings.DEFAULT_CURRENCY,
        "rates": rates,
        "dimension_label": analysis.DIMENSIONS[dimension],
        "dimension_links": [(key, label, _page_url("reports_analysis", **{
            "period": filters.period.kind, "start": filters.period.start.isoformat(), **filters.list_params(),
            "by": key})) for key, label in analysis.DIMENSIONS.items()],
        "breakdown_chart": {
            "labels": [row.label for row in charted], "currency": settings.DEFAULT_CURRENCY,
            "datasets": [{"label": filters.period.label, "values": [float(row.won_amount) for row in charted]},
                         {"label": filters.period.previous().label,
                          "values": [float(row.previous_won) for row in charted]}],
            "urls": [row.links.get("won", "") for row in charted],
        },
        "funnel": funnel,
        "families": families,
        "subscribe_form": _subscribe_form(request, "analysis"),
        "families_chart": {
            "labels": [row.label for row in families[:15]], "currency": settings.DEFAULT_CURRENCY,
            "datasets": [{"label": filters.period.label, "values": [float(row.amount) for row in families[:15]]},
                         {"label": filters.period.previous().label,
                          "values": [float(row.previous_amount) for row in families[:15]]}],
            "urls": [row.url for row in families[:15]],
        },
        "funnel_chart": {
            "labels": [str(step.stage) for step in funnel.steps] + [str(_("Won"))], "currency": "", "horizontal": True,
            "datasets": [{"label": str(_("Deals")), "values": [step.reached for step in funnel.steps] + [funnel.won]}],
            "urls": [step.url for step in funnel.steps] + [funnel.won_url],
        },
        "reasons_chart": {
            "labels": [row.label for row in reasons], "currency": "",
            "datasets": [{"label": filters.period.label, "values": [row.count for row in reasons]},
                         {"label": filters.period.previous().label, "values": [row.previous_count for row in reasons]}],
            "urls": [row.url for row in reasons],
        },
        **chrome,
    }
    return render(request, "reports/sales_analysis.html", context)


# --- Scheduled reports -----------------------------------------------------------------------------------


def report_subscriptions(request):
    """The user's e-mailed dashboards (GET), or a new one (POST from a dashboard's form)."""
    readable = [dashboard for dashboard in subscribable.REGISTRY.values() if dashboard.can_read(request.user)]
    if not readable:
        raise Http404
    if request.method == "POST":
        form = SubscribeForm(request.POST)
        dashboard = subscribable.get(form.data.get("dashboard") or subscribable.DEFAULT)
        if dashboard is None or not dashboard.can_read(request.user):
            raise Http404  # a forged or foreign dashboard answers like a missing page
        if form.is_valid():
            scheduling.report_subscribe(user=request.user, query=form.cleaned_data["query"],
                                        frequency=form.cleaned_data["frequency"],
                                        dashboard=dashboard.key, attachment=form.cleaned_data["attachment"],
                                        base_url=request.build_absolute_uri("/"))
            messages.success(request, _("Subscribed: the dashboard will be e-mailed to %(email)s.")
                             % {"email": request.user.email})
            return redirect("report_subscriptions")
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(dashboard.page_url(form.data.get("query", "")[:500]))
    keys = [dashboard.key for dashboard in readable]
    subscriptions = list(ReportSubscription.objects.filter(user=request.user, report__isnull=True,
                                                           dashboard__in=keys).order_by("created_at", "id"))
    form = PipelineDashboardForm(user=request.user) if any(
        subscription.dashboard in ("pipeline", "analysis") for subscription in subscriptions) else None
    for subscription in subscriptions:
        dashboard = subscribable.REGISTRY[subscription.dashboard]
        subscription.title = dashboard.title
        subscription.page_url = dashboard.page_url(subscription.query)
        subscription.chips = _filter_chips(form, subscription.query)
    schedules = list(ReportSubscription.objects.filter(user=request.user, report__isnull=False)
                     .select_related("report").order_by("report__name", "id"))
    return render(request, "reports/subscriptions.html", {
        "subscriptions": subscriptions, "schedules": schedules, "nav_section": "reports",
        "dashboards": [(dashboard.title, reverse(dashboard.url_name)) for dashboard in readable]})


def _filter_chips(form: PipelineDashboardForm | None, query: str) -> list[str]:
    """The subscription's filters in words ("Quarter", "Team: North", "By queue"), from the forms' own choices."""
    data = QueryDict(query)
    chips = []
    fields = dict(form.fields) if form is not None else {"period": PeriodForm().fields["period"]}
    for name, field in fields.items():
        value = data.get(name)
        if not value:
            continue
        label = next((str(text) for key, text in field.choices if str(key) == value), value) \
            if hasattr(field, "choices") else value
        chips.append(label if name == "period" else f"{field.label}: {label}")
    by = data.get("by")
    dimensions = {**analysis.DIMENSIONS, **service_figures.DIMENSIONS}
    if by in dimensions:
        chips.append(_("By: %(dimension)s") % {"dimension": dimensions[by]})
    owner = data.get("owner")
    if owner and form is None:  # the customers dashboard: an owner among the people the reader may see
        person = _owner_choices_for_chips(owner)
        if person:
            chips.append(f"{_('Owner')}: {person}")
    return chips


def _owner_choices_for_chips(owner: str) -> str:
    from crm.models import User

    return str(User.objects.filter(pk=owner).first() or "") if owner.isdigit() else ""


@require_POST
def report_unsubscribe(request, pk: int):
    # Another user's subscription answers like a missing one (the attack matrix, issue 14).
    if not scheduling.report_unsubscribe(user=request.user, subscription_id=pk):
        raise Http404
    messages.success(request, _("The e-mails of this dashboard are stopped."))
    return redirect("report_subscriptions")


# --- Customers -------------------------------------------------------------------------------------------


def _owner_choices(user):
    """The people the account list's owner filter offers the reader (the links must select the same rows)."""
    from accounts.filters import AccountFilter

    request = type("Request", (), {"user": user})()
    return AccountFilter(request=request).filters["owner"].queryset


def customers_dashboard(request):
    """The customer ranking (ABC, RFM, movement since last month, repeat purchases), the receivables with their
    ageing per client, the purchases and the shipments of the period; each figure over what the reader may see,
    each linking to its records."""
    visibility.require_read(request.user, Opportunity)  # revenue and receivables are sales data
    form = CustomersFilterForm(request.GET, owners=_owner_choices(request.user))
    valid = form.is_valid()
    owner = form.cleaned_data.get("owner") if valid else None
    months = (form.cleaned_data.get("months") if valid else None) or customers.CHURN_MONTHS
    rates = pipeline.current_rates()
    dashboard = customers.build(request.user, owner, rates, churn_months=months)
    period = form.purchase_period()
    purchases = customers.purchase_figures(request.user, owner, rates, period)
    shipments = customers.shipment_figures(request.user, owner, rates, period)
    state = ranking.refreshed()
    show_receivables = visibility.can_read(request.user, Invoice)

    def chart(rows, label, currency=""):
        return {"labels": [row.label for row in rows], "currency": currency,
                "datasets": [{"label": str(_("This month")), "values": [row.count for row in rows]},
                             {"label": str(_("Last month")), "values": [row.previous for row in rows]}],
                "urls": [row.url for row in rows]}

    receivables = dashboard.receivables
    context = {
        "form": form,
        "owner": owner,
        "dashboard": dashboard,
        "state": state,
        "rates": rates,
        "currency": settings.DEFAULT_CURRENCY,
        "show_receivables": show_receivables,
        "abc_chart": chart(dashboard.abc, _("Accounts")),
        "rfm_chart": chart(dashboard.rfm, _("Accounts")),
        "months": months,
        "churn_chart": {"labels": [bucket.label for bucket in dashboard.churn.buckets], "currency": "",
                        "datasets": [{"label": str(_("Accounts")),
                                      "values": [bucket.count for bucket in dashboard.churn.buckets]}],
                        "urls": [bucket.url for bucket in dashboard.churn.buckets]},
        "ageing_chart": {"labels": [bucket.label for bucket in receivables.ageing],
                         "currency": settings.DEFAULT_CURRENCY,
                         "datasets": [{"label": str(_("Outstanding")),
                                       "values": [float(bucket.amount) for bucket in receivables.ageing]}],
                         "urls": [bucket.url for bucket in receivables.ageing]},
        "purchases": purchases,
        "purchases_chart": _purchases_chart(purchases),
        "shipments": shipments,
        "shipments_chart": _shipments_chart(shipments),
        "subscribe_form": _subscribe_form(request, "customers"),
        **builder_views._tabs(request.user),
        "tab": "reports_customers",
    }
    return render(request, "reports/customers.html", context)



def _purchases_chart(purchases):
    """Stacked bars per month: won deals and direct orders, this period and the same month of the previous
    one; each part opens its own list."""
    months = purchases.months

    def series(label, stack, side, kind):
        cells = [getattr(row, side) for row in months]
        return {"label": f"{label} ({stack})", "stack": side,
                "values": [float(getattr(cell, f"{kind}_amount")) for cell in cells],
                "urls": [getattr(cell, f"{kind}s_url") for cell in cells]}

    now, before = purchases.period.label, purchases.previous.label
    return {"labels": [row.label for row in months], "currency": settings.DEFAULT_CURRENCY, "stacked": True,
            "datasets": [series(_("Won deals"), now, "now", "deal"), series(_("Direct orders"), now, "now", "order"),
                         series(_("Won deals"), before, "before", "deal"),
                         series(_("Direct orders"), before, "before", "order")],
            "urls": []}


CHART_FAMILIES = 8  # the shipments chart's own parts; the rest of the families are one part (the table has all)


def _shipments_chart(shipments):
    """Stacked bars per month: the amount shipped per product family this period (the largest families each a
    part, the others together), beside the same month of the previous period in one bar; each part of a family
    opens the orders it counts."""
    now = shipments.period.label
    shown, rest = shipments.families[:CHART_FAMILIES], shipments.families[CHART_FAMILIES:]
    datasets = [{"label": f"{family.label} ({now})", "stack": "now",
                 "values": [float(cell.amount) for cell in family.months], "urls": [cell.url for cell in family.months]}
                for family in shown]
    if rest:
        other = _("Other families")
        datasets.append({"label": f"{other} ({now})", "stack": "now",
                         "values": [float(sum(family.months[index].amount for family in rest))
                                    for index in range(len(shipments.months))], "urls": []})
    datasets.append({"label": str(shipments.previous.label), "stack": "before",
                     "values": [float(row.before.amount) for row in shipments.months],
                     "urls": [row.before.url for row in shipments.months]})
    return {"labels": [row.label for row in shipments.months], "currency": settings.DEFAULT_CURRENCY,
            "stacked": True, "datasets": datasets, "urls": []}


# --- Lead sources ----------------------------------------------------------------------------------------


def lead_sources(request):
    """Per inbound source: the period's leads, the share that became a deal (first-contact efficiency), the
    deals created and won, against the previous period; leads through their policy (marketing reads them all,
    a rep their own), deals only for those who read deals."""
    visibility.require_read(request.user, Lead)
    form = PeriodForm(request.GET)
    filters = form.filters()
    rates = pipeline.current_rates()
    result = sources.build(request.user, filters.period, rates)
    charted = [row for row in result.rows if row.key][:12]
    chrome = _chrome("reports_sources", filters)
    if not visibility.can_read(request.user, Opportunity):  # marketing: the builder and this page
        chrome.update(builder_views._tabs(request.user))
    context = {
        "form": form,
        "sources": result,
        "subscribe_form": _subscribe_form(request, "sources"),
        "currency": settings.DEFAULT_CURRENCY,
        "rates": rates,
        "chart": {
            "labels": [row.label for row in charted], "currency": "",
            "datasets": [{"label": str(_("Leads")), "values": [row.leads for row in charted]},
                         {"label": str(_("Became a deal")), "values": [row.converted for row in charted]}],
            "urls": [row.links.get("leads", "") for row in charted],
        },
        **chrome,
    }
    return render(request, "reports/lead_sources.html", context)


# --- Marketing -------------------------------------------------------------------------------------------


def marketing_dashboard(request):
    """Per campaign: cost, leads, deals, won revenue and ROI in the period against the previous one; per mailing
    sent in the period: delivered, opened, clicked, unsubscribed, bounced. For whoever reads campaigns."""
    visibility.require_read(request.user, Campaign)
    form = PeriodForm(request.GET)
    filters = form.filters()
    dashboard = marketing_figures.build(request.user, filters.period)
    chrome = _chrome("reports_marketing", filters)
    if not visibility.can_read(request.user, Opportunity):  # marketing: the builder and its own pages
        chrome.update(builder_views._tabs(request.user))
    charted = dashboard.campaigns[:12]
    mailed = dashboard.mailings[:12]
    context = {
        "form": form,
        "dashboard": dashboard,
        "currency": settings.DEFAULT_CURRENCY,
        "rates": dashboard.rates,
        "campaign_chart": {
            "labels": [row.name for row in charted], "currency": settings.DEFAULT_CURRENCY,
            "datasets": [{"label": str(_("Cost")), "values": [float(row.cost) for row in charted]},
                         {"label": str(_("Won revenue")), "values": [float(row.won_amount) for row in charted]}],
            "urls": [row.url for row in charted],
        },
        "mailing_chart": {
            "labels": [row.subject for row in mailed], "currency": "",
            "datasets": [{"label": str(_("Delivered")), "values": [row.delivered for row in mailed]},
                         {"label": str(_("Opened")), "values": [row.opened for row in mailed]},
                         {"label": str(_("Clicked")), "values": [row.clicked for row in mailed]}],
            "urls": [row.url for row in mailed],
        },
        "subscribe_form": _subscribe_form(request, "marketing"),
        **chrome,
    }
    return render(request, "reports/marketing.html", context)


# --- Service ---------------------------------------------------------------------------------------------


def service_dashboard(request):
    """Tickets opened, solved and in backlog, SLA kept, reopened and response times by channel, category or
    queue, against the previous period; over the tickets the reader may see."""
    visibility.require_read(request.user, Ticket)
    form = PeriodForm(request.GET)
    filters = form.filters()
    dimension = request.GET.get("by", "")
    if dimension not in service_figures.DIMENSIONS:
        dimension = "channel"
    rows, total, as_of = service_figures.build_with_time(request.user, filters.period, dimension)
    extras = service_figures.extras(request.user, filters.period, timezone.localdate())
    chrome = _chrome("reports_service", filters, by=dimension)
    if not visibility.can_read(request.user, Opportunity):  # the desk: the builder and this page
        chrome.update(builder_views._tabs(request.user))
    charted = [row for row in rows if row.links][:15]
    context = {
        "form": form,
        "rows": rows,
        "total": total,
        "extras": extras,
        "as_of": as_of,
        "subscribe_form": _subscribe_form(request, "service"),
        "complaint_tables": [(_("Complaints by product"), extras.by_product, _("Product"), "complaints-product"),
                             (_("Complaints by account"), extras.by_account, _("Account"), "complaints-account")],
        "dimension": dimension,
        "dimension_label": service_figures.DIMENSIONS[dimension],
        "dimension_links": [(key, label, _page_url("reports_service", period=filters.period.kind,
                                                    start=filters.period.start.isoformat(), by=key))
                            for key, label in service_figures.DIMENSIONS.items()],
        "chart": {
            "labels": [row.label for row in charted], "currency": "",
            "datasets": [{"label": filters.period.label, "values": [row.opened for row in charted]},
                         {"label": filters.period.previous().label,
                          "values": [row.previous_opened for row in charted]}],
            "urls": [row.links["opened"] for row in charted],
        },
        **chrome,
    }
    return render(request, "reports/service.html", context)
