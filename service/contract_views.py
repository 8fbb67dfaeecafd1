"""Contracts and warranties: the record page (coverage, entitlement used, its tickets, the renewal),
writing one, the renewal deal in one click; and work logged on a ticket."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Account
from crm.forms import add_service_errors
from crm.list_tools import to_int
from crm.visibility import can_create, can_edit, get_editable_or_404, get_visible_or_404, require_create
from sales.models import Opportunity
from service import contract_services
from service.field_services import work_rollup
from service.forms import ContractForm, WorkLogForm
from service.models import Contract, Ticket, WorkLog

TICKETS_SHOWN = 10


def _contracts(user):
    return Contract.objects.visible_to(user).select_related("account", "owner", "product", "sla_policy")


def contract_detail(request, pk: int):
    contract = get_visible_or_404(_contracts(request.user), request.user, pk=pk)
    used = contract_services.usage([contract])[contract.pk]
    tickets = list(Ticket.objects.visible_to(request.user).filter(contract=contract).select_related("owner")
                   .order_by("-created_at")[:TICKETS_SHOWN])
    return render(request, "service/contract_detail.html", {
        "contract": contract, "used": used, "remaining": contract_services.remaining(contract, used),
        "tickets": tickets, "can_edit": can_edit(request.user, contract),
        "can_renew": can_edit(request.user, contract) and can_create(request.user, Opportunity),
        "work": work_rollup(WorkLog.objects.filter(ticket__contract=contract)),
        "renewal_visible": contract.renewal_id is not None and _sees(request.user, contract.renewal),
    })


def _sees(user, deal) -> bool:
    from crm.visibility import can_see

    return can_see(user, deal)


def contract_create(request):
    require_create(request.user, Contract)
    initial = {}
    account_id = to_int(request.GET.get("account"))
    if account_id and Account.objects.visible_to(request.user).filter(pk=account_id).exists():
        initial["account"] = account_id
    form = ContractForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            contract = contract_services.contract_create(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Contract %(number)s was saved.") % {"number": contract.number})
            return redirect(contract)
    return render(request, "service/contract_form.html", {"form": form})


def contract_edit(request, pk: int):
    contract = get_editable_or_404(_contracts(request.user), request.user, pk=pk)
    form = ContractForm(request.POST or None, instance=contract, user=request.user)
    if request.method == "POST":
        if request.POST.get("delete"):
            contract_services.contract_delete(contract=contract, actor=request.user)
            messages.success(request, _("Contract %(number)s was deleted.") % {"number": contract.number})
            return redirect("service:contract_list")
        if form.is_valid():
            data = dict(form.cleaned_data)
            data["owner"] = data.get("owner") or contract.owner
            try:
                contract_services.contract_update(contract=contract, actor=request.user, **data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("Contract %(number)s was saved.") % {"number": contract.number})
                return redirect(contract)
    return render(request, "service/contract_form.html", {"form": form, "contract": contract})


@require_POST
def contract_renew(request, pk: int):
    contract = get_editable_or_404(Contract, request.user, pk=pk)
    require_create(request.user, Opportunity)  # the renewal is a deal: the desk keeps contracts, sales sells
    try:
        deal = contract_services.contract_renew(contract=contract, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(contract)
    messages.success(request, _("Renewal deal “%(name)s” is in the pipeline.") % {"name": deal.name})
    return redirect(contract)


@require_POST
def work_log_add(request, pk: int):
    ticket = get_editable_or_404(Ticket, request.user, pk=pk)
    form = WorkLogForm(request.POST)
    if form.is_valid():
        try:
            contract_services.work_log_add(ticket=ticket, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Work logged."))
    else:
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect(ticket.get_absolute_url() + "#work-log")
