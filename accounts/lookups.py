"""The account search select (/autocomplete/accounts/): JSON over the visibility policy."""

from django.http import JsonResponse

from accounts.models import Account

AUTOCOMPLETE_LIMIT = 20


def autocomplete(request):
    term = request.GET.get("q", "").strip()
    accounts = Account.objects.visible_to(request.user)
    if term:
        accounts = accounts.filter(name__icontains=term)
    rows = accounts.order_by("name", "id").values("id", "name", "city")[:AUTOCOMPLETE_LIMIT]
    return JsonResponse({"results": [
        {"id": row["id"], "text": row["name"] + (f" · {row['city']}" if row["city"] else "")} for row in rows]})
