"""Targets and forecast pages. Who sees what follows the deals' policy (crm/visibility.py):
admins and executives everyone, a manager their teams, a rep their own row; support and
marketing get 404, as for any sales data."""

from decimal import Decimal
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from crm import visibility
from crm.models import Team, User
from crm.redirects import safe_next
from sales import forecast_services as fs
from sales.forecast_forms import DealCategoryForm, DrillDownForm, ForecastFilterForm, TargetCellForm, TargetsFilterForm
from sales.models import ForecastCategory, Opportunity, SalesTarget, StageKind, TargetPeriod
from sales.services import StaleWrite, opportunity_update

DRILL_DOWN_ROWS = 100
FIGURE_LABELS = {"target": _lazy("Target"), "won": _lazy("Won"), "commit": _lazy("Commit"),
                 "best_case": _lazy("Best case"), "pipeline": _lazy("Pipeline"), "weighted": _lazy("Weighted")}


def _query(**params) -> str:
    return urlencode({name: value for name, value in params.items() if value not in (None, "")})


# --- Forecast --------------------------------------------------------------------------------------


def _filter_params(values: dict) -> dict:
    return {"period": values["period"].kind, "start": values["period"].start.isoformat(),
            "group": values["group_by"], "team": values["team"].pk if values["team"] else "",
            "pipeline": values["pipeline"].pk if values["pipeline"] else "",
            "owner": values["owner"].pk if values["owner"] else ""}


def _list_url(values: dict, row: fs.ForecastRow, figure: str, group_by: str) -> str:
    """The opportunity list filtered to the deals behind a figure (its filters per the list's contract)."""
    period = values["period"]
    params = {"pipeline": values["pipeline"].pk if values["pipeline"] else "",
              "team": values["team"].pk if values["team"] else "",
              "owner": values["owner"].pk if values["owner"] else "",
              "close_from": period.start.isoformat(), "close_to": period.last_day.isoformat()}
    if not row.is_total and row.key is not None:
        params["owner" if group_by == fs.OWNER else "team"] = row.key
    if figure == "won":  # won in the period: by the day it closed, not the day it was expected to
        params["status"] = StageKind.WON
        params["closed_from"], params["closed_to"] = params.pop("close_from"), params.pop("close_to")
    else:
        params["status"] = StageKind.OPEN
        if figure in fs.CATEGORY_FIGURES:
            params["forecast_category"] = fs.CATEGORY_FIGURES[figure]
    return reverse("sales:opportunity_list") + "?" + _query(**params)


def _decorate(forecast: fs.Forecast, values: dict) -> None:
    """Adds each figure's two links: the opportunity list (href) and the drill-down table (htmx)."""
    base = _filter_params(values)
    for row in [*forecast.rows, forecast.total]:
        row.links = {}
        for figure in fs.FIGURES:
            deals = reverse("sales:forecast_deals") + "?" + _query(**{
                **base, "group": forecast.group_by, "figure": figure, "key": "" if row.is_total else row.url_key})
            row.links[figure] = (_list_url(values, row, figure, forecast.group_by), deals)


def _chart(forecast: fs.Forecast) -> dict:
    rows = forecast.rows
    return {
        "labels": [row.label for row in rows],
        "currency": forecast.currency,
        "datasets": [
            {"label": str(FIGURE_LABELS[name]), "values": [float(getattr(row, name) or 0) for row in rows]}
            for name in ("target", "won", "commit", "best_case")
        ],
    }


