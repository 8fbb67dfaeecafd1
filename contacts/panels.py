"""What contacts add to other modules' record pages (crm/panels.py): the people of an account."""

from django.db.models import Count, Window
from django.urls import reverse

from contacts.models import Contact
from crm import panels
from crm.visibility import can_create

ROWS = 20


def account_contacts_probe(request, account):
    return Contact.objects.visible_to(request.user).filter(account=account)


@panels.register("accounts.account", slot=panels.SIDE, order=10, probe=account_contacts_probe)
def account_contacts(request, account, page):
    rows = []
    if panels.has_rows(page, account_contacts_probe):
        rows = list(Contact.objects.visible_to(request.user).filter(account=account)
                    .annotate(panel_total=Window(Count("id"))).order_by("last_name", "id")[:ROWS])
    return panels.Rendered("contacts/panels/account_contacts.html", {
        "contacts": rows, "total": rows[0].panel_total if rows else 0,
        "list_url": f"{reverse('contacts:list')}?account={account.pk}",
        "can_add": can_create(request.user, Contact),
    })
