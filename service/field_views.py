"""Field service pages: a ticket becomes a work order in one click, the dispatch page proposes the
specialists by skill and territory with their load that day, the work order's page, the specialist's
day list (start, finish, log time and materials), and billing the work through orders and invoices.

Work orders are read through `WorkOrder.objects.visible_to` (the ticket's rule, and the specialist's
own visits); changing one needs the policy's write scope, or being its specialist."""

from datetime import datetime, timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.visibility import can_edit, can_see, get_editable_or_404, get_visible_or_404, with_visibility_flag
from service import contract_services, field_services
from service.forms import BillForm, DispatchForm, WorkLogForm
from service.models import Ticket, WorkOrder, WorkOrderStatus

ACTIONS = {
    "start": (field_services.work_order_start, WorkOrderStatus.IN_PROGRESS),
    "finish": (field_services.work_order_finish, WorkOrderStatus.DONE),
    "cancel": (field_services.work_order_cancel, WorkOrderStatus.CANCELLED),
}


def _work_orders(user):
    return WorkOrder.objects.visible_to(user).select_related("ticket", "account", "contact", "owner", "skill")


def _workable(request, pk: int) -> WorkOrder:
    """The work order, if the user may work on it: the desk (write scope) or its own specialist."""
    work_order = get_visible_or_404(_work_orders(request.user), request.user, pk=pk)
    if not (can_edit(request.user, work_order) or work_order.owner_id == request.user.pk):
        raise PermissionDenied
    return work_order


def _back(request, work_order: WorkOrder):
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return redirect(target)
    return redirect(work_order)


def _errors(error: ValidationError) -> str:
    return " ".join(error.messages)


@require_POST
def work_order_create(request, pk: int):
    """One click on the ticket page: the visit is made from the ticket, then dispatched."""
    ticket = get_editable_or_404(Ticket, request.user, pk=pk)
    work_order = field_services.work_order_create(ticket=ticket, actor=request.user)
    messages.success(request, _("Work order %(number)s was created. Now send a specialist.")
                     % {"number": work_order.number})
    return redirect("service:work_order_dispatch", pk=work_order.pk)


def work_order_detail(request, pk: int):
    user = request.user
    work_orders = with_visibility_flag(with_visibility_flag(_work_orders(user), user, "account"), user, "contact")
    work_order = get_visible_or_404(work_orders, user, pk=pk)
    logs = list(work_order.work_logs.select_related("user", "product", "billed_order"))
    workable = can_edit(user, work_order) or work_order.owner_id == user.pk
    billable = [log for log in logs if log.billed_order_id is None]
    orders = {log.billed_order_id: log.billed_order for log in logs if log.billed_order_id}
    context = {
        "work_order": work_order, "logs": logs, "workable": workable, "can_dispatch": can_edit(user, work_order),
        "work": contract_services.work_totals(logs) if logs else None,
        "unbilled_count": len(billable),
        "billed_orders": [(order, can_see(user, order)) for order in orders.values()],
        "ticket_visible": can_see(user, work_order.ticket),
        "can_bill": field_services.can_bill(user) and bool(billable) and work_order.account_id is not None,
    }
    if workable and work_order.status != WorkOrderStatus.CANCELLED:
        context["log_form"] = WorkLogForm()
    if context["can_bill"]:
        labour = work_order.skill.labour_product_id if work_order.skill_id else None
        context["bill_form"] = BillForm(initial={"labour": labour})
    return render(request, "service/work_order_detail.html", context)


