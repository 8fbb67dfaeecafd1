"""Search, autocomplete, duplicate checks and notifications: every read goes through
the visibility policy."""

from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Account
from contacts.models import Contact
from crm import duplicates, list_tools
from crm.fields import MultiEmailField, MultiPhoneField
from crm.lists import saved_view_list_url
from crm.models import Notification, SavedView
from crm.pagination import paginate
from crm.phones import normalize_phone
from crm.search import search
from crm.visibility import with_visibility_flag

AUTOCOMPLETE_LIMIT = 20


def search_view(request):
    results = search(request.user, request.GET.get("q", ""))
    if request.htmx:
        return render(request, "crm/search.html#results", {"results": results, "dropdown": True})
    return render(request, "crm/search.html", {"results": results})


def autocomplete_accounts(request):
    term = request.GET.get("q", "").strip()
    accounts = Account.objects.visible_to(request.user)
    if term:
        accounts = accounts.filter(name__icontains=term)
    rows = accounts.order_by("name", "id").values("id", "name", "city")[:AUTOCOMPLETE_LIMIT]
    return JsonResponse({"results": [
        {"id": row["id"], "text": row["name"] + (f" · {row['city']}" if row["city"] else "")} for row in rows]})


def autocomplete_contacts(request):
    term = request.GET.get("q", "").strip()
    contacts = with_visibility_flag(Contact.objects.visible_to(request.user).select_related("account"),
                                    request.user, "account")
    if term:
        contacts = contacts.filter(full_name__icontains=term)
    if request.GET.get("account", "").isdigit():
        contacts = contacts.filter(account_id=int(request.GET["account"]))
    rows = contacts.order_by("last_name", "id")[:AUTOCOMPLETE_LIMIT]
    return JsonResponse({"results": [
        {"id": c.pk, "text": str(c) + (f" · {c.account}" if c.account_visible else ""),
         "account": c.account_id if c.account_visible else None,
         "account_text": str(c.account) if c.account_visible else ""} for c in rows]})


def lookup_phone(request):
    """Caller lookup: contacts and accounts with this number, typed in any format."""
    e164 = normalize_phone(request.GET.get("phone", ""))
    if not e164:
        return JsonResponse({"phone": None, "results": []})
    contacts = with_visibility_flag(Contact.objects.visible_to(request.user).with_phone(e164)
                                    .select_related("account"), request.user, "account")[:10]
    accounts = Account.objects.visible_to(request.user).filter(phone_e164=e164)[:10]
    results = [{"contact": c.pk, "contact_text": str(c), "account": c.account_id if c.account_visible else None,
                "account_text": str(c.account) if c.account_visible else ""} for c in contacts]
    results += [{"contact": None, "contact_text": "", "account": a.pk, "account_text": str(a)} for a in accounts]
    return JsonResponse({"phone": e164, "results": results})


def duplicates_check(request):
    """htmx: possible duplicates of the account or contact being typed into a form."""
    data = request.POST if request.method == "POST" else request.GET
    exclude = int(data["record_id"]) if data.get("record_id", "").isdigit() else None
    if data.get("entity") == "account":
        matches = duplicates.account_duplicates(
            user=request.user, name=data.get("name", ""), tax_number=data.get("tax_number", ""),
            phone_e164=normalize_phone(data.get("phone", "")) or "", email=data.get("email", ""),
            exclude_pk=exclude)
    else:
        emails = _lenient(MultiEmailField(), data.get("emails", ""))
        phones = _lenient(MultiPhoneField(), data.get("phones", ""))
        full_name = " ".join(data.get(part, "").strip() for part in ("first_name", "middle_name", "last_name"))
        matches = duplicates.contact_duplicates(user=request.user, full_name=full_name, emails=emails,
                                                phones=phones, exclude_pk=exclude)
    return render(request, "components/duplicates.html", {"matches": matches})


def _lenient(field, raw: str) -> list[str]:
    """Parse what can be parsed while the user is still typing."""
    values = []
    for part in raw.replace(";", ",").replace("\n", ",").split(","):
        try:
            values += field.to_python(part)
        except Exception:  # noqa: BLE001, S112 - half-typed values are simply not checked yet
            continue
    return values


@require_POST
def saved_view_save(request):
    target = request.POST.get("target", "")
    name = request.POST.get("name", "").strip()[:80]
    list_url = saved_view_list_url(target)
    if list_url is None:
        raise Http404
    query = list_tools.clean_query(request.POST.get("query", ""))
    if not name:
        messages.error(request, _("Give the view a name."))
    else:
        SavedView.objects.create(user=request.user, target=target, name=name, query=query,
                                 shared=request.POST.get("shared") == "on")
        messages.success(request, _("View “%(name)s” saved.") % {"name": name})
    return redirect(list_url + ("?" + query if query else ""))


@require_POST
def saved_view_delete(request, pk: int):
    view = SavedView.objects.filter(user=request.user, pk=pk).first()
    if view is None:
        raise Http404
    view.delete()
    messages.success(request, _("View “%(name)s” deleted.") % {"name": view.name})
    return redirect(saved_view_list_url(view.target) or "home")


def notification_list(request):
    page = paginate(Notification.objects.filter(user=request.user).order_by("-created_at", "-id"),
                    request.GET.get("page"), per_page=30)
    return render(request, "crm/notifications.html", {"page": page})


@require_POST
def notification_open(request, pk: int):
    notification = Notification.objects.filter(user=request.user, pk=pk).first()
    if notification is None:
        return redirect("notifications")
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return redirect(notification.url or "notifications")


@require_POST
def notification_read_all(request):
    count = Notification.objects.filter(user=request.user, read_at__isnull=True).update(read_at=timezone.now())
    messages.success(request, _("%(count)s notifications marked as read.") % {"count": count})
    return redirect("notifications")
