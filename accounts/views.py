from django.contrib import messages
from django.db.models import Sum
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from accounts import duplicates, services
from accounts.filters import AccountFilter
from accounts.forms import AccountForm
from accounts.models import MAX_TREE_DEPTH, MAX_TREE_SIZE, Account
from contacts.models import Contact
from crm import custom_fields, list_tools
from crm.history import history_for
from crm.list_tools import to_int
from crm.models import ActivityKind, CustomFieldTarget
from crm.pagination import COUNT_LIMIT, TEXT_MATCH_LIMIT, paginate
from crm.phones import normalize_phone
from crm.timeline import CHANGES_SCANNED, timeline_page
from crm.visibility import (
    assignable_owners,
    can_create,
    can_edit,
    can_see,
    get_editable_or_404,
    get_visible_or_404,
    require_create,
)

HISTORY_SHOWN = 50

SORTS = {
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
    "type": ("type", "name", "id"),
    "-type": ("-type", "name", "id"),
    "updated": ("updated_at", "id"),
    "-updated": ("-updated_at", "-id"),
}


def account_list(request):
    base = Account.objects.visible_to(request.user).select_related("owner", "territory")
    account_filter = AccountFilter(request.GET, queryset=base, request=request)
    sort = request.GET.get("sort", "name")
    ordering = SORTS.get(sort, SORTS["name"])
    page = paginate(account_filter.qs.order_by(*ordering), request.GET.get("page"),
                    count_limit=TEXT_MATCH_LIMIT if request.GET.get("q", "").strip() else COUNT_LIMIT)
    context = {
        "filter": account_filter,
        "page": page,
        "sort": sort,
        "can_create": can_create(request.user, Account),
        "saved_views": list_tools.views_for(request.user, "accounts.account"),
        "current_query": list_tools.clean_query(request.GET.urlencode()),
        "owners": assignable_owners(request.user).filter(is_active=True).order_by("first_name"),
    }
    return render(request, "accounts/account_list.html", context)


EXPORT_COLUMNS = [
    (_lazy("Company name"), "name"), (_lazy("Legal name"), "legal_name"), (_lazy("Type"), "get_type_display"),
    (_lazy("Industry"), "industry"), (_lazy("Tax number"), "tax_number"), (_lazy("Phone"), "phone"),
    (_lazy("E-mail"), "email"), (_lazy("Website"), "website"), (_lazy("Country"), "country"),
    (_lazy("City"), "city"), (_lazy("Owner"), "owner"), (_lazy("Tags"), "tags"), (_lazy("Created"), "created_at"),
]


@require_POST
def account_bulk(request):
    """Bulk actions on the ticked rows: writes only touch rows the user may edit, the export
    only rows the user may see."""
    ids = list_tools.selected_ids(request)
    back = reverse("accounts:list") + "?" + list_tools.clean_query(request.POST.get("query", ""))
    action = request.POST.get("action")
    if not ids:
        messages.error(request, _("Tick at least one account first."))
        return redirect(back)
    if action == "export":
        rows = Account.objects.visible_to(request.user).filter(pk__in=ids).select_related("owner").order_by("name")
        return list_tools.csv_response(
            "accounts", [str(label) for label, _attr in EXPORT_COLUMNS],
            ([_export_value(account, attr) for _label, attr in EXPORT_COLUMNS] for account in rows))
    editable = Account.objects.editable_by(request.user).filter(pk__in=ids)
    skipped = len(ids) - editable.count()
    if action == "assign":
        owner = assignable_owners(request.user).filter(is_active=True, pk=to_int(request.POST.get("owner"))).first()
        if owner is None:
            messages.error(request, _("Choose whom to assign the accounts to."))
            return redirect(back)
        count = services.accounts_assign(actor=request.user, accounts=editable, owner=owner)
        messages.success(request, ngettext("%(count)s account assigned to %(owner)s.",
                                           "%(count)s accounts assigned to %(owner)s.", count)
                         % {"count": count, "owner": owner})
    elif action in ("add_tag", "remove_tag"):
        count = services.accounts_tag(actor=request.user, accounts=editable, tag=request.POST.get("tag", ""),
                                      add=action == "add_tag")
        messages.success(request, ngettext("%(count)s account changed.", "%(count)s accounts changed.", count)
                         % {"count": count})
    else:
        messages.error(request, _("Choose an action."))
        return redirect(back)
    if skipped:
        messages.warning(request, ngettext(
            "%(count)s ticked account is read-only for you and was left as it was.",
            "%(count)s ticked accounts are read-only for you and were left as they were.", skipped)
            % {"count": skipped})
    return redirect(back)



def _export_value(account, attr):
    value = getattr(account, attr)
    value = value() if callable(value) else value
    if isinstance(value, list):
        return ", ".join(value)
    return value


CONTACTS_ON_PAGE = 20


def account_detail(request, pk: int):
    account = get_visible_or_404(
        Account.objects.select_related("owner", "team", "territory", "parent"), request.user, pk=pk
    )
    history = history_for(account, user=request.user, limit=CHANGES_SCANNED)  # History card and timeline
    contacts = Contact.objects.visible_to(request.user).filter(account=account).order_by("last_name", "id")
    context = {
        "group": account_group(account, request.user),
        "custom_values": custom_fields.display(CustomFieldTarget.ACCOUNT, account.custom),
        "account": account,
        "can_edit": can_edit(request.user, account),
        "history": history[:HISTORY_SHOWN],
        "contacts": list(contacts[: CONTACTS_ON_PAGE + 1]),
        "contacts_limit": CONTACTS_ON_PAGE,
        "timeline": timeline_page(user=request.user, account=account, kind=request.GET.get("kind", ""),
                                  history=history),
        "parent_visible": bool(account.parent_id) and can_see(request.user, account.parent),
        "timeline_url": f"/timeline/?account={account.pk}",
        "activity_kinds": ActivityKind.choices,
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
    totals = Account.objects.filter(pk__in=by_id).aggregate(revenue=Sum("annual_revenue"), employees=Sum("employees"))
    totals["contacts"] = Contact.objects.visible_to(user).filter(account_id__in=by_id).count()
    totals["accounts"] = len(rows)
    return {"rows": rows, "totals": totals, "truncated": len(tree) >= MAX_TREE_SIZE}


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
