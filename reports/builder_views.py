"""The report builder's pages: build and run (GET, the definition in the URL), export, save, list, copy,
delete, and schedule saved reports. Every run reads through the entity's visibility policy for the reader
(reports/builder.py); a saved report is visible to its owner and the team it is shared with."""

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm import security, visibility
from crm.models import SecurityEventKind
from marketing.models import Campaign
from reports import builder, catalogue, exporting, scheduling
from reports.forms import SaveReportForm, ScheduleForm
from reports.models import DeliveryStatus, Frequency, ReportDelivery, ReportSubscription, SavedReport
from sales.models import Lead, Opportunity
from service.models import Ticket

DEFINITION_KEYS = ("entity", "c", "ff", "fo", "fv", "g1", "g1p", "g2", "g2p", "a", "chart", "sort", "dir")
LIST_LIMIT = 200


def definition_query(data: QueryDict) -> str:
    """Only the definition's parameters, in a stable order (what is saved and what the export links carry)."""
    pairs = [(key, value) for key in DEFINITION_KEYS for value in data.getlist(key)]
    return urlencode(pairs)


def _require_builder(user) -> list[tuple[str, Any]]:
    entities = catalogue.entity_choices(user)
    if not entities:
        raise Http404
    return entities


def _tabs(user) -> dict[str, Any]:
    """The reports section's tabs: the sales dashboards for those who read deals, lead sources for those who
    read leads (marketing too), the service dashboard for those who read tickets; everyone builds reports on
    what they read."""
    tabs = []
    if visibility.can_read(user, Opportunity):
        tabs += [("reports", _("Pipeline dashboard"), reverse("reports")),
                 ("reports_analysis", _("Sales analysis"), reverse("reports_analysis")),
                 ("reports_team", _("Sales team"), reverse("reports_team")),
                 ("reports_customers", _("Customers"), reverse("reports_customers"))]
    if visibility.can_read(user, Lead):
        tabs += [("reports_sources", _("Lead sources"), reverse("reports_sources"))]
    if visibility.can_read(user, Campaign):
        tabs += [("reports_marketing", _("Marketing"), reverse("reports_marketing"))]
    if visibility.can_read(user, Ticket):
        tabs += [("reports_service", _("Service"), reverse("reports_service"))]
    tabs += [("report_builder", _("Report builder"), reverse("report_builder")),
             ("saved_reports", _("Saved reports"), reverse("saved_reports"))]
    return {"nav_section": "reports", "tabs": tabs}


def _builder_page(request, data: QueryDict, *, report: SavedReport | None = None, save_form=None):
    entities = _require_builder(request.user)
    context: dict[str, Any] = {"entities": entities, "report": report, "errors": [], "result": None,
                               "definition": None, "fields": {}, **_tabs(request.user),
                               "tab": "saved_reports" if report else "report_builder"}
    status = 200
    entity_key = data.get("entity", "")
    if entity_key:
        try:
            entity = builder.entity_for(request.user, entity_key)
            context["fields"] = catalogue.fields_of(entity)
            context["entity"] = entity
            definition = builder.parse(data, request.user, context["fields"])
            context["definition"] = definition
            context["result"] = builder.run(definition, request.user)
        except builder.ReportError as error:
            context["errors"] = error.messages
            status = 400
    query = definition_query(data)
    context.update(_form_context(data, context, query, request.user, report, save_form))
    return render(request, "reports/builder.html", context, status=status)


def _form_context(data: QueryDict, context: dict, query: str, user, report, save_form) -> dict[str, Any]:
    fields = context["fields"]
    result = context["result"]
    filters = list(zip(data.getlist("ff"), data.getlist("fo"), data.getlist("fv"), strict=False))
    filters += [("", "", "")] * 2
    chart = None
    if result is not None:
        chart = result.chart()
    if save_form is None:
        initial = {"query": query}
        if report is not None and report.owner_id == user.pk:
            save_form = SaveReportForm(instance=report, initial=initial, user=user)
        else:
            save_form = SaveReportForm(initial=initial, user=user)
    numeric = [(key, item) for key, item in fields.items() if item.kind in (catalogue.NUMBER, catalogue.MONEY)]
    dated = [(key, item) for key, item in fields.items() if item.kind in (catalogue.DATE, catalogue.MOMENT)]
    aggregate_choices = [("count", _("Count"))]
    for function, (label, _function, kinds) in builder.FUNCTIONS.items():
        for key, item in numeric + (dated if catalogue.DATE in kinds else []):
            aggregate_choices.append((f"{function}:{key}", f"{label}: {item.label}"))
    rows = []
    links: list[str] = []
    if result is not None:
        links = _drill_links(result)
        if chart is not None:
            chart["urls"] = _chart_links(result, chart)
        numeric = [column.kind in (catalogue.NUMBER, catalogue.MONEY) for column in result.columns]
        cells = [[(builder.display(value, column), right) for value, column, right in
                  zip(row, result.columns, numeric, strict=True)] for row in result.rows]
        rows = list(zip(links or [""] * len(cells), cells, strict=True))
        totals = None
        if result.totals is not None:
            totals = [(builder.display(value, column) if value is not None else "", right) for value, column, right
                      in zip(result.totals, result.columns, numeric, strict=True)]
        context["totals"] = totals
    return {
        "data": data,
        "query": query,
        "selected_columns": data.getlist("c") or ([item.key for item in context["definition"].columns]
                                                  if context["definition"] else []),
        "field_groups": catalogue.expand(fields) if fields else [],
        "groupable": [(key, item.label) for key, item in fields.items() if item.kind in builder.GROUPABLE],
        "filter_rows": filters,
        "operators": list(builder.OPERATORS.items()),
        "periods": list(builder.PERIODS.items()),
        "aggregate_choices": aggregate_choices,
        "selected_aggregates": data.getlist("a"),
        "charts": list(builder.CHARTS.items()),
        "sort_choices": context["definition"].sort_choices() if context["definition"] else [],
        "chart": chart,
        "rows": rows,
        "save_form": save_form,
        "export_links": [(format, reverse("report_export") + f"?{query}&format={format}")
                         for format in ("csv", "xlsx", "pdf")] if result is not None else [],
        "currency": settings.DEFAULT_CURRENCY,
        "can_edit": report is None or report.owner_id == user.pk,
    }


