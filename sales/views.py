"""Opportunities: list, page, create/edit, the board, and the pipelines admins edit."""

import datetime
from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, DecimalField, ExpressionWrapper, F, ProtectedError, Sum
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Account, AccountType
from contacts.models import Contact
from crm import custom_fields, formatting, list_tools, panels, visibility
from crm.forms import add_service_errors
from crm.history import CHANGES_SCANNED, history_for
from crm.list_tools import to_int
from crm.models import CustomFieldTarget
from crm.pagination import COUNT_LIMIT
from crm.visibility import (
    can_create,
    can_edit,
    can_read,
    get_editable_or_404,
    get_visible_or_404,
    require_admin,
    require_create,
    require_read,
    with_visibility_flag,
)
from sales import services
from sales.filters import BoardFilter
from sales.forms import ContactRoleForm, MoveForm, OpportunityForm, PipelineForm, stage_formset
from sales.models import Invoice, Lead, LostReason, Opportunity, OpportunityContactRole, Pipeline, Stage, StageKind
from sales.quote_services import pending_approvals_for
from sales.services import default_pipeline

HISTORY_SHOWN = 50
BOARD_CARDS = 20  # cards per column per page
CLOSED_SHOWN_DAYS = 30  # won and lost columns show the deals closed this recently

def _weighted():
    return ExpressionWrapper(F("amount_base") * F("probability") / 100,
                             output_field=DecimalField(max_digits=18, decimal_places=2))


# --- One opportunity ----------------------------------------------------------------------------


def opportunity_detail(request, pk: int):
    opportunity = get_visible_or_404(
        with_visibility_flag(
            Opportunity.objects.select_related("owner", "team", "account", "pipeline", "stage", "primary_contact"),
            request.user, "account"),
        request.user, pk=pk)
    history = history_for(opportunity, user=request.user, limit=CHANGES_SCANNED)  # History card and timeline
    stage_changes = (opportunity.stage_changes.select_related("from_stage", "to_stage", "changed_by")[:50])
    roles = (OpportunityContactRole.objects.filter(opportunity=opportunity)
             .select_related("contact").order_by("id"))
    visible_contacts = set(Contact.objects.visible_to(request.user)
                           .filter(pk__in=[role.contact_id for role in roles]).values_list("id", flat=True))
    editable = can_edit(request.user, opportunity)
    context = {
        "opportunity": opportunity,
        "can_edit": editable,
        "stages": list(opportunity.pipeline.stages.filter(active=True)),
        "stage_changes": stage_changes,
        "roles": [(role, role.contact_id in visible_contacts) for role in roles],
        "role_form": ContactRoleForm(user=request.user, account_id=opportunity.account_id) if editable else None,
        "lost_reasons": LostReason.choices,
        "history": history[:HISTORY_SHOWN],
        "custom_values": custom_fields.display(CustomFieldTarget.OPPORTUNITY, opportunity.custom),
        "quotes": _quotes_of(opportunity, request.user),
        "panels": panels.render(request, opportunity, {"history": history}),
    }
    return render(request, "sales/opportunity_detail.html", context)


def _quotes_of(opportunity, user) -> list:
    from sales.models import Quote

    return list(Quote.objects.visible_to(user).filter(opportunity=opportunity).order_by("-created_at")[:20])


