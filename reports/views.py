"""The Service and Reports section pages: figures read across the modules. The service module
replaces its page when it lands (marketing has its own overview); reports grows into dashboards (issue 12)."""

from django.db.models import Count
from django.shortcuts import render

from accounts.models import Account, AccountType


def _accounts_by(user, field: str, limit: int = 12):
    return list(
        Account.objects.visible_to(user).values(field).annotate(total=Count("id")).order_by("-total")[:limit]
    )




def section_reports(request):
    by_owner = list(
        Account.objects.visible_to(request.user)
        .values("owner__first_name", "owner__last_name", "owner__email")
        .annotate(total=Count("id"))
        .order_by("-total")[:20]
    )
    by_type = _accounts_by(request.user, "type")
    labels = dict(AccountType.choices)
    chart = {
        "labels": [str(labels.get(row["type"], row["type"])) for row in by_type],
        "values": [row["total"] for row in by_type],
    }
    return render(request, "reports/section_reports.html", {"by_owner": by_owner, "chart": chart})
