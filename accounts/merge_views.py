"""The account merge page (/accounts/<pk>/merge/): the pages are crm/merge_views.py's."""

from django.views.decorators.http import require_http_methods

from accounts import duplicates
from accounts.merge import ACCOUNTS, accounts_merge
from crm.merge_views import MergePage, merge_view

ACCOUNT_PAGE = MergePage(ACCOUNTS, accounts_merge, "accounts:merge", "autocomplete_accounts", "accounts",
                         duplicates.duplicates_of)


@require_http_methods(["GET", "POST"])
def account_merge(request, pk: int):
    return merge_view(request, pk, ACCOUNT_PAGE)