def opportunity_create(request):
    require_create(request.user, Opportunity)
    initial = {}
    account_id = to_int(request.GET.get("account"))
    if account_id:
        from accounts.models import Account

        account = Account.objects.visible_to(request.user).filter(pk=account_id).first()
        if account:
            initial["account"] = account
            initial["name"] = account.name
    pipeline = services.default_pipeline()
    if pipeline:
        initial["pipeline"] = pipeline
        initial["stage"] = pipeline.stages.filter(active=True, kind=StageKind.OPEN).first()
    initial["expected_close_date"] = timezone.localdate() + datetime.timedelta(days=30)
    form = OpportunityForm(request.POST or None, initial=initial, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            opportunity = services.opportunity_create(actor=request.user, **form.model_fields())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Opportunity %(name)s was created.") % {"name": opportunity.name})
            return redirect(opportunity)
    return render(request, "sales/opportunity_form.html", {"form": form})


def opportunity_edit(request, pk: int):
    opportunity = get_editable_or_404(Opportunity, request.user, pk=pk)
    form = OpportunityForm(request.POST or None, instance=opportunity, user=request.user)
    if request.method == "POST" and form.is_valid():
        expected = form.cleaned_data.get("lock_version")
        try:
            services.opportunity_update(opportunity=opportunity, actor=request.user, expected_version=expected,
                                        **form.model_fields())
        except services.StaleWrite as stale:
            messages.error(request, _("%(name)s was changed by someone else while you were editing. Your changes "
                                      "were not saved: the form now shows the current data.")
                           % {"name": stale.current.name})
            return render(request, "sales/opportunity_form.html", {
                "form": OpportunityForm(instance=stale.current, user=request.user), "opportunity": stale.current,
                "stale": True})
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Opportunity %(name)s was saved.") % {"name": opportunity.name})
            return redirect(opportunity)
    return render(request, "sales/opportunity_form.html", {"form": form, "opportunity": opportunity})


def opportunity_delete(request, pk: int):
    opportunity = get_editable_or_404(Opportunity, request.user, pk=pk)
    if request.method == "POST":
        services.opportunity_delete(opportunity=opportunity, actor=request.user)
        messages.success(request, _("Opportunity %(name)s was deleted.") % {"name": opportunity.name})
        return redirect("sales:opportunity_list")
    return render(request, "sales/opportunity_confirm_delete.html", {"opportunity": opportunity})


@require_POST
def opportunity_stage(request, pk: int):
    """A stage clicked on the opportunity page's stage path."""
    opportunity = get_editable_or_404(Opportunity, request.user, pk=pk)
    form = MoveForm({**request.POST.dict(), "opportunity": pk})
    if not form.is_valid():
        messages.error(request, " ".join(form.errors.get("__all__", [])) or _("Choose a stage."))
        return redirect(opportunity)
    try:
        services.opportunity_move(opportunity=opportunity, stage=form.cleaned_data["stage"], actor=request.user,
                                  expected_version=form.cleaned_data["lock_version"],
                                  lost_reason=form.cleaned_data["lost_reason"],
                                  lost_note=form.cleaned_data["lost_note"])
    except services.StaleWrite:
        messages.error(request, _("Someone else changed this opportunity a moment ago; nothing was moved. "
                                  "Here is the current state."))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Moved to %(stage)s.") % {"stage": form.cleaned_data["stage"]})
    return redirect(opportunity)


@require_POST
def opportunity_win_from_quote(request, quote_pk: int):
    """"Mark the deal as won" on an accepted quote."""
    from sales.models import Quote

    quote = get_visible_or_404(Quote.objects.select_related("opportunity__stage", "opportunity__pipeline"),
                               request.user, pk=quote_pk)
    if quote.opportunity is None:
        raise Http404
    opportunity = get_editable_or_404(Opportunity, request.user, pk=quote.opportunity_id)
    try:
        services.opportunity_win_from_quote(quote=quote, actor=request.user,
                                            expected_version=to_int(request.POST.get("lock_version")))
    except services.StaleWrite:
        messages.error(request, _("Someone else changed the deal a moment ago; nothing was changed. "
                                  "Check it and try again."))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("%(name)s is won.") % {"name": opportunity.name})
        return redirect(opportunity)
    return redirect(quote)


@require_POST
def contact_role_add(request, pk: int):
    opportunity = get_editable_or_404(Opportunity, request.user, pk=pk)
    form = ContactRoleForm(request.POST, user=request.user, account_id=opportunity.account_id)
    if form.is_valid():
        OpportunityContactRole.objects.update_or_create(
            opportunity=opportunity, contact=form.cleaned_data["contact"], defaults={"role": form.cleaned_data["role"]})
        messages.success(request, _("%(contact)s added.") % {"contact": form.cleaned_data["contact"]})
    else:
        messages.error(request, _("Choose a contact you can see and a role."))
    return redirect(opportunity.get_absolute_url() + "#contact-roles")