def _drill(definition: builder.Definition, values: list) -> str:
    params = builder.drill_params(definition, values)
    return "" if params is None else reverse("report_builder") + "?" + urlencode(params)


def _drill_links(result: builder.Result) -> list[str]:
    """Per group row, the builder listing the records it counts (a click on the row's first cell)."""
    definition = result.definition
    if not definition.grouped:
        return []
    levels = len(definition.groups)
    return [_drill(definition, row[:levels]) for row in result.rows]


def _chart_links(result: builder.Result, chart: dict) -> list[str]:
    """Per bar, line point or slice: the records of its first-level group."""
    definition = result.definition
    first_level: dict[str, Any] = {}
    for row in result.rows:
        first_level.setdefault(builder.display(row[0], result.columns[0]), row[0])
    return [_drill(definition, [first_level[label]]) if label in first_level else "" for label in chart["labels"]]


def report_builder(request):
    return _builder_page(request, request.GET)


def saved_report(request, pk: int):
    report = _visible_report(request.user, pk)
    data = request.GET if request.GET.get("entity") else QueryDict(report.query)
    return _builder_page(request, data, report=report)


def _visible_report(user, pk: int) -> SavedReport:
    report = SavedReport.objects.visible_to(user).select_related("owner", "team").filter(pk=pk).first()
    if report is None:
        raise Http404
    return report


def _own_report(user, pk: int) -> SavedReport:
    report = SavedReport.objects.filter(pk=pk, owner=user).first()
    if report is None:
        raise Http404
    return report


def report_export(request):
    _require_builder(request.user)
    format = request.GET.get("format", "csv")
    if format not in exporting.CONTENT_TYPES:
        messages.error(request, _("Export as CSV, XLSX or PDF."))
        return redirect(reverse("report_builder") + "?" + definition_query(request.GET))
    try:
        definition = builder.parse(request.GET, request.user)
    except builder.ReportError as error:
        for message in error.messages:
            messages.error(request, message)
        return redirect(reverse("report_builder") + "?" + definition_query(request.GET))
    result = builder.run(definition, request.user, limit=builder.EXPORT_ROWS)
    title = request.GET.get("title", "")[:120] or str(definition.entity.label)
    security.log(SecurityEventKind.EXPORT, request=request, user=request.user, target=f"report:{definition.entity.key}",
                 format=format, rows=len(result.rows))
    if format == "csv":
        content = exporting.to_csv(result)
    elif format == "xlsx":
        content = exporting.to_xlsx(result, title)
    else:
        content = exporting.to_pdf(result, title)
    response = HttpResponse(content, content_type=exporting.CONTENT_TYPES[format])
    name = exporting.file_name(f"{title} {timezone.localdate():%Y-%m-%d}", format)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{_quote(name)}"
    return response


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name)


