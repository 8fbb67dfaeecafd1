"""The contact search select (/autocomplete/contacts/): JSON over the visibility policy; a
contact's account is named only when the user may see it."""

from django.http import JsonResponse

from contacts.models import Contact
from crm.visibility import with_visibility_flag

AUTOCOMPLETE_LIMIT = 20


def autocomplete(request):
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
