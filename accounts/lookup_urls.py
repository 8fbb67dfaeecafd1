"""Account URLs outside /accounts/ (included at the root by crm/urls.py): the names are
global because forms across the modules use them."""

from django.urls import path

from accounts import lookups

urlpatterns = [
    path("autocomplete/accounts/", lookups.autocomplete, name="autocomplete_accounts"),
]