@require_POST
def report_save(request):
    """Saves the builder's report (new, or the user's own `report` again); a definition that does not
    parse is refused and nothing is saved."""
    _require_builder(request.user)
    report = None
    if request.POST.get("report"):
        try:
            report = _own_report(request.user, int(request.POST["report"]))
        except ValueError:
            raise Http404 from None
        if request.POST.get("as_new"):
            report = None
    form = SaveReportForm(request.POST, instance=report, user=request.user)
    data = QueryDict(request.POST.get("query", "")[:20000])
    if not form.is_valid():
        return _builder_page(request, data, report=report, save_form=form)
    try:
        definition = builder.parse(data, request.user)
    except builder.ReportError as error:
        for message in error.messages:
            messages.error(request, message)
        return redirect(reverse("report_builder") + "?" + definition_query(data))
    query = definition_query(data)
    if len(query) > SavedReport._meta.get_field("query").max_length:
        messages.error(request, _("This report is too long to save: remove some columns or filters."))
        return redirect(reverse("report_builder") + "?" + query)
    saved = form.save(commit=False)
    if report is None:
        saved.owner = request.user
    saved.entity = definition.entity.key
    saved.query = query
    saved.save()
    messages.success(request, _("Report “%(name)s” saved.") % {"name": saved.name})
    return redirect("saved_report", pk=saved.pk)


def saved_reports(request):
    """The user's reports and those shared with their teams; searched by name."""
    _require_builder(request.user)
    search = request.GET.get("q", "").strip()[:100]
    reports = SavedReport.objects.visible_to(request.user).select_related("owner", "team")
    if search:
        reports = reports.filter(Q(name__icontains=search) | Q(description__icontains=search))
    rows = list(reports.order_by("name", "id")[:LIST_LIMIT + 1])
    labels = {key: entity.label for key, entity in catalogue.ENTITIES.items()}
    for report in rows:
        report.entity_label = labels.get(report.entity, report.entity)
    return render(request, "reports/saved_reports.html", {
        "reports": rows[:LIST_LIMIT], "more": len(rows) > LIST_LIMIT, "search": search, **_tabs(request.user),
        "tab": "saved_reports"})


@require_POST
def report_copy(request, pk: int):
    report = _visible_report(request.user, pk)
    copy = SavedReport.objects.create(owner=request.user, name=(_("Copy of %(name)s") % {"name": report.name})[:120],
                                      description=report.description, entity=report.entity, query=report.query)
    messages.success(request, _("Copied: “%(name)s” is yours to change.") % {"name": copy.name})
    return redirect("saved_report", pk=copy.pk)


@require_POST
def report_delete(request, pk: int):
    report = _own_report(request.user, pk)
    report.delete()
    messages.success(request, _("Report “%(name)s” deleted.") % {"name": report.name})
    return redirect("saved_reports")


# --- Schedules ------------------------------------------------------------------------------------------------


def saved_report_schedules(request, pk: int):
    """The user's schedules of a report they may see (GET), or a new one (POST). The e-mail holds what the
    user (the schedule's owner) may see when it is sent, whoever receives it."""
    report = _visible_report(request.user, pk)
    try:
        builder.entity_for(request.user, report.entity)  # a schedule sends what its owner reads
    except builder.ReportError:
        raise Http404 from None
    form = ScheduleForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            schedule = form.save(commit=False)
            schedule.user = request.user
            schedule.report = report
            schedule.query = ""
            schedule.base_url = request.build_absolute_uri("/")
            schedule.next_run_at = scheduling.slot_after(schedule, timezone.now())
            schedule.save()
        messages.success(request, _("Scheduled: the next e-mail goes out %(when)s.")
                         % {"when": _local(schedule.next_run_at, request.user)})
        return redirect("saved_report_schedules", pk=report.pk)
    schedules = list(ReportSubscription.objects.filter(report=report, user=request.user).order_by("created_at", "id"))
    runs = list(ReportDelivery.objects.filter(subscription__in=schedules).select_related("subscription")
                .order_by("-created_at", "-id")[:50])
    return render(request, "reports/schedules.html", {
        "report": report, "form": form, "schedules": schedules, "runs": runs, "failed": DeliveryStatus.FAILED,
        "weekly": Frequency.WEEKLY, "monthly": Frequency.MONTHLY, **_tabs(request.user), "tab": "saved_reports"},
        status=400 if request.method == "POST" else 200)


def _local(moment, user) -> str:
    from crm import formatting

    return formatting.moment(moment.astimezone(scheduling.owner_zone(user)))


@require_POST
def schedule_delete(request, pk: int):
    schedule = ReportSubscription.objects.filter(pk=pk, user=request.user, report__isnull=False).first()
    if schedule is None:
        raise Http404
    report_id = schedule.report_id
    schedule.delete()
    messages.success(request, _("The schedule is stopped."))
    return redirect("saved_report_schedules", pk=report_id)


@require_POST
def run_retry(request, pk: int):
    outcome = scheduling.report_retry(user=request.user, delivery_id=pk, now=timezone.now())
    if outcome is None:
        raise Http404
    delivery = ReportDelivery.objects.select_related("subscription").get(pk=pk)
    if outcome:
        messages.success(request, _("Sent again."))
    elif delivery.status == DeliveryStatus.SENT:
        messages.info(request, _("This run had been sent meanwhile; nothing was sent twice."))
    else:
        messages.error(request, _("The report could not be made again: %(error)s") % {"error": delivery.error})
    return redirect("saved_report_schedules", pk=delivery.subscription.report_id)