@require_POST
def contact_role_remove(request, pk: int, role_pk: int):
    opportunity = get_editable_or_404(Opportunity, request.user, pk=pk)
    role = get_object_or_404(OpportunityContactRole, pk=role_pk, opportunity=opportunity)
    role.delete()
    messages.success(request, _("Contact role removed."))
    return redirect(opportunity.get_absolute_url() + "#contact-roles")


# --- Board -----------------------------------------------------------------------------------


def board(request, pk: int | None = None):
    require_read(request.user, Opportunity)
    pipelines = list(Pipeline.objects.filter(active=True))
    if not pipelines:
        return render(request, "sales/board.html", {"pipelines": [], "pipeline": None})
    pipeline = next((p for p in pipelines if p.pk == pk), None) if pk else services.default_pipeline()
    if pipeline is None:
        raise Http404
    board_filter = BoardFilter(request.GET, queryset=Opportunity.objects.visible_to(request.user)
                               .filter(pipeline=pipeline), request=request)
    deals = board_filter.qs
    stages = list(pipeline.stages.filter(active=True))
    figures = _column_figures(deals, stages)
    columns = []
    for stage in stages:
        cards = _column_cards(deals, stage, offset=0, user=request.user)
        columns.append({"stage": stage, "cards": cards[:BOARD_CARDS], "more": len(cards) > BOARD_CARDS,
                        **figures.get(stage.pk, {"count": 0, "total": Decimal(0), "weighted": Decimal(0)})})
    return render(request, "sales/board.html", {
        "pipelines": pipelines, "pipeline": pipeline, "columns": columns, "filter": board_filter,
        "query": list_tools.clean_query(request.GET.urlencode()), "lost_reasons": LostReason.choices,
        "can_create": can_create(request.user, Opportunity), "closed_days": CLOSED_SHOWN_DAYS,
        "page_size": BOARD_CARDS, "currency": settings.DEFAULT_CURRENCY,
    })


def _closed_since():
    return timezone.now() - datetime.timedelta(days=CLOSED_SHOWN_DAYS)


def _in_column(deals, stage: Stage):
    deals = deals.filter(stage=stage)
    if stage.kind != StageKind.OPEN:
        deals = deals.filter(closed_at__gte=_closed_since())
    return deals


def _column_cards(deals, stage: Stage, *, offset: int, user) -> list:
    order = ("expected_close_date", "id") if stage.kind == StageKind.OPEN else ("-closed_at", "-id")
    cards = list(with_visibility_flag(_in_column(deals, stage).select_related("account", "owner"), user, "account")
                 .order_by(*order)[offset:offset + BOARD_CARDS + 1])
    today = timezone.localdate()
    for card in cards:  # only cards the user may move can be dragged (no query: the policy is in memory)
        card.movable = can_edit(user, card)
        card.overdue = _overdue(card, stage, today)
    return cards


def _overdue(card: Opportunity, stage: Stage, today: datetime.date) -> bool:
    """An open deal whose expected close date has passed (the board marks it)."""
    return stage.kind == StageKind.OPEN and card.expected_close_date is not None and card.expected_close_date < today


def _column_figures(deals, stages) -> dict:
    """Count, amount and weighted amount per column, in two queries (open and closed columns)."""
    open_ids = [stage.pk for stage in stages if stage.kind == StageKind.OPEN]
    closed_ids = [stage.pk for stage in stages if stage.kind != StageKind.OPEN]
    figures = {}
    for queryset in (deals.filter(stage_id__in=open_ids),
                     deals.filter(stage_id__in=closed_ids, closed_at__gte=_closed_since())):
        rows = queryset.order_by().values("stage_id").annotate(
            count=Count("id"), total=Sum("amount_base"), weighted=Sum(_weighted()))
        for row in rows:
            figures[row["stage_id"]] = {"count": row["count"], "total": row["total"] or Decimal(0),
                                        "weighted": (row["weighted"] or Decimal(0)).quantize(Decimal("0.01"))}
    return figures


