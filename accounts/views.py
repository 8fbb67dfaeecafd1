from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from accounts import services
from accounts.filters import AccountFilter
from accounts.forms import AccountForm
from accounts.models import Account
from crm.history import history_for
from crm.pagination import paginate
from crm.visibility import can_create, can_edit, get_editable_or_404, get_visible_or_404, require_create

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
    page = paginate(account_filter.qs.order_by(*ordering), request.GET.get("page"))
    context = {
        "filter": account_filter,
        "page": page,
        "sort": sort,
        "can_create": can_create(request.user, Account),
    }
    return render(request, "accounts/account_list.html", context)


def account_detail(request, pk: int):
    account = get_visible_or_404(
        Account.objects.select_related("owner", "team", "territory", "parent"), request.user, pk=pk
    )
    context = {
        "account": account,
        "can_edit": can_edit(request.user, account),
        "history": history_for(account),
    }
    return render(request, "accounts/account_detail.html", context)


def account_create(request):
    require_create(request.user, Account)
    form = AccountForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        account = services.account_create(actor=request.user, **data)
        messages.success(request, _("Account %(name)s was created.") % {"name": account.name})
        return redirect(account)
    return render(request, "accounts/account_form.html", {"form": form})


def account_edit(request, pk: int):
    account = get_editable_or_404(Account, request.user, pk=pk)
    form = AccountForm(request.POST or None, instance=account, user=request.user)
    if request.method == "POST" and form.is_valid():
        services.account_update(account=account, actor=request.user, **form.cleaned_data)
        messages.success(request, _("Account %(name)s was saved.") % {"name": account.name})
        return redirect(account)
    return render(request, "accounts/account_form.html", {"form": form, "account": account})


def account_delete(request, pk: int):
    account = get_editable_or_404(Account, request.user, pk=pk)
    if request.method == "POST":
        services.account_delete(account=account, actor=request.user)
        messages.success(request, _("Account %(name)s was deleted.") % {"name": account.name})
        return redirect("accounts:list")
    return render(request, "accounts/account_confirm_delete.html", {"account": account})