def work_order_dispatch(request, pk: int):
    """The slot and the specialist: those with the skill who cover the customer's territory, least
    loaded that day first. GET re-proposes for another skill or day; POST with `dispatch` sends one."""
    work_order = get_editable_or_404(_work_orders(request.user).select_related("account__territory"),
                                     request.user, pk=pk)
    today = timezone.localdate()
    source = request.POST if request.method == "POST" else request.GET
    initial_day = timezone.localdate(work_order.scheduled_start) if work_order.scheduled_start else today
    data = source.copy() if source else None
    if data is not None:
        data.setdefault("day", initial_day.isoformat())
    form = DispatchForm(data, initial={
        "skill": work_order.skill_id, "day": initial_day, "specialist": work_order.owner_id,
        "starts": timezone.localtime(work_order.scheduled_start).time() if work_order.scheduled_start else None,
        "ends": timezone.localtime(work_order.scheduled_end).time() if work_order.scheduled_end else None})
    if data is not None and form.is_valid():
        skill, day = form.cleaned_data["skill"], form.cleaned_data["day"]
        any_territory = form.cleaned_data["any_territory"]
    else:
        skill, day, any_territory = work_order.skill, initial_day, False
    candidates = field_services.dispatch_candidates(work_order=work_order, skill=skill, day=day,
                                                    any_territory=any_territory)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if data["specialist"].pk not in {candidate.user.pk for candidate in candidates}:
            form.add_error("specialist", _("Pick one of the specialists proposed for this skill and day."))
        else:
            zone = timezone.get_current_timezone()
            starts = datetime.combine(day, data["starts"], tzinfo=zone)
            ends = datetime.combine(day, data["ends"], tzinfo=zone)
            try:
                field_services.work_order_dispatch(work_order=work_order, actor=request.user,
                                                   specialist=data["specialist"], starts=starts, ends=ends,
                                                   skill=skill)
            except ValidationError as error:
                messages.error(request, _errors(error))
            else:
                messages.success(request, _("%(number)s is on %(name)s's calendar.")
                                 % {"number": work_order.number, "name": data["specialist"]})
                return redirect(work_order)
    return render(request, "service/work_order_dispatch.html", {
        "work_order": work_order, "form": form, "candidates": candidates, "day": day, "skill": skill,
        "territory": work_order.account.territory if work_order.account_id else None,
        "chosen": form["specialist"].value(),
    })


@require_POST
def work_order_action(request, pk: int, action: str):
    service, _status = ACTIONS.get(action, (None, None))
    if service is None:
        raise Http404  # no such action, the same as no such page
    work_order = _workable(request, pk)
    if action == "cancel" and not can_edit(request.user, work_order):
        raise PermissionDenied  # the desk cancels a visit; the specialist finishes it
    try:
        work_order = service(work_order=work_order, actor=request.user)
    except ValidationError as error:
        messages.error(request, _errors(error))
    else:
        messages.success(request, _("%(number)s is now %(status)s.")
                         % {"number": work_order.number, "status": work_order.get_status_display().lower()})
    return _back(request, work_order)


@require_POST
def work_order_log(request, pk: int):
    work_order = _workable(request, pk)
    form = WorkLogForm(request.POST)
    if form.is_valid():
        try:
            field_services.work_order_log(work_order=work_order, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            messages.error(request, _errors(error))
        else:
            messages.success(request, _("Work logged on %(number)s.") % {"number": work_order.number})
    else:
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return _back(request, work_order)


@require_POST
def work_order_bill(request, pk: int):
    work_order = get_visible_or_404(_work_orders(request.user), request.user, pk=pk)
    if not field_services.can_bill(request.user):
        raise PermissionDenied
    form = BillForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect(work_order)
    try:
        order, invoice = field_services.work_order_bill(work_order=work_order, actor=request.user,
                                                        labour=form.cleaned_data["labour"])
    except ValidationError as error:
        messages.error(request, _errors(error))
    else:
        messages.success(request, _("Billed: order %(order)s and invoice %(invoice)s for %(account)s.")
                         % {"order": order.number, "invoice": invoice.number, "account": work_order.account})
    return redirect(work_order)


def my_day(request):
    """The specialist's visits of the day in order: where, whom to call, the ticket, and the buttons."""
    user = request.user
    today = timezone.localdate()
    try:
        day = datetime.strptime(request.GET.get("date", ""), "%Y-%m-%d").date()  # noqa: DTZ007 - a date only
    except ValueError:
        day = today
    visits = list(with_visibility_flag(field_services.day_list(user, day), user, "contact"))
    products = None
    for visit in visits:  # one form per visit, each with its own element ids; the catalogue read once
        visit.log_form = WorkLogForm(auto_id=f"log-{visit.pk}-%s")
        if products is None:
            products = list(visit.log_form.fields["product"].choices)
        visit.log_form.fields["product"].widget.choices = products
    return render(request, "service/my_day.html", {
        "visits": visits, "day": day, "today": today,
        "previous": (day - timedelta(days=1)).isoformat(), "next": (day + timedelta(days=1)).isoformat(),
        "here": reverse("service:my_day") + (f"?date={day.isoformat()}" if day != today else ""),
    })
