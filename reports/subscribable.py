"""The dashboards one can have by e-mail (docs/reports.md, "Dashboards by e-mail").

A dashboard registers itself with `register(Subscribable(...))`: its key (stored on the subscription), its title,
its page, who may have it, which of its URL filters a subscription keeps (validated by the page's own form, so a
hidden team or person is dropped), and its figures: `figures(user, query, day)` returns the tables the e-mail shows
in its body and attaches as CSV or XLSX, computed as the subscriber may see them for the period holding `day`.
The registrations of the dashboards of this app are at the bottom; another module's dashboard registers the same
way (`reports/team.py`, say) from its module, imported by `reports.apps.ReportsConfig.ready`.
"""

import csv
import datetime
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import urlencode

from django.conf import settings
from django.http import QueryDict
from django.urls import reverse
from django.utils import formats
from django.utils.functional import Promise
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm import visibility
from crm.list_tools import neutralise
from crm.models import User
from marketing.models import Campaign
from sales.models import Invoice, Lead, Opportunity
from service.models import Ticket

Cell = str | int | Decimal | float | None


@dataclass
class Table:
    """One table of figures: the first header names the rows (its title), the rows hold raw values (numbers stay
    numbers in the files); `urls`, when given, links each row's first cell in the e-mail."""

    headers: list[str]
    rows: list[list[Cell]]
    urls: list[str] = field(default_factory=list)


@dataclass
class Snapshot:
    title: str  # "Service, Q4 2026"
    tables: list[Table]
    note: str = ""  # what the figures are (a currency, the rates' date…)


@dataclass(frozen=True)
class Subscribable:
    key: str
    title: str | Promise
    url_name: str
    kept: tuple[str, ...]  # the URL filters a subscription keeps (`start` never: each e-mail is its own period)
    can_read: Callable[[User], bool]
    figures: Callable[[User, QueryDict, datetime.date], Snapshot]
    # The kept filters as the page validates them for this user: {name: value} (a hidden id dropped).
    clean: Callable[[User, QueryDict], dict[str, object]] | None = None

    def clean_query(self, user: User, query: str) -> str:
        data = QueryDict(query)
        if self.clean is not None:
            kept = self.clean(user, data)
        else:
            kept = {name: data.get(name) for name in self.kept}
        return urlencode({name: getattr(value, "pk", value) for name, value in kept.items()
                          if name in self.kept and value})

    def page_url(self, query: str) -> str:
        return reverse(self.url_name) + ("?" + query if query else "")


REGISTRY: dict[str, Subscribable] = {}
DEFAULT = "pipeline"


def register(dashboard: Subscribable) -> Subscribable:
    REGISTRY[dashboard.key] = dashboard
    return dashboard


def get(key: str) -> Subscribable | None:
    return REGISTRY.get(key)


def choices() -> list[tuple[str, str]]:
    return [(key, str(dashboard.title)) for key, dashboard in REGISTRY.items()]


# --- Files and body -------------------------------------------------------------------------------------


def _number(value: Cell) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        value = Decimal(str(round(value, 2)))
    if isinstance(value, Decimal):
        exponent = value.as_tuple().exponent
        places = min(2, -exponent) if isinstance(exponent, int) and exponent < 0 else 0
        return formats.number_format(value, decimal_pos=places, use_l10n=True, force_grouping=True)
    if isinstance(value, int):
        return formats.number_format(value, use_l10n=True, force_grouping=True)
    return str(value)


def display_rows(table: Table) -> list[list[str]]:
    """The table's cells as the reader reads them (numbers in their language), for the e-mail's body."""
    return [[_number(cell) for cell in row] for row in table.rows]


def to_csv(snapshot: Snapshot) -> bytes:
    out = io.StringIO()
    out.write("\ufeff")  # Excel reads UTF-8 (Cyrillic names) only with a BOM
    writer = csv.writer(out)
    for number, table in enumerate(snapshot.tables):
        if number:
            writer.writerow([])
        writer.writerow([neutralise(str(header)) for header in table.headers])
        for row in table.rows:
            writer.writerow(["" if cell is None else neutralise(cell) if isinstance(cell, str) else cell
                             for cell in row])
    return out.getvalue().encode()


