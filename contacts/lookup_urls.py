"""Contact URLs outside /contacts/ (included at the root by crm/urls.py): the names are
global because forms across the modules use them."""

from django.urls import path

from contacts import lookups

urlpatterns = [
    path("autocomplete/contacts/", lookups.autocomplete, name="autocomplete_contacts"),
]