def board_column(request, pk: int, stage_pk: int):
    """The next page of one column's cards (the column's "Show more")."""
    require_read(request.user, Opportunity)
    pipeline = get_object_or_404(Pipeline, pk=pk, active=True)
    stage = get_object_or_404(Stage, pk=stage_pk, pipeline=pipeline)
    board_filter = BoardFilter(request.GET, queryset=Opportunity.objects.visible_to(request.user)
                               .filter(pipeline=pipeline), request=request)
    offset = max(0, min(to_int(request.GET.get("offset")) or 0, 10_000))
    cards = _column_cards(board_filter.qs, stage, offset=offset, user=request.user)
    return render(request, "sales/board.html#more-cards", {
        "pipeline": pipeline,
        "column": {"stage": stage, "cards": cards[:BOARD_CARDS], "more": len(cards) > BOARD_CARDS},
        "next_offset": offset + BOARD_CARDS, "query": list_tools.clean_query(request.GET.urlencode()),
    })


@require_POST
def board_move(request):
    """A card dropped on another column. Answers JSON: the re-rendered card and the figures of the
    columns, or an error the board shows while it puts the card back."""
    require_read(request.user, Opportunity)
    form = MoveForm(request.POST)
    if not form.is_valid():
        if any(error.code == "lost_reason" for error in form.errors.as_data().get("__all__", [])):
            return JsonResponse({"error": _("Say why the deal was lost."), "need_reason": True}, status=400)
        return JsonResponse({"error": _("That move is not possible.")}, status=400)
    try:
        opportunity = get_editable_or_404(Opportunity.objects.select_related("stage"), request.user,
                                          pk=form.cleaned_data["opportunity"])
    except PermissionDenied:
        return JsonResponse({"error": _("You may look at this deal but not move it.")}, status=403)
    stage = form.cleaned_data["stage"]
    if stage.pipeline_id != opportunity.pipeline_id:
        return JsonResponse({"error": _("That column belongs to another pipeline.")}, status=400)
    try:
        services.opportunity_move(opportunity=opportunity, stage=stage, actor=request.user,
                                  expected_version=form.cleaned_data["lock_version"],
                                  lost_reason=form.cleaned_data["lost_reason"],
                                  lost_note=form.cleaned_data["lost_note"])
    except services.StaleWrite as stale:
        return JsonResponse({"error": _("%(name)s was changed by someone else a moment ago (now in %(stage)s). "
                                        "The board was reloaded; nothing was moved.")
                             % {"name": stale.current.name, "stage": stale.current.stage},
                             "stale": True}, status=409)
    except ValidationError as error:
        return JsonResponse({"error": " ".join(error.messages)}, status=400)
    opportunity = with_visibility_flag(Opportunity.objects.select_related("account", "owner", "stage"),
                                       request.user, "account").get(pk=opportunity.pk)
    opportunity.movable = True
    opportunity.overdue = _overdue(opportunity, opportunity.stage, timezone.localdate())
    board_filter = BoardFilter(request.POST, queryset=Opportunity.objects.visible_to(request.user)
                               .filter(pipeline=opportunity.pipeline), request=request)
    stages = list(opportunity.pipeline.stages.filter(active=True))
    figures = _column_figures(board_filter.qs, stages)
    return JsonResponse({
        "card": render_to_string("sales/_card.html", {"card": opportunity},
                                 request=request),
        "message": _("%(name)s moved to %(stage)s.") % {"name": opportunity.name, "stage": opportunity.stage},
        "columns": {str(stage.pk): _figures_text(figures.get(stage.pk)) for stage in stages},
    })