def forecast(request):
    visibility.require_read(request.user, Opportunity)
    form = ForecastFilterForm(request.GET, user=request.user)
    values = form.values()
    result = fs.forecast(user=request.user, **values)
    values["group_by"] = result.group_by
    _decorate(result, values)
    params = _filter_params(values)
    context = {
        "form": form,
        "forecast": result,
        "values": values,
        "params": params,
        "is_rep": fs.forecast_scope(request.user) == visibility.Scope.OWN,
        "chart": _chart(result),
        "self_url": reverse("sales:forecast") + "?" + _query(**params),
        "previous_url": reverse("sales:forecast") + "?" + _query(**{**params, "start": result.period.previous()
                                                                     .start.isoformat()}),
        "next_url": reverse("sales:forecast") + "?" + _query(**{**params, "start": result.period.next()
                                                                 .start.isoformat()}),
        "period_links": [(kind, label, reverse("sales:forecast") + "?" + _query(**{**params, "period": kind}))
                         for kind, label in TargetPeriod.choices],
        "group_links": [(key, label, reverse("sales:forecast") + "?" + _query(**{**params, "group": key}))
                        for key, label in ((fs.OWNER, _("By owner")), (fs.TEAM, _("By team")))],
        "targets_url": reverse("sales:targets") + "?" + _query(period=result.period.kind,
                                                               year=result.period.start.year),
        "currency": settings.DEFAULT_CURRENCY,
    }
    if request.htmx and request.htmx.target == "forecast-figures":
        return render(request, "sales/forecast.html#figures", context)
    return render(request, "sales/forecast.html", context)


def forecast_deals(request):
    """The deals behind one figure, with the forecast category editable inline."""
    visibility.require_read(request.user, Opportunity)
    form = DrillDownForm(request.GET, user=request.user)
    values = form.values()
    figure = form.cleaned_data.get("figure") or "all"
    key = form.cleaned_data.get("key") or ""
    deals = list(fs.forecast_deals(user=request.user, figure=figure, key=key, **values)[:DRILL_DOWN_ROWS + 1])
    more = len(deals) > DRILL_DOWN_ROWS
    deals = deals[:DRILL_DOWN_ROWS]
    for deal in deals:
        deal.can_edit = visibility.can_edit(request.user, deal)
    row_label = ""
    if key:
        if values["group_by"] == fs.TEAM and fs.forecast_scope(request.user) != visibility.Scope.OWN:
            row_label = _("No team") if key == fs.NO_TEAM else next(
                (str(deal.team) for deal in deals if str(deal.team_id) == key), "")
        else:
            row_label = next((str(deal.owner) for deal in deals if str(deal.owner_id) == key), "")
    row = fs.ForecastRow(key=int(key) if key.isdigit() else None, label=row_label, is_total=not key)
    context = {
        "deals": deals,
        "more": more,
        "figure": figure,
        "figure_label": dict(FIGURE_LABELS, all=_("All deals")).get(figure, ""),
        "row_label": row_label,
        "period": values["period"],
        "list_url": _list_url(values, row, figure, values["group_by"]),
        "categories": ForecastCategory.choices,
        "forecast_url": reverse("sales:forecast") + "?" + _query(**_filter_params(values)),
        "currency": settings.DEFAULT_CURRENCY,
    }
    if request.htmx:
        return render(request, "sales/forecast_deals.html#deals", context)
    return render(request, "sales/forecast_deals.html", context)


def _deal(user, pk):
    deals = Opportunity.objects.select_related("account", "stage", "owner", "pipeline")
    return visibility.get_visible_or_404(visibility.with_visibility_flag(deals, user, "account"), user, pk=pk)


