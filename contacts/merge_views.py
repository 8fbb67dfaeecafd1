"""The contact merge page (/contacts/<pk>/merge/): the pages are crm/merge_views.py's."""

from django.views.decorators.http import require_http_methods

from contacts import duplicates
from contacts.merge import CONTACTS, contacts_merge
from crm.merge_views import MergePage, merge_view

CONTACT_PAGE = MergePage(CONTACTS, contacts_merge, "contacts:merge", "autocomplete_contacts", "contacts",
                         duplicates.duplicates_of)


@require_http_methods(["GET", "POST"])
def contact_merge(request, pk: int):
    return merge_view(request, pk, CONTACT_PAGE)