def _figures_text(figure: dict | None) -> dict:
    """A column's figures as the board prints them (the formatting layer, in the reader's language)."""
    figure = figure or {"count": 0, "total": Decimal(0), "weighted": Decimal(0)}
    currency = settings.DEFAULT_CURRENCY
    return {"count": figure["count"], "total": formatting.money(figure["total"], currency, whole=True),
            "weighted": formatting.money(figure["weighted"], currency, whole=True)}


# --- Pipelines (admins) --------------------------------------------------------------------------


def pipeline_list(request):
    require_admin(request.user)
    pipelines = Pipeline.objects.annotate(stage_count=Count("stages", distinct=True)).order_by("position", "name")
    return render(request, "sales/pipeline_list.html", {"pipelines": pipelines})


def pipeline_edit(request, pk: int | None = None):
    require_admin(request.user)
    pipeline = get_object_or_404(Pipeline, pk=pk) if pk else Pipeline()
    form = PipelineForm(request.POST or None, instance=pipeline)
    formset = stage_formset(request.POST or None, pipeline)
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        try:
            services.pipeline_save(form=form, formset=formset, actor=request.user)
        except ProtectedError:
            messages.error(request, _("A stage that deals are in cannot be deleted: untick “active” instead."))
        else:
            messages.success(request, _("Pipeline %(name)s was saved.") % {"name": form.instance.name})
            return redirect("sales:pipeline_list")
    return render(request, "sales/pipeline_form.html", {"form": form, "formset": formset, "pipeline": pipeline})


# --- The sales overview (/sales/) -------------------------------------------------------


def _accounts_by(user, field: str, limit: int = 12):
    return list(
        Account.objects.visible_to(user).values(field).annotate(total=Count("id")).order_by("-total")[:limit]
    )


def section_sales(request):
    labels = dict(AccountType.choices)
    by_type = [{**row, "label": labels.get(row["type"], row["type"])} for row in _accounts_by(request.user, "type")]
    latest = Account.objects.visible_to(request.user).select_related("owner").order_by("-created_at")[:10]
    context = {"by_type": by_type, "latest": latest}
    if can_read(request.user, Opportunity):
        context.update(sales_overview(request.user))
    return render(request, "sales/overview.html", context)


def sales_overview(user) -> dict:
    """The rep's or manager's sales at a glance: the default pipeline's open stages, the deals
    closing soonest, and what waits for them. A constant number of queries."""
    pipeline = default_pipeline()
    deals = Opportunity.objects.visible_to(user)
    stages = []
    if pipeline:
        figures = {row["stage_id"]: row for row in deals.filter(pipeline=pipeline, stage__kind=StageKind.OPEN)
                   .order_by().values("stage_id").annotate(count=Count("id"), total=Sum("amount_base"))}
        stages = [(stage, figures.get(stage.pk, {}).get("count", 0), figures.get(stage.pk, {}).get("total") or 0)
                  for stage in pipeline.stages.filter(active=True, kind=StageKind.OPEN)]
    closing = list(deals.open().select_related("account", "stage", "owner").order_by("expected_close_date", "id")[:8])
    today = timezone.localdate()
    for deal in closing:  # the board's rule: an open deal whose close date has passed is marked
        deal.overdue = _overdue(deal, deal.stage, today)
    return {
        "pipeline": pipeline,
        "pipeline_stages": stages,
        # What the user may see: a rep's own deals, a manager's team's, everyone's for executives.
        "closing_soon": closing,
        "open_leads": Lead.objects.visible_to(user).open().order_by()[:COUNT_LIMIT + 1].count(),
        "count_limit": COUNT_LIMIT,
        "may_approve": user.is_admin or bool(visibility.managed_team_ids(user)),
        "approvals_waiting": pending_approvals_for(user).count(),  # admins: also requests with no manager
        "overdue_invoices": Invoice.objects.visible_to(user).overdue().count(),
        "default_currency": settings.DEFAULT_CURRENCY,
    }