@require_POST
def forecast_deal_category(request, pk):
    """Sets a deal's forecast category from the drill-down table (optimistic locking: a deal
    changed by someone else since the table was drawn is not overwritten)."""
    visibility.require_read(request.user, Opportunity)
    deals = Opportunity.objects.select_related("account", "stage", "owner", "pipeline")
    deal = visibility.get_editable_or_404(visibility.with_visibility_flag(deals, request.user, "account"),
                                          request.user, pk=pk)
    form = DealCategoryForm(request.POST)
    notice, level, changed = "", "success", False
    if not form.is_valid():
        notice, level = _("Choose a forecast category."), "danger"
    elif deal.stage.kind != StageKind.OPEN:
        notice, level = _("This deal is closed: its forecast category no longer counts."), "danger"
    else:
        try:
            opportunity_update(opportunity=deal, actor=request.user,
                               forecast_category=form.cleaned_data["forecast_category"],
                               expected_version=form.cleaned_data["version"])
            notice, changed = _("Saved: %(name)s is now in “%(category)s”.") % {
                "name": deal.name, "category": deal.get_forecast_category_display()}, True
        except StaleWrite:
            deal = _deal(request.user, pk)
            notice, level = _("Someone else changed this deal in the meantime; it was reloaded with their "
                              "changes. Choose again if needed."), "warning"
        except ValidationError as error:
            deal = _deal(request.user, pk)
            notice, level = " ".join(error.messages), "danger"
    if not request.htmx:
        (messages.success if level == "success" else messages.error)(request, notice)
        return redirect(safe_next(request, reverse("sales:forecast")))
    deal.can_edit = visibility.can_edit(request.user, deal)
    response = render(request, "sales/forecast_deals.html#deal-row", {
        "deal": deal, "notice": notice, "notice_level": level, "categories": ForecastCategory.choices,
        "currency": settings.DEFAULT_CURRENCY})
    if changed:
        response["HX-Trigger"] = "forecast-changed"
    return response


# --- Targets ---------------------------------------------------------------------------------------


class TargetCell:
    def __init__(self, *, subject: str, period: fs.Period, target: SalesTarget | None, editable: bool,
                 label: str, form: TargetCellForm | None = None, saved: bool = False):
        self.subject, self.period, self.target, self.editable = subject, period, target, editable
        self.label, self.form, self.saved = label, form, saved

    @property
    def dom_id(self) -> str:
        return f"target-{self.subject.replace(':', '-')}-{self.period.start.isoformat()}"

    def _value(self, name: str) -> str:
        if self.form is not None and self.form.is_bound:  # a refused entry stays in the cell to be corrected
            return self.form.data.get(name, "")
        value = getattr(self.target, name, None) if self.target else None
        return "" if value is None else str(value)

    @property
    def amount_value(self) -> str:
        return self._value("amount")

    @property
    def deal_count_value(self) -> str:
        return self._value("deal_count")


class TargetRow:
    def __init__(self, *, subject: str, label: str, is_team: bool, editable: bool, cells: list[TargetCell]):
        self.subject, self.label, self.is_team, self.editable, self.cells = subject, label, is_team, editable, cells

    @property
    def total(self) -> Decimal | None:
        amounts = [cell.target.amount for cell in self.cells if cell.target]
        return sum(amounts, Decimal(0)) if amounts else None

    @property
    def dom_id(self) -> str:
        return f"target-total-{self.subject.replace(':', '-')}"


def _target_rows(user, kind: str, year: int, team: Team | None = None) -> list[TargetRow]:
    periods = fs.periods_of_year(kind, year)
    teams = fs.visible_teams(user).order_by("name")
    people = fs.visible_people(user)
    if team is not None:
        teams, people = teams.filter(pk=team.pk), people.filter(team=team)
    teams, people = list(teams), list(people)
    targets = {}
    found = SalesTarget.objects.filter(period=kind, period_start__gte=periods[0].start,
                                       period_start__lt=periods[-1].end)
    found = found.filter(user_id__in=[p.pk for p in people]) | found.filter(team_id__in=[t.pk for t in teams])
    for target in found:
        subject = f"user:{target.user_id}" if target.user_id else f"team:{target.team_id}"
        targets[(subject, target.period_start)] = target

    def row(subject, label, is_team, editable):
        cells = [TargetCell(subject=subject, period=period, target=targets.get((subject, period.start)),
                            editable=editable, label=f"{label}, {period.label}") for period in periods]
        return TargetRow(subject=subject, label=label, is_team=is_team, editable=editable, cells=cells)

    rows, placed = [], set()
    for team in teams:
        rows.append(row(f"team:{team.pk}", team.name, True, fs.can_set_target(user, team=team)))
        for person in people:
            if person.team_id == team.pk:
                placed.add(person.pk)
                rows.append(row(f"user:{person.pk}", str(person), False, fs.can_set_target(user, user=person)))
    for person in people:
        if person.pk not in placed:
            rows.append(row(f"user:{person.pk}", str(person), False, fs.can_set_target(user, user=person)))
    return rows