def to_xlsx(snapshot: Snapshot) -> bytes:
    """One sheet, the tables one under the other (numbers as numbers)."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=(slugify(snapshot.title, allow_unicode=True) or "dashboard")[:31])
    for number, table in enumerate(snapshot.tables):
        if number:
            sheet.append([])
        sheet.append([neutralise(str(header)) for header in table.headers])
        for row in table.rows:
            sheet.append([float(cell) if isinstance(cell, Decimal) else
                          neutralise(cell) if isinstance(cell, str) else cell for cell in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- The dashboards of this app -------------------------------------------------------------------------


def _reads_deals(user: User) -> bool:
    return visibility.can_read(user, Opportunity)


def _money(label: str) -> str:
    return f"{label}, {settings.DEFAULT_CURRENCY}"


def _dashboard_filters(user: User, data: QueryDict, day: datetime.date):
    from reports import pipeline
    from reports.forms import PipelineDashboardForm

    form = PipelineDashboardForm(data, user=user)
    filters = form.filters()
    filters.period = pipeline.Period.containing(filters.period.kind, day)
    return filters


def _clean_dashboard(user: User, data: QueryDict) -> dict[str, object]:
    from reports.forms import PipelineDashboardForm

    form = PipelineDashboardForm(data, user=user)
    form.is_valid()
    return dict(form.cleaned_data)


def pipeline_figures(user: User, data: QueryDict, day: datetime.date) -> Snapshot:
    from reports import pipeline

    filters = _dashboard_filters(user, data, day)
    dashboard = pipeline.build(user, filters)
    current, previous = dashboard.current, dashboard.previous
    currency = dashboard.currency
    headline = Table(headers=[_("Figure"), current.period.label, previous.period.label], rows=[
        [_("Won, %(currency)s") % {"currency": currency}, current.won.amount, previous.won.amount],
        [_("Deals won"), current.won.count, previous.won.count],
        [_("Target, %(currency)s") % {"currency": currency}, current.target, previous.target],
        [_("Deals lost"), current.lost.count, previous.lost.count],
        [_("Win rate, %"), current.win_rate, previous.win_rate],
        [_("Average deal size, %(currency)s") % {"currency": currency}, current.average_deal, previous.average_deal],
        [_("Sales cycle, days"), current.cycle_days, previous.cycle_days],
        [_("Open pipeline, %(currency)s") % {"currency": currency}, dashboard.open_total.amount, None],
        [_("Weighted pipeline, %(currency)s") % {"currency": currency}, dashboard.open_total.weighted, None],
    ])
    stages = Table(headers=[_("Open pipeline by stage"), _("Deals"), _("Amount, %(currency)s") % {
        "currency": currency}], rows=[[bucket.label, bucket.count, bucket.amount] for bucket in dashboard.by_stage],
        urls=[bucket.url for bucket in dashboard.by_stage])
    return Snapshot(title=_("Pipeline dashboard, %(period)s") % {"period": filters.period.label},
                    tables=[headline, stages])


def _clean_analysis(user: User, data: QueryDict) -> dict[str, object]:
    from reports import analysis

    kept = _clean_dashboard(user, data)
    if data.get("by") in analysis.DIMENSIONS:
        kept["by"] = data["by"]
    return kept


def analysis_figures(user: User, data: QueryDict, day: datetime.date) -> Snapshot:
    from reports import analysis, pipeline

    filters = _dashboard_filters(user, data, day)
    dimension = data.get("by", "")
    if dimension not in analysis.DIMENSIONS:
        dimension = "team" if visibility.read_scope(user, Opportunity) == visibility.Scope.ALL \
            else "owner"
    rates = pipeline.current_rates()
    result = analysis.breakdown(user, filters, dimension, rates)
    reasons = analysis.lost_reasons(user, filters, rates)
    period, before = filters.period.label, filters.period.previous().label
    rows = [*result.rows, result.total]
    breakdown = Table(
        headers=[str(analysis.DIMENSIONS[dimension]), _("Won deals"), _money(_("Won")),
                 _money(f"{_('Won')} {before}"), _("Lost deals"), _("Open deals"), _money(_("Open"))],
        rows=[[("  " * row.depth) + str(row.label), row.won_count, row.won_amount, row.previous_won, row.lost_count,
               row.open_count, row.open_amount] for row in rows],
        urls=[row.links.get("won", "") for row in rows])
    lost = Table(headers=[_("Lost reason"), period, before, _money(_("Amount"))],
                 rows=[[str(row.label), row.count, row.previous_count, row.amount] for row in reasons],
                 urls=[row.url for row in reasons])
    return Snapshot(title=_("Sales analysis, %(period)s") % {"period": period}, tables=[breakdown, lost])


def _clean_customers(user: User, data: QueryDict) -> dict[str, object]:
    from reports.forms import CustomersFilterForm
    from reports.views import _owner_choices

    form = CustomersFilterForm(data, owners=_owner_choices(user))
    form.is_valid()  # each valid field is kept; an invalid one is dropped
    return {name: form.cleaned_data.get(name) for name in ("owner", "months", "period")}


def customers_figures(user: User, data: QueryDict, day: datetime.date) -> Snapshot:
    from reports import customers, pipeline

    owner = _clean_customers(user, data).get("owner")
    rates = pipeline.current_rates()
    dashboard = customers.build(user, owner, rates)
    tables = [
        Table(headers=[_("ABC class"), _("Accounts"), _("Last month"), _money(_("Revenue, 12 months")), _("Share, %")],
              rows=[[str(row.label), row.count, row.previous, row.revenue, row.share] for row in dashboard.abc],
              urls=[row.url for row in dashboard.abc]),
        Table(headers=[_("RFM class"), _("Accounts"), _("Last month")],
              rows=[[str(row.label), row.count, row.previous] for row in dashboard.rfm],
              urls=[row.url for row in dashboard.rfm]),
        Table(headers=[_("Repeat purchases"), _("Accounts")],
              rows=[[_("Bought at least once in 12 months"), dashboard.buyers],
                    [_("Bought twice or more"), dashboard.repeat_buyers]],
              urls=[dashboard.buyers_url, dashboard.repeat_url]),
    ]
    if visibility.can_read(user, Invoice):
        receivables = dashboard.receivables
        tables.append(Table(headers=[_("Receivables by days past due"), _money(_("Outstanding"))],
                            rows=[[str(bucket.label), bucket.amount] for bucket in receivables.ageing],
                            urls=[bucket.url for bucket in receivables.ageing]))
        tables.append(Table(headers=[_("Client"), _money(_("Outstanding")), _money(_("Overdue")), _("Invoices")],
                            rows=[[client.name, client.outstanding, client.overdue, client.invoices]
                                  for client in receivables.clients],
                            urls=[client.url for client in receivables.clients]))
    period = _period(data, day)
    purchases = customers.purchase_figures(user, owner, rates, period)
    before = purchases.previous.label
    for title, found in ((_("Month"), [*purchases.months, purchases.total]), (_("Region"), purchases.regions),
                         (_("Product family"), purchases.families)):
        tables.append(Table(
            headers=[f"{_('Purchases')}: {title}", period.label, _money(period.label), before, _money(before)],
            rows=[[row.label, row.now.count, row.now.amount, row.before.count, row.before.amount] for row in found],
            urls=[row.now.deals_url for row in found]))
    shipments = customers.shipment_figures(user, owner, rates, period)
    shipped = [*shipments.months, shipments.total]
    tables.append(Table(
        headers=[f"{_('Shipments')}: {_('Month')}", _("Orders shipped"), _money(period.label), _("On time"),
                 _("Late"), _("On-time share, %"), _("No promised date"), before, _money(before)],
        rows=[[row.label, row.now.orders, row.now.amount, row.now.on_time, row.now.late, row.now.on_time_share,
               row.now.no_promise, row.before.orders, row.before.amount] for row in shipped],
        urls=[row.now.url for row in shipped]))
    tables.append(Table(
        headers=[f"{_('Shipments')}: {_('Product family')}", period.label, _money(period.label), before,
                 _money(before)],
        rows=[[row.label, row.total.orders, row.total.amount, row.before.orders, row.before.amount]
              for row in shipments.families],
        urls=[row.total.url for row in shipments.families]))
    return Snapshot(title=_("Customers, %(day)s") % {"day": formats.date_format(day, "DATE_FORMAT")},
                    tables=tables)


def _clean_period(user: User, data: QueryDict) -> dict[str, object]:
    from reports.forms import PeriodForm

    form = PeriodForm(data)
    form.is_valid()
    return {"period": form.cleaned_data.get("period")}


def _period(data: QueryDict, day: datetime.date):
    from reports import pipeline
    from reports.forms import PeriodForm

    form = PeriodForm(data)
    return pipeline.Period.containing(form.filters().period.kind, day)


def sources_figures(user: User, data: QueryDict, day: datetime.date) -> Snapshot:
    from reports import pipeline, sources

    period = _period(data, day)
    result = sources.build(user, period, pipeline.current_rates())
    rows = [*result.rows, result.total]
    headers = [_("Lead source"), _("Leads"), _("Became a deal"), _("First-contact efficiency, %"),
               f"{_('Leads')} {period.previous().label}"]
    if result.with_deals:
        headers += [_("Deals created"), _("Deals won"), _money(_("Won"))]
    table = Table(headers=headers, rows=[
        [str(row.label), row.leads, row.converted, row.efficiency, row.previous_leads,
         *([row.deals, row.won, row.won_amount] if result.with_deals else [])] for row in rows],
        urls=[row.links.get("leads", "") for row in rows])
    return Snapshot(title=_("Lead sources, %(period)s") % {"period": period.label}, tables=[table])


def _clean_service(user: User, data: QueryDict) -> dict[str, object]:
    from reports import service_figures

    kept = _clean_period(user, data)
    if data.get("by") in service_figures.DIMENSIONS:
        kept["by"] = data["by"]
    return kept


def service_snapshot(user: User, data: QueryDict, day: datetime.date) -> Snapshot:
    from reports import service_figures

    period = _period(data, day)
    dimension = data.get("by") if data.get("by") in service_figures.DIMENSIONS else "channel"
    rows, total = service_figures.build(user, period, dimension)
    extras = service_figures.extras(user, period, day)
    before = period.previous().label
    tickets = Table(
        headers=[str(service_figures.DIMENSIONS[dimension]), _("Opened"), f"{_('Opened')} {before}", _("Solved"),
                 _("Backlog now"), _("SLA kept, %"), _("Reopened"), _("Complaints"),
                 _("Under a contract or warranty, %"), _("First response, h"), _("Resolution, h")],
        rows=[[str(row.label), row.opened, row.previous_opened, row.solved, row.backlog, row.sla_share, row.reopened,
               row.complaints, row.coverage, row.first_response_hours, row.resolution_hours]
              for row in [*rows, total]],
        urls=[row.links.get("opened", "") for row in [*rows, total]])
    tables = [tickets]
    csat = extras.satisfaction
    if csat is not None:
        tables.append(Table(headers=[_("Satisfaction (CSAT)"), period.label, before], rows=[
            [_("Answers"), csat.answers, csat.previous_answers],
            [_("Average rating of 5"), csat.average, csat.previous_average],
            [_("Satisfied (4 or 5), %"), csat.satisfied_share, csat.previous_satisfied_share]]))
    for title, found in ((_("Complaints by product"), extras.by_product),
                         (_("Complaints by account"), extras.by_account)):
        tables.append(Table(headers=[title, period.label, before],
                            rows=[[row.label, row.count, row.previous] for row in found],
                            urls=[row.url for row in found]))
    tables.append(Table(headers=[_("Contracts and warranties"), _("Contracts")],
                        rows=[[_("In force"), extras.contracts_in_force],
                              *[[_("Ending within %(days)s days") % {"days": item.days}, item.count]
                                for item in extras.expiring]],
                        urls=[extras.contracts_url, *[item.url for item in extras.expiring]]))
    return Snapshot(title=_("Service, %(period)s") % {"period": period.label}, tables=tables)


def team_figures(user: User, data: QueryDict, day: datetime.date) -> Snapshot:
    from reports import team

    found = team.snapshot(user, data, day)
    return Snapshot(title=found["title"], note=found["note"], tables=[Table(**table) for table in found["tables"]])


def _clean_team(user: User, data: QueryDict) -> dict[str, object]:
    from reports import team

    form = team.TeamDashboardForm(data, user=user)
    form.is_valid()
    kept = {name: form.cleaned_data.get(name) for name in team.SUBSCRIPTION_FILTERS if name != "idle_days"}
    return {**kept, "idle_days": form.idle()}


def marketing_snapshot(user: User, data: QueryDict, day: datetime.date) -> Snapshot:
    from reports import marketing_figures

    period = _period(data, day)
    board = marketing_figures.build(user, period)
    before = period.previous().label
    campaigns = [*board.campaigns, board.total]
    mailings = [*board.mailings, board.mailing_total]
    return Snapshot(
        title=_("Marketing, %(period)s") % {"period": period.label},
        note=_("Amounts in %(currency)s at the current exchange rates.") % {"currency": board.currency},
        tables=[
            Table(headers=[_("Campaign"), _money(_("Cost")), _("Leads"), f"{_('Leads')} {before}", _("Deals"),
                           _("Deals won"), _money(_("Won revenue")), _("ROI, %"), _money(_("Cost per lead"))],
                  rows=[[row.name, row.cost, row.leads, row.previous_leads, row.deals, row.won, row.won_amount,
                         row.roi, row.cost_per_lead] for row in campaigns],
                  urls=[row.url for row in campaigns]),
            Table(headers=[_("Mailing"), _("Sent"), _("Delivered"), _("Opened"), _("Clicked"), _("Unsubscribed"),
                           _("Bounced")],
                  rows=[[row.subject, row.sent, row.delivered, row.opened, row.clicked, row.unsubscribed,
                         row.bounced] for row in mailings],
                  urls=[row.url for row in mailings]),
        ])


register(Subscribable(
    key="pipeline", title=gettext_lazy("Pipeline dashboard"), url_name="reports",
    kept=("period", "pipeline", "team", "owner", "territory"), can_read=_reads_deals,
    figures=pipeline_figures, clean=_clean_dashboard))
register(Subscribable(
    key="analysis", title=gettext_lazy("Sales analysis"), url_name="reports_analysis",
    kept=("period", "pipeline", "team", "owner", "territory", "by"), can_read=_reads_deals,
    figures=analysis_figures,
    clean=_clean_analysis))
register(Subscribable(
    key="customers", title=gettext_lazy("Customers"), url_name="reports_customers", kept=("owner", "months", "period"),
    can_read=_reads_deals, figures=customers_figures, clean=_clean_customers))
register(Subscribable(
    key="sources", title=gettext_lazy("Lead sources"), url_name="reports_sources", kept=("period",),
    can_read=lambda user: visibility.can_read(user, Lead), figures=sources_figures, clean=_clean_period))
register(Subscribable(
    key="service", title=gettext_lazy("Service"), url_name="reports_service", kept=("period", "by"),
    can_read=lambda user: visibility.can_read(user, Ticket), figures=service_snapshot, clean=_clean_service))
register(Subscribable(
    key="team", title=gettext_lazy("Sales team"), url_name="reports_team",
    kept=("period", "team", "owner", "idle_days"),
    can_read=_reads_deals, figures=team_figures, clean=_clean_team))
register(Subscribable(
    key="marketing", title=gettext_lazy("Marketing"), url_name="reports_marketing", kept=("period",),
    can_read=lambda user: visibility.can_read(user, Campaign), figures=marketing_snapshot,
    clean=_clean_period))
