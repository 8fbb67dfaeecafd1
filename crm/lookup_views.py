"""Search, the caller lookup, duplicate checks, saved views and notifications: every read
goes through the visibility policy. The modules' search selects live in the modules
(accounts/lookups.py, contacts/lookups.py)."""

from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm import duplicates, list_tools, search, security
from crm.lists import saved_view_list_url
from crm.models import Notification, SavedView, SecurityEventKind
from crm.pagination import paginate
from crm.phones import phone_candidates, search_regions


def search_view(request):
    results = search.search(request.user, request.GET.get("q", ""))
    if request.htmx:
        return render(request, "crm/search.html#results", {"results": results, "dropdown": True})
    return render(request, "crm/search.html", {"results": results})


def lookup_phone(request):
    """Caller lookup: who has this number, typed in any format, over every search provider that
    matches phones (contacts, accounts, leads). Each hit names the records it fills in on the
    call form; a linked record the user may not see is left out."""
    numbers = phone_candidates(request.GET.get("phone", ""), search_regions(request.user))
    if not numbers:
        return JsonResponse({"phone": None, "results": []})
    results, e164 = [], numbers[0]
    hits = search.caller_lookup(request.user, e164)
    if not hits and len(numbers) > 1:
        # Read in the user's country it is nobody's: perhaps a Russian "8 9xx…" typed by a UK agent.
        hits = search.caller_lookup(request.user, numbers[1:])
        if hits:
            e164 = numbers[1]
    for hit in hits:
        row = {"text": hit.text}
        for name in ("contact", "account", *hit.links):
            pk, text = hit.links.get(name, (None, ""))
            row[name], row[f"{name}_text"] = pk, text
        results.append(row)
    return JsonResponse({"phone": e164, "results": results})


def duplicates_check(request):
    """htmx: possible duplicates of the record being typed into a form; the module that owns
    the form registered the check (`entity`: account, contact…)."""
    data = request.POST if request.method == "POST" else request.GET
    if not security.duplicate_check_allowed(request.user):
        # The check tells a user that hidden records exist (docs/security.md, "The duplicate
        # check"): a script must not walk it through every tax number or phone.
        # htmx swaps only 2xx answers into the form; a script gets the 429.
        return render(request, "components/duplicates.html", {"limited": True}, status=200 if request.htmx else 429)
    exclude = int(data["record_id"]) if data.get("record_id", "").isdigit() else None
    entity = data.get("entity", "")
    check = duplicates.entry_check(entity)
    matches = check(request.user, data, exclude) if check else []
    hidden = [match for match in matches if match.hidden]
    if hidden:
        security.log(SecurityEventKind.HIDDEN_DUPLICATE, request=request, user=request.user, entity=entity,
                     matches=[f"{match.kind}:{match.pk}" for match in hidden],
                     reasons=sorted({reason for match in hidden for reason in match.reasons})[:10])
    return render(request, "components/duplicates.html", {"matches": matches})


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
    notification = get_object_or_404(Notification, user=request.user, pk=pk)  # another user's: 404
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return redirect(notification.url or "notifications")


@require_POST
def notification_read_all(request):
    count = Notification.objects.filter(user=request.user, read_at__isnull=True).update(read_at=timezone.now())
    messages.success(request, _("%(count)s notifications marked as read.") % {"count": count})
    return redirect("notifications")
