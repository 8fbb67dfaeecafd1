from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from accounts import duplicates, services
from accounts.forms import AccountForm
from accounts.models import MAX_TREE_DEPTH, MAX_TREE_SIZE, Account
from crm import custom_fields, hooks, panels
from crm.history import CHANGES_SCANNED, history_for
from crm.models import CustomFieldTarget
from crm.phones import normalize_phone
from crm.visibility import (
    can_edit,
    can_see,
    get_editable_or_404,
    get_visible_or_404,
    require_create,
)

HISTORY_SHOWN = 50

def account_detail(request, pk: int):
    account = get_visible_or_404(
        Account.objects.select_related("owner", "team", "territory", "parent"), request.user, pk=pk
    )
    history = history_for(account, user=request.user, limit=CHANGES_SCANNED)  # History card and timeline
    context = {
        "group": account_group(account, request.user),
        "custom_values": custom_fields.display(CustomFieldTarget.ACCOUNT, account.custom),
        "account": account,
        "base_currency": settings.DEFAULT_CURRENCY,
        "can_edit": can_edit(request.user, account),
        "history": history[:HISTORY_SHOWN],
        "parent_visible": bool(account.parent_id) and can_see(request.user, account.parent),
        "panels": panels.render(request, account, {"history": history}),
    }
    return render(request, "accounts/account_detail.html", context)


def account_group(account: Account, user) -> dict | None:
    """The account's group: its top parent's tree (visible members only), with roll-up figures."""
    top = account
    for _level in range(MAX_TREE_DEPTH):
        if top.parent_id is None:
            break
        parent = Account.objects.visible_to(user).filter(pk=top.parent_id).only("id", "parent_id", "name").first()
        if parent is None:
            break
        top = parent
    tree = Account.objects.subtree(top.pk)
    if len(tree) <= 1:
        return None
    depth_of = {pk: depth for pk, depth, _parent in tree}
    members = Account.objects.visible_to(user).filter(pk__in=depth_of).only(
        "id", "name", "type", "annual_revenue", "employees", "parent_id", "deleted_at", "owner_id", "team_id",
        "shared_with_team")
    by_id = {member.pk: member for member in members}
    rows = [(depth_of[pk], by_id[pk]) for pk, _depth, _parent in tree if pk in by_id]
    # Summed from the members already read (they are the visible ones): no second query.
    revenues = [m.annual_revenue for m in by_id.values() if m.annual_revenue is not None]
    headcounts = [m.employees for m in by_id.values() if m.employees is not None]
    totals = {"revenue": sum(revenues) if revenues else None, "employees": sum(headcounts) if headcounts else None,
              "accounts": len(rows)}
    # Other modules' figures for the group ("12 contacts"), within what the user sees.
    figures = [figure for answer in hooks.collect(hooks.ACCOUNT_GROUP_FIGURES, account_ids=list(by_id), user=user)
               for figure in answer]
    return {"rows": rows, "totals": totals, "figures": figures, "truncated": len(tree) >= MAX_TREE_SIZE}


def _duplicates_for(form: AccountForm, user, exclude_pk=None):
    data = form.cleaned_data
    return duplicates.account_duplicates(
        user=user, name=data.get("name", ""), tax_number=data.get("tax_number", ""),
        phone_e164=normalize_phone(data.get("phone", "")) or "", email=data.get("email", ""), exclude_pk=exclude_pk)


def account_create(request):
    require_create(request.user, Account)
    form = AccountForm(request.POST or None, user=request.user)
    matches = []
    if request.method == "POST" and form.is_valid():
        matches = _duplicates_for(form, request.user)
        if not matches or form.cleaned_data["confirm_duplicates"]:
            account = services.account_create(actor=request.user, **form.model_fields())
            messages.success(request, _("Account %(name)s was created.") % {"name": account.name})
            return redirect(account)
        messages.warning(request, _("This company may already be in the CRM. Check the matches below."))
    return render(request, "accounts/account_form.html", {"form": form, "matches": matches})


def account_edit(request, pk: int):
    account = get_editable_or_404(Account, request.user, pk=pk)
    form = AccountForm(request.POST or None, instance=account, user=request.user)
    matches = []
    if request.method == "POST" and form.is_valid():
        identity_changed = {"name", "tax_number", "phone", "email"} & set(form.changed_data)
        matches = _duplicates_for(form, request.user, exclude_pk=account.pk) if identity_changed else []
        if not matches or form.cleaned_data["confirm_duplicates"]:
            services.account_update(account=account, actor=request.user, **form.model_fields())
            messages.success(request, _("Account %(name)s was saved.") % {"name": account.name})
            return redirect(account)
        messages.warning(request, _("This company may already be in the CRM. Check the matches below."))
    return render(request, "accounts/account_form.html", {"form": form, "account": account, "matches": matches})


def account_delete(request, pk: int):
    account = get_editable_or_404(Account, request.user, pk=pk)
    if request.method == "POST":
        services.account_delete(account=account, actor=request.user)
        messages.success(request, _("Account %(name)s was deleted.") % {"name": account.name})
        return redirect("accounts:list")
    return render(request, "accounts/account_confirm_delete.html", {"account": account})
