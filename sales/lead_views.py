"""Lead pages: list and queue, create/edit with the duplicate check, status changes, detail with
the timeline, bulk actions, conversion, and the admins' distribution rules."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Account
from contacts.models import Contact
from crm import custom_fields, panels
from crm.forms import add_service_errors
from crm.history import CHANGES_SCANNED, history_for
from crm.list_tools import to_int
from crm.models import CustomFieldTarget
from crm.visibility import (
    can_create,
    can_edit,
    can_see,
    get_editable_or_404,
    get_visible_or_404,
    require_admin,
    require_create,
    require_read,
)
from sales import lead_services as services
from sales.lead_forms import EXISTING, LeadConvertForm, LeadForm, LeadRuleForm, LeadStatusForm
from sales.models import Lead, LeadAssignmentRule, LeadStatus
from sales.services import StaleWrite

HISTORY_SHOWN = 50

def lead_detail(request, pk: int):
    lead = get_visible_or_404(
        Lead.objects.select_related("owner", "team", "territory", "converted_by", "converted_account",
                                    "converted_contact", "converted_opportunity"), request.user, pk=pk)
    history = history_for(lead, user=request.user, limit=CHANGES_SCANNED)  # History card and timeline
    became = []
    for label, obj in ((_("Account"), lead.converted_account), (_("Contact"), lead.converted_contact),
                       (_("Opportunity"), lead.converted_opportunity)):
        if obj is not None:
            became.append({"label": label, "obj": obj, "visible": can_see(request.user, obj),
                           "kind": obj._meta.model_name})
    editable = can_edit(request.user, lead)
    context = {
        "lead": lead,
        "can_edit": editable,
        "can_convert": editable and lead.status in services.CONVERTIBLE and can_create(request.user, Account),
        "status_form": LeadStatusForm(initial={"status": lead.status, "reason": lead.disqualify_reason}),
        "became": became,
        "history": history[:HISTORY_SHOWN],
        "panels": panels.render(request, lead, {"history": history}),
        "custom_values": custom_fields.display(CustomFieldTarget.LEAD, lead.custom),
    }
    return render(request, "sales/lead_detail.html", context)


def _duplicates_for(form: LeadForm, user, exclude_pk=None):
    data = form.cleaned_data
    return services.lead_duplicates(user=user, first_name=data.get("first_name", ""),
                                    last_name=data.get("last_name", ""), company=data.get("company", ""),
                                    email=data.get("email", ""), phone=data.get("phone", ""), exclude_pk=exclude_pk)


def lead_create(request):
    require_create(request.user, Lead)
    form = LeadForm(request.POST or None, user=request.user)
    matches = []
    if request.method == "POST" and form.is_valid():
        matches = _duplicates_for(form, request.user)
        if not matches or form.cleaned_data["confirm_duplicates"]:
            try:
                lead = services.lead_create(actor=request.user, **form.model_fields())
            except ValidationError as error:
                form.add_error(None, error)
            else:
                if can_see(request.user, lead):
                    messages.success(request, _("Lead %(name)s was created.") % {"name": lead})
                    return redirect(lead)
                messages.success(request, _("Lead %(name)s was created and handed to %(owner)s by the rules.")
                                 % {"name": lead, "owner": lead.owner or _("the queue")})
                return redirect("sales:lead_list")
        else:
            messages.warning(request, _("This lead may already be in the CRM. Check the matches below."))
    return render(request, "sales/lead_form.html", {"form": form, "matches": matches})


def lead_edit(request, pk: int):
    lead = get_editable_or_404(Lead, request.user, pk=pk)
    form = LeadForm(request.POST or None, instance=lead, user=request.user)
    matches = []
    if request.method == "POST" and form.is_valid():
        identity_changed = {"first_name", "last_name", "company", "email", "phone"} & set(form.changed_data)
        matches = _duplicates_for(form, request.user, exclude_pk=lead.pk) if identity_changed else []
        if not matches or form.cleaned_data["confirm_duplicates"]:
            try:
                services.lead_update(lead=lead, actor=request.user,
                                     expected_version=form.cleaned_data["lock_version"], **form.model_fields())
            except StaleWrite as stale:
                messages.error(request, _("%(name)s was changed by someone else while you were editing. Your "
                                          "changes were not saved: the form now shows the current data.")
                               % {"name": stale.current})
                form = LeadForm(instance=stale.current, user=request.user)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("Lead %(name)s was saved.") % {"name": lead})
                return redirect(lead)
        else:
            messages.warning(request, _("This lead may already be in the CRM. Check the matches below."))
    return render(request, "sales/lead_form.html", {"form": form, "lead": lead, "matches": matches})


@require_POST
def lead_duplicates(request):
    """htmx: possible duplicates of the lead being typed into the form."""
    require_read(request.user, Lead)  # no probing for leads by a role that sees none
    data = request.POST
    exclude = to_int(data.get("record_id"))
    matches = services.lead_duplicates(
        user=request.user, first_name=data.get("first_name", ""), last_name=data.get("last_name", ""),
        company=data.get("company", ""), email=data.get("email", ""), phone=data.get("phone", ""),
        exclude_pk=exclude, country=data.get("country", ""))
    return render(request, "sales/_lead_duplicates.html", {"matches": matches})


@require_POST
def lead_status(request, pk: int):
    lead = get_editable_or_404(Lead, request.user, pk=pk)
    form = LeadStatusForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(lead)
    try:
        services.lead_set_status(lead=lead, actor=request.user, status=form.cleaned_data["status"],
                                 reason=form.cleaned_data["reason"])
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return redirect(lead)
    messages.success(request, _("Lead %(name)s is now %(status)s.") % {
        "name": lead, "status": lead.get_status_display().lower()})
    return redirect(lead)


def lead_delete(request, pk: int):
    lead = get_editable_or_404(Lead, request.user, pk=pk)
    if request.method == "POST":
        services.lead_delete(lead=lead, actor=request.user)
        messages.success(request, _("Lead %(name)s was deleted.") % {"name": lead})
        return redirect("sales:lead_list")
    return render(request, "sales/lead_confirm_delete.html", {"lead": lead})


# --- Conversion ------------------------------------------------------------------------


def lead_convert(request, pk: int):
    lead = get_editable_or_404(Lead.objects.select_related("owner"), request.user, pk=pk)
    require_create(request.user, Account)
    require_create(request.user, Contact)
    if lead.status == LeadStatus.CONVERTED:
        messages.warning(request, _("This lead was already converted: it cannot be converted again. Open what it "
                                    "became below."))
        return redirect(lead)
    if lead.status not in services.CONVERTIBLE:
        messages.error(request, _("A disqualified lead cannot be converted: set it back to new or working first."))
        return redirect(lead)
    initial = {}
    chosen = Account.objects.visible_to(request.user).filter(pk=to_int(request.GET.get("account"))).first()
    if chosen is not None:
        initial.update(account_mode=EXISTING, account=chosen)
        contact = services.matching_contact(account=chosen, lead=lead, user=request.user)
        if contact is not None:
            initial.update(contact_mode=EXISTING, contact=contact)
    form = LeadConvertForm(request.POST or None, user=request.user, lead=lead, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if data.get("create_opportunity"):
            from sales.models import Opportunity

            require_create(request.user, Opportunity)
        try:
            with transaction.atomic():
                services.lead_convert(lead=lead, actor=request.user, account=data["account"],
                                      account_name=data.get("account_name", ""), contact=data["contact"],
                                      opportunity=form.opportunity_plan())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Lead %(name)s was converted.") % {"name": lead})
            return redirect(lead)
    suggestions = services.conversion_suggestions(lead=lead, user=request.user)
    return render(request, "sales/lead_convert.html", {
        "lead": lead, "form": form, "suggestions": suggestions, "chosen": chosen})


# --- Distribution rules (admins) ---------------------------------------------------------


def lead_rules(request):
    require_admin(request.user)
    form = LeadRuleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        rule = form.save(commit=False)
        last = LeadAssignmentRule.objects.order_by("-position").values_list("position", flat=True).first()
        rule.position = (last or 0) + 10
        rule.save()
        messages.success(request, _("Rule “%(name)s” was added.") % {"name": rule.name})
        return redirect("sales:lead_rules")
    rules = LeadAssignmentRule.objects.select_related("territory", "team", "user", "last_assigned")
    return render(request, "sales/lead_rules.html", {"rules": rules, "form": form})


def lead_rule_edit(request, pk: int):
    require_admin(request.user)
    rule = get_object_or_404(LeadAssignmentRule, pk=pk)
    form = LeadRuleForm(request.POST or None, instance=rule)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Rule “%(name)s” was saved.") % {"name": rule.name})
        return redirect("sales:lead_rules")
    rules = LeadAssignmentRule.objects.select_related("territory", "team", "user", "last_assigned")
    return render(request, "sales/lead_rules.html", {"rules": rules, "form": form, "rule": rule})


@require_POST
def lead_rule_delete(request, pk: int):
    require_admin(request.user)
    rule = get_object_or_404(LeadAssignmentRule, pk=pk)
    rule.delete()
    messages.success(request, _("Rule “%(name)s” was deleted.") % {"name": rule.name})
    return redirect("sales:lead_rules")


@require_POST
@transaction.atomic
def lead_rule_move(request, pk: int):
    """Up or down one place: the first matching rule wins, so the order matters."""
    require_admin(request.user)
    rules = list(LeadAssignmentRule.objects.select_for_update().order_by("position", "id"))
    index = next((i for i, rule in enumerate(rules) if rule.pk == pk), None)
    if index is None:
        raise Http404
    target = index - 1 if request.POST.get("direction") == "up" else index + 1
    if 0 <= target < len(rules):
        rules[index], rules[target] = rules[target], rules[index]
    for position, rule in enumerate(rules):
        rule.position = (position + 1) * 10
    LeadAssignmentRule.objects.bulk_update(rules, ["position"])
    return redirect("sales:lead_rules")