def targets(request):
    visibility.require_read(request.user, Opportunity)
    form = TargetsFilterForm(request.GET, user=request.user)
    kind, year, team = form.values()
    rows = _target_rows(request.user, kind, year, team)
    params = {"period": kind, "year": year, "team": team.pk if team else ""}
    context = {
        "form": form,
        "rows": rows,
        "kind": kind,
        "year": year,
        "params": params,
        "periods": fs.periods_of_year(kind, year),
        # The grid opens scrolled to the period we are in (targets.js), which is marked.
        "current_start": fs.Period.containing(kind, timezone.localdate()).start,
        "can_edit_any": any(row.editable for row in rows),
        "period_links": [(key, label, reverse("sales:targets") + "?" + _query(**{**params, "period": key}))
                         for key, label in TargetPeriod.choices],
        "previous_url": reverse("sales:targets") + "?" + _query(**{**params, "year": year - 1}),
        "next_url": reverse("sales:targets") + "?" + _query(**{**params, "year": year + 1}),
        "forecast_url": reverse("sales:forecast") + "?" + _query(period=kind),
        "currency": settings.DEFAULT_CURRENCY,
    }
    return render(request, "sales/targets.html", context)


def _subject(user, subject: str) -> tuple[User | None, Team | None, str]:
    """The rep or team named by "user:<id>" / "team:<id>", among those the user may see (else 404)."""
    kind, pk = subject.split(":")
    if kind == "team":
        team = get_object_or_404(fs.visible_teams(user), pk=pk)
        return None, team, team.name
    person = get_object_or_404(User.objects.filter(fs.people_condition(user)), pk=pk)
    return person, None, str(person)


@require_POST
def target_save(request):
    """Saves one cell of the targets grid (htmx) and answers the cell, with the row's new total."""
    visibility.require_read(request.user, Opportunity)
    form = TargetCellForm(request.POST)
    if not form.is_valid() and ("subject" in form.errors or "period" in form.errors
                                or "period_start" in form.errors):
        raise Http404
    person, team, label = _subject(request.user, form.cleaned_data["subject"])
    if not fs.can_set_target(request.user, user=person, team=team):
        raise PermissionDenied
    kind = form.cleaned_data["period"]
    period = fs.Period.containing(kind, form.cleaned_data["period_start"])
    subject = f"user:{person.pk}" if person else f"team:{team.pk}"
    saved = False
    if form.is_valid():
        data = form.cleaned_data
        try:
            if data["amount"] is None:
                fs.target_clear(actor=request.user, user=person, team=team, period=kind, period_start=period.start)
            else:
                fs.target_set(actor=request.user, user=person, team=team, period=kind, period_start=period.start,
                              amount=data["amount"], deal_count=data["deal_count"])
            saved = True
        except ValidationError as error:
            for name, errors in error.message_dict.items():
                form.add_error(name if name in form.fields else None, errors)
    subject_q = {"user": person} if person else {"team": team}
    year_targets = list(SalesTarget.objects.filter(period=kind, period_start__year=period.start.year, **subject_q))
    target = next((t for t in year_targets if t.period_start == period.start), None)
    cell = TargetCell(subject=subject, period=period, target=target, editable=True, label=f"{label}, {period.label}",
                      form=None if saved else form, saved=saved)
    total = sum((t.amount for t in year_targets), Decimal(0)) if year_targets else None
    if not request.htmx:
        if saved:
            messages.success(request, _("Target saved: %(label)s.") % {"label": cell.label})
        else:
            messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect(reverse("sales:targets") + "?" + _query(period=kind, year=period.start.year))
    row = TargetRow(subject=subject, label=label, is_team=team is not None, editable=True, cells=[])
    return render(request, "sales/targets.html#cell-response", {
        "cell": cell, "row": row, "total": total, "currency": settings.DEFAULT_CURRENCY})
