from django.shortcuts import render

from sales.models import Opportunity


def opportunity_list(request):
    rows = Opportunity.objects.visible_to(request.user).select_related("account", "stage", "owner")[:50]
    return render(request, "sales/opportunity_list.html", {"rows": rows})
